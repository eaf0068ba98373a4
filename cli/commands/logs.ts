// `kubelite logs POD [-c C] [-f] [--tail N] [--previous] [--timestamps]`: streams pods/log to stdout,
// as kubectl does (including its default container when a Pod has several).

import https from 'node:https';
import http from 'node:http';
import type { Command } from 'commander';
import type { Pod, Status } from '../../src/api/types.js';
import { R } from '../../src/api/resources.js';
import { StatusError } from '../../src/api/errors.js';
import { resourcePath } from '../../src/client/http-client.js';
import type { Connection } from '../../src/client/kubeconfig.js';
import { checkName, CliError, cliContext, run, type GlobalOptions } from '../context.js';

interface LogsOptions extends GlobalOptions {
  container?: string;
  follow?: boolean;
  tail?: string;
  previous?: boolean;
  timestamps?: boolean;
  since?: string;
  limitBytes?: string;
}

/** TLS and auth options for a raw request or a WebSocket to the API server. */
export function connectionOptions(conn: Connection): { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean; headers: Record<string, string> } {
  return {
    ca: conn.caPem,
    cert: conn.clientCertPem,
    key: conn.clientKeyPem,
    rejectUnauthorized: !conn.insecureSkipTLSVerify,
    headers: conn.token ? { Authorization: `Bearer ${conn.token}` } : {},
  };
}

/** A StatusError from an error response's body (or a plain one when it is not a Status). */
export function statusFromBody(code: number, body: string): StatusError {
  try {
    const st = JSON.parse(body) as Status;
    if (st.kind === 'Status') return new StatusError({ ...st, message: st.message ?? `HTTP ${code}`, code: st.code ?? code });
  } catch {
    /* not JSON */
  }
  return new StatusError({ code, reason: 'Unknown', message: `the server responded with HTTP ${code}: ${body.slice(0, 200)}` });
}

/** GET a streaming path; resolves with the response once the status is 2xx, rejects with its Status otherwise. */
export function openStream(conn: Connection, path: string): Promise<http.IncomingMessage> {
  const url = new URL(conn.server);
  const mod = url.protocol === 'https:' ? https : http;
  const o = connectionOptions(conn);
  return new Promise((resolve, reject) => {
    const req = mod.request(
      { method: 'GET', host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || (url.protocol === 'https:' ? 443 : 80), path, ca: o.ca, cert: o.cert, key: o.key, rejectUnauthorized: o.rejectUnauthorized, headers: { ...o.headers, Accept: 'text/plain, */*', 'User-Agent': 'kubelite-cli' }, agent: false },
      (res) => {
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) return resolve(res);
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => reject(statusFromBody(code, body)));
      },
    );
    req.on('error', (err) => reject((err as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? new Error(`The connection to the server ${url.host} was refused - is \`kubelite server\` running?`) : err));
    req.end();
  });
}

/** `5s`, `2m`, `1h`, `1h30m` -> seconds. */
export function parseSince(s: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(s.trim());
  if (!m || s.trim() === '' || (!m[1] && !m[2] && !m[3])) throw new CliError(`error: invalid argument "${s}" for "--since" flag: expected a duration like 10s, 5m or 1h`);
  const secs = Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  if (secs <= 0) throw new CliError('error: --since must be greater than 0');
  return secs;
}

/** kubectl's choice when -c is not given: the annotated default container, else the first one. */
export function defaultContainer(pod: Pod, requested: string | undefined): { name: string; note?: string } {
  if (requested) return { name: requested };
  const names = pod.spec.containers.map((c) => c.name);
  if (names.length <= 1) return { name: names[0] ?? '' };
  const annotated = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  const name = annotated && names.includes(annotated) ? annotated : names[0];
  return { name, note: `Defaulted container "${name}" out of: ${names.join(', ')}` };
}

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description("Print a container's logs: kubelite logs POD [-c CONTAINER] [-f] [--tail N] [--previous]")
    .argument('<pod>', 'pod name (or pod/NAME)')
    .option('-c, --container <name>', 'container name (default: the only one, or the first)')
    .option('-f, --follow', 'stream new lines until the container exits')
    .option('--tail <lines>', 'only the last N lines')
    .option('-p, --previous', 'the previous (terminated) instance of the container')
    .option('--timestamps', 'prefix each line with its RFC 3339 timestamp')
    .option('--since <duration>', 'only lines newer than this (5s, 2m, 1h)')
    .option('--limit-bytes <n>', 'stop after this many bytes')
    .action((podArg: string, _o: unknown, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<LogsOptions>();
        const name = checkName(R.pods, podArg.replace(/^(pods?|po)\//, ''));
        if (name.includes('/')) throw new CliError(`error: kubelite logs works on pods: got ${JSON.stringify(podArg)}`);
        const { client, namespace } = cliContext(opts);
        const q = new URLSearchParams();
        const pod = await client.get<Pod>(R.pods, namespace, name);
        const chosen = defaultContainer(pod, opts.container);
        if (chosen.note) process.stderr.write(chosen.note + '\n');
        if (chosen.name) q.set('container', chosen.name);
        if (opts.follow) q.set('follow', 'true');
        if (opts.previous) q.set('previous', 'true');
        if (opts.timestamps) q.set('timestamps', 'true');
        if (opts.tail !== undefined) {
          const n = Number(opts.tail);
          if (!Number.isInteger(n)) throw new CliError(`error: invalid argument "${opts.tail}" for "--tail" flag`);
          if (n >= 0) q.set('tailLines', String(n));
        }
        if (opts.since) q.set('sinceSeconds', String(parseSince(opts.since)));
        if (opts.limitBytes) q.set('limitBytes', opts.limitBytes);
        const res = await openStream(client.conn, `${resourcePath(R.pods, namespace, name, 'log')}?${q}`);
        await new Promise<void>((resolve, reject) => {
          res.on('data', (chunk: Buffer) => process.stdout.write(chunk));
          res.on('end', resolve);
          res.on('error', reject);
          res.on('aborted', () => resolve());
        });
        client.close();
      }),
    );
}
