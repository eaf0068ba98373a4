// Child process of bench/watch-memory.ts: opens N watches on ConfigMaps, each on its own TLS
// connection (as N informers in N processes would), spread over loopback source addresses (the server
// caps watches per client: address + credential), and reports on stdout:
//   open <n> <refused>       once every watch has its headers (refused: 429s)
//   seen <n> <ms>            after `event` on stdin, when n watchers got the event (ms since the line)
// Usage: node --import tsx bench/watch-clients.ts KUBECONFIG N SOURCES

import https from 'node:https';
import readline from 'node:readline';
import { loadConnection } from '../src/client/kubeconfig.js';

const [kubeconfig, nArg, sourcesArg] = process.argv.slice(2);
const N = Number(nArg);
const SOURCES = Number(sourcesArg ?? 2);
const conn = loadConnection(kubeconfig);
const url = new URL(conn.server);

let opened = 0;
let refused = 0;
let seen = 0;
let eventAt = 0;
let want = '';
const sockets: import('node:http').ClientRequest[] = [];

function open(i: number): Promise<void> {
  return new Promise((resolve) => {
    const req = https.request(
      {
        host: url.hostname,
        port: url.port,
        path: `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${process.env.WATCH_RV ?? ''}`,
        ca: conn.caPem,
        agent: false,
        localAddress: `127.0.0.${1 + (i % SOURCES)}`,
        headers: { Authorization: `Bearer ${conn.token}` },
      },
      (res) => {
        if (res.statusCode !== 200) {
          refused++;
          res.resume();
          resolve();
          return;
        }
        opened++;
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buf += d;
          if (want && buf.includes(want)) {
            buf = '';
            seen++;
            if (seen === opened) process.stdout.write(`seen ${seen} ${(performance.now() - eventAt).toFixed(1)}\n`);
          } else if (buf.length > 1 << 16) buf = buf.slice(-1024);
        });
        resolve();
      },
    );
    req.on('error', () => {
      refused++;
      resolve();
    });
    req.end();
    sockets.push(req);
  });
}

// A few handshakes at a time: 10,000 at once would only measure the TLS queue.
const PARALLEL = 64;
let next = 0;
await Promise.all(
  Array.from({ length: PARALLEL }, async () => {
    while (next < N) await open(next++);
  }),
);
process.stdout.write(`open ${opened} ${refused}\n`);

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, arg] = line.split(' ');
  if (cmd === 'event') {
    want = arg;
    seen = 0;
    eventAt = performance.now();
  } else if (cmd === 'exit') process.exit(0);
});
