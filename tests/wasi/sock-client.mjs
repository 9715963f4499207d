// sock-client.mjs — the other end for cli_sock.c: connects to PORT (retrying
// while pylon starts), sends "ping\n", reads until the guest shuts down its
// side, answers "bye", closes, and prints what it received.
import { connect } from 'node:net';
const port = Number(process.argv[2]);
let tries = 0, got = '';
function attempt() {
  const s = connect({ port, host: '127.0.0.1' });
  s.on('connect', () => s.write('ping\n'));
  s.on('data', (d) => { got += d; });
  s.on('end', () => { s.end('bye'); });
  s.on('close', () => { process.stdout.write(`received: ${JSON.stringify(got)}\n`); });
  s.on('error', (e) => {
    if (e.code === 'ECONNREFUSED' && ++tries < 100) setTimeout(attempt, 50);
    else { process.stdout.write(`client error: ${e.code}\n`); process.exitCode = 1; }
  });
}
attempt();
