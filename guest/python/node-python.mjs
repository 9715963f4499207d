#!/usr/bin/env node
// node-python.mjs: run python.wasm under Node's node:wasi (WASI preview 1),
// a second opinion next to Pylon's own runtime (differential tests, smoke
// tests of the build).
//
//   node guest/python/node-python.mjs [options] [--] [python arguments...]
//
// Options (they come first; the first argument that is not one of them, or
// everything after `--`, goes to python):
//   --build DIR         where python.wasm and lib/python3.11 are
//                       (default: $PYLON_PYTHON_BUILD or <repo>/build/python)
//   --wasm FILE         the python.wasm to run (default: DIR/python.wasm)
//   --dir HOST[:GUEST]  also preopen host directory HOST at guest path GUEST
//                       (default: the same path); repeatable
//   --env NAME=VALUE    set a variable in python's environment; repeatable
//   --argv0 NAME        python's argv[0] (default: python3.11)
//
// What the guest sees:
//   /usr/lib/python3.11 the stdlib (DIR/lib/python3.11), preopened
//   PYTHONHOME=/usr     so sys.prefix is "/usr" and the stdlib is
//                       /usr/lib/python3.11 (python.wasm is configured
//                       with --prefix=/usr: this only makes the default
//                       explicit)
//   nothing else: no other directory, no environment from the host.
// The exit status is python's.  A trap prints the JavaScript error and exits
// with status 134.
//
// Node 20 needs --no-turbo-fast-api-calls (V8 fast API calls corrupt the
// heap with large wasm memories); this script re-executes node with it when
// it is missing, and hides the ExperimentalWarning of node:wasi.
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_FLAGS = ['--no-turbo-fast-api-calls', '--disable-warning=ExperimentalWarning'];
const self = fileURLToPath(import.meta.url);

if (!process.execArgv.includes('--no-turbo-fast-api-calls')) {
  const r = spawnSync(process.execPath,
    [...NODE_FLAGS, ...process.execArgv, self, ...process.argv.slice(2)],
    { stdio: 'inherit' });
  if (r.error) throw r.error;
  process.exit(r.status ?? 128 + 9);
}

const { WASI } = await import('node:wasi');

function usage(msg) {
  if (msg) process.stderr.write(`node-python: ${msg}\n`);
  process.stderr.write('usage: node-python.mjs [--build DIR] [--wasm FILE] [--dir HOST[:GUEST]]... ' +
    '[--env NAME=VALUE]... [--argv0 NAME] [--] [python args...]\n');
  process.exit(2);
}

const repo = path.resolve(path.dirname(self), '..', '..');
let build = process.env.PYLON_PYTHON_BUILD || path.join(repo, 'build', 'python');
let wasm = null;
let argv0 = 'python3.11';
const dirs = [];
const env = { PYTHONHOME: '/usr' };

const args = process.argv.slice(2);
let i = 0;
for (; i < args.length; i++) {
  const a = args[i];
  const value = () => (i + 1 < args.length ? args[++i] : usage(`${a} needs a value`));
  if (a === '--') { i++; break; }
  else if (a === '--build') build = value();
  else if (a === '--wasm') wasm = value();
  else if (a === '--argv0') argv0 = value();
  else if (a === '--dir') {
    const v = value();
    const colon = v.indexOf(':');
    const host = colon < 0 ? v : v.slice(0, colon);
    const guest = colon < 0 ? v : v.slice(colon + 1);
    dirs.push([path.resolve(host), guest]);
  } else if (a === '--env') {
    const v = value();
    const eq = v.indexOf('=');
    if (eq <= 0) usage(`--env wants NAME=VALUE, got ${v}`);
    env[v.slice(0, eq)] = v.slice(eq + 1);
  } else break;
}
const pyArgs = args.slice(i);

wasm = wasm ?? path.join(build, 'python.wasm');
const stdlib = path.join(build, 'lib', 'python3.11');
if (!existsSync(wasm)) usage(`no ${wasm} (build it with: make python)`);
if (!existsSync(path.join(stdlib, 'os.py'))) usage(`no stdlib in ${stdlib}`);

const preopens = { '/usr/lib/python3.11': stdlib };
for (const [host, guest] of dirs) preopens[guest] = host;

const wasi = new WASI({
  version: 'preview1',
  args: [argv0, ...pyArgs],
  env,
  preopens,
  returnOnExit: true,
});

// Node has no compose:dynlink host: every resolve is refused the way
// `pylon run` without --plan refuses it (exec-capability-denied, code 12),
// so python.wasm links and `import crc32c` raises instead of crashing.
let instance;
const denied = (ret) => {
  const v = new DataView(instance.exports.memory.buffer);
  v.setUint8(ret, 1);            // result tag: err
  v.setUint8(ret + 4, 12);       // error.code: exec-capability-denied
  v.setUint32(ret + 8, 0, true); // message: empty
  v.setUint32(ret + 12, 0, true);
  v.setUint8(ret + 16, 0);       // context: none
};
const linker = {
  'resolve-by-id': (p, l, ret) => denied(ret),
  'resolve-by-digest': (p, l, ret) => denied(ret),
  '[method]instance.invoke': (h, mp, ml, pp, pl, ret) => denied(ret),
  '[resource-drop]instance': () => {},
};

let status;
try {
  const module = await WebAssembly.compile(await readFile(wasm));
  instance = await WebAssembly.instantiate(module,
    { ...wasi.getImportObject(), 'compose:dynlink/linker@0.1.0': linker });
  status = wasi.start(instance);
} catch (e) {
  process.stderr.write(`node-python: ${e && e.stack ? e.stack : e}\n`);
  status = 134;
}
process.exitCode = status;
