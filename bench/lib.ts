// Shared by the benchmark scripts: start a real server process (the built binary), measure its RSS,
// and write a figure's section into BENCHMARKS.md between markers, with the command that produced it.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpClient } from '../src/client/http-client.js';
import { loadConnection } from '../src/client/kubeconfig.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BENCH_FILE = path.join(ROOT, 'BENCHMARKS.md');

export interface BenchServer {
  proc: ChildProcess;
  client: HttpClient;
  dataDir: string;
  kubeconfig: string;
  stop(): Promise<void>;
}

/** Starts `node dist/cli/main.js server` (run `npm run build` first) on a fresh data dir. */
export async function startBenchServer(args: string[], opts: { dataDir?: string; instance?: string; root?: string } = {}): Promise<BenchServer> {
  // `root`: another checkout's build (a "before" figure measured in the same run).
  const root = opts.root ?? ROOT;
  const bin = path.join(root, 'bin/kubelite');
  if (!fs.existsSync(path.join(root, 'dist/cli/main.js'))) throw new Error(`${root}/dist/cli/main.js is missing: run \`npm run build\` there first`);
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-bench-'));
  const kubeconfig = path.join(dataDir, 'kubeconfig');
  fs.rmSync(kubeconfig, { force: true });
  const proc = spawn(bin, ['server', '--data-dir', dataDir, '--api-port', '0', '--instance', opts.instance ?? 'b40', '--log-level', 'warn', ...(args.includes('--upstream-dns') ? [] : ['--upstream-dns', '127.0.0.1:9']), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
  const deadline = Date.now() + 60_000;
  while (!fs.existsSync(kubeconfig)) {
    if (proc.exitCode !== null) throw new Error(`server exited: ${err}`);
    if (Date.now() > deadline) throw new Error(`server did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  let client = new HttpClient(loadConnection(kubeconfig));
  while ((await client.raw('GET', '/readyz').catch(() => ({ status: 0 }))).status !== 200) {
    if (Date.now() > deadline) throw new Error(`server not ready: ${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  // Read the kubeconfig again: a server that joined an etcd cluster now uses the cluster's CA and token.
  client.close();
  client = new HttpClient(loadConnection(kubeconfig));
  return {
    proc,
    client,
    dataDir,
    kubeconfig,
    async stop() {
      client.close();
      // A server killed by a signal has a null exitCode too: only wait for one still running.
      if (proc.exitCode === null && proc.signalCode === null) {
        const done = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await done;
      }
    },
  };
}

export function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

export const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Replaces (or appends) the section `id` of BENCHMARKS.md. */
export function writeSection(id: string, title: string, command: string, body: string): void {
  const begin = `<!-- bench:${id} -->`;
  const end = `<!-- /bench:${id} -->`;
  const section = `${begin}\n### ${title}\n\nMeasured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), Node ${process.version}.\nCommand: \`${command}\`\n\n${body.trim()}\n${end}`;
  let text = fs.existsSync(BENCH_FILE) ? fs.readFileSync(BENCH_FILE, 'utf8') : '# Benchmarks\n\nEvery figure here is written by a script in `bench/`; rerun the command shown to refresh it.\n';
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  text = a >= 0 && b > a ? text.slice(0, a) + section + text.slice(b + end.length) : `${text.trimEnd()}\n\n${section}\n`;
  fs.writeFileSync(BENCH_FILE, text);
  process.stdout.write(section + '\n');
}
