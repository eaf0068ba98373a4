// Shared by the Ingress benchmarks: wrk runs parsed into numbers, Debian's nginx started by hand with
// a config of our choosing (the reference the Ingress is measured against), and small HTTP probes.
// Everything listens on and talks to loopback or local bridges only.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const NGINX = '/usr/sbin/nginx';

export interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  socketErrors: number;
  /** `connect/read/write/timeout`, as wrk counts them */
  socketDetail: string;
}

function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(v.trim());
  if (!m) return NaN;
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'us' | 'ms' | 's' | 'm' | 'h'];
}

export function parseWrk(stdout: string): WrkResult {
  const num = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: toMs(/50%\s+(\S+)/.exec(stdout)?.[1] ?? ''),
    p99: toMs(/99%\s+(\S+)/.exec(stdout)?.[1] ?? ''),
    requests: num(/(\d+) requests in/),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    socketErrors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    socketDetail: sock ? sock.slice(1).join('/') : '0/0/0/0',
  };
}

/** wrk with keep-alive (its default) against 127.0.0.1:port with a Host header. */
export async function wrk(port: number, host: string, seconds: number, connections: number, urlPath = '/'): Promise<WrkResult> {
  const { stdout } = await run('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-H', `Host: ${host}`, `http://127.0.0.1:${port}${urlPath}`], { maxBuffer: 1 << 20 });
  return parseWrk(stdout);
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, host, r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export async function waitPort(host: string, port: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, host, () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    await sleep(10);
  }
  throw new Error(`${host}:${port} never listened`);
}

/** An nginx in the foreground with its own prefix under `work` and the given http{} body. */
export async function startNginx(work: string, name: string, body: string, listen: { ip: string; port: number }[], workers: number | 'auto' = 'auto'): Promise<ChildProcess> {
  const prefix = path.join(work, name);
  fs.mkdirSync(path.join(prefix, 'logs'), { recursive: true });
  const conf = path.join(prefix, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `worker_processes ${workers};
daemon off;
error_log ${prefix}/logs/error.log warn;
pid ${prefix}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000;
${body}
}
`,
  );
  const child = spawn(NGINX, ['-c', conf, '-p', prefix], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (const l of listen) await waitPort(l.ip, l.port);
  return child;
}

/** nginx as a hand-configured reverse proxy to fixed upstreams, as an operator would write it. */
export function nginxProxyConfig(listenPort: number, upstreams: { ip: string; port: number }[]): string {
  return `  upstream web { ${upstreams.map((u) => `server ${u.ip}:${u.port};`).join(' ')} keepalive 64; }
  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://web;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
    }
  }`;
}

export async function stopProcess(p: ChildProcess, signal: NodeJS.Signals = 'SIGQUIT'): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill(signal);
  await Promise.race([gone, sleep(5000)]);
  if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

/** Status of one GET on a fresh connection to 127.0.0.1:port (0 on a transport error). */
export function getStatus(port: number, host: string, urlPath = '/'): Promise<number> {
  return new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath, headers: { host }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', () => resolve(0));
  });
}

export async function versions(): Promise<{ haproxy: string; nginx: string }> {
  const haproxy = (await run('haproxy', ['-v'])).stdout.split(' ')[2] ?? '?';
  const nginx = (await run(NGINX, ['-v'])).stderr.trim().split('/')[1] ?? '?';
  return { haproxy, nginx };
}
