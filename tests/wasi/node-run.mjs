// node-run.mjs — runs a WASI command module under Node's node:wasi with the
// same command line as `pylon wasm run` (the subset the WASI tests use), so
// tests/groups/20-wasi.sh can diff the two runtimes.
//
//   node --no-turbo-fast-api-calls tests/wasi/node-run.mjs \
//        [--dir HOST[::GUEST]] [--ro-dir HOST[::GUEST]] [--env K=V] [--argv0 NAME] \
//        MODULE.wasm [ARGS...]
//
// node:wasi has no read-only preopens: --ro-dir is given to it read-write
// (see node-known-wrong.txt).  Exit status mirrors pylon's: the guest's exit
// code, 4 for a trap (with the message on stderr), 2 for a bad command line.
import { WASI } from 'node:wasi';
import { readFileSync } from 'node:fs';
import { argv, exit, stderr } from 'node:process';

const preopens = {};
const env = {};
let argv0 = null;
let i = 2;
for (; i < argv.length; i++) {
  const a = argv[i];
  if (!a.startsWith('--')) break;
  const v = argv[++i];
  if (v === undefined) { stderr.write(`node-run: ${a} needs a value\n`); exit(2); }
  if (a === '--dir' || a === '--ro-dir') {
    const [host, guest] = v.includes('::') ? v.split('::') : [v, v];
    preopens[guest] = host;
  } else if (a === '--env') {
    const eq = v.indexOf('=');
    if (eq <= 0) { stderr.write(`node-run: --env ${v}: expected NAME=VALUE\n`); exit(2); }
    env[v.slice(0, eq)] = v.slice(eq + 1);
  } else if (a === '--argv0') {
    argv0 = v;
  } else {
    stderr.write(`node-run: unknown option ${a}\n`); exit(2);
  }
}
if (i >= argv.length) { stderr.write('node-run: no module given\n'); exit(2); }
const module = argv[i];
const args = [argv0 ?? module, ...argv.slice(i + 1)];
const wasi = new WASI({ version: 'preview1', args, env, preopens, returnOnExit: true });
let code;
try {
  const mod = await WebAssembly.compile(readFileSync(module));
  // Guests built with caps (python.wasm) import the compose:dynlink linker;
  // like `pylon wasm run` without --plan, every resolve is refused
  // (exec-capability-denied, code 12).
  let inst;
  const denied = (ret) => {
    const v = new DataView(inst.exports.memory.buffer);
    v.setUint8(ret, 1); v.setUint8(ret + 4, 12);
    v.setUint32(ret + 8, 0, true); v.setUint32(ret + 12, 0, true); v.setUint8(ret + 16, 0);
  };
  const linker = {
    'resolve-by-id': (p, l, ret) => denied(ret),
    'resolve-by-digest': (p, l, ret) => denied(ret),
    '[method]instance.invoke': (h, mp, ml, pp, pl, ret) => denied(ret),
    '[resource-drop]instance': () => {},
  };
  inst = await WebAssembly.instantiate(mod,
    { ...wasi.getImportObject(), 'compose:dynlink/linker@0.1.0': linker });
  code = wasi.start(inst);
} catch (e) {
  stderr.write(`node-run: ${module} trapped: ${e && e.message}\n`);
  code = 4;
}
exit(code);
