// Drives a DNS server with dnsperf and reads back throughput and latency percentiles. A library: the
// DNS benchmark uses it, and so can the "API p99 with and without DNS load" benchmark of the full
// server (start runDnsLoad, measure the API meanwhile, await the result).
//
// Only ever points at a server on this machine: loopback unless the caller passes
// allowNonLoopback for a VIP that kubelite routes to a local device.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

export interface DnsLoadOptions {
  server: string;
  port: number;
  /** Lines of `name TYPE`, or a prepared dnsperf data file. */
  queries?: string[];
  queryFile?: string;
  durationSec: number;
  /** dnsperf -Q: a fixed offered rate; omit to saturate. */
  maxQps?: number;
  /** dnsperf -c (sockets) */
  clients?: number;
  /** dnsperf -q (outstanding queries) */
  outstanding?: number;
  /** Pin dnsperf to this CPU with taskset (keep it off the server's core). */
  cpu?: number;
  /** Record every query's latency (dnsperf -v) for percentiles. Costs dnsperf some throughput. */
  percentiles?: boolean;
  /** dnsperf -e */
  edns?: boolean;
  /** dnsperf -m tcp */
  tcp?: boolean;
  allowNonLoopback?: boolean;
  /** Aborts the run early. */
  signal?: AbortSignal;
}

export interface DnsLoadResult {
  command: string;
  sent: number;
  completed: number;
  lost: number;
  qps: number;
  avgMs: number;
  minMs: number;
  maxMs: number;
  p50Ms?: number;
  p90Ms?: number;
  p99Ms?: number;
  p999Ms?: number;
  rcodes: Record<string, number>;
}

export async function runDnsLoad(opts: DnsLoadOptions): Promise<DnsLoadResult> {
  if (!opts.allowNonLoopback && !/^127\./.test(opts.server) && opts.server !== '::1') {
    throw new Error(`runDnsLoad: ${opts.server} is not loopback; load goes only to servers on this machine (pass allowNonLoopback for a local VIP)`);
  }
  let dataFile = opts.queryFile;
  let tmpDir: string | undefined;
  if (!dataFile) {
    if (!opts.queries?.length) throw new Error('runDnsLoad: queries or queryFile is required');
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dnsperf-'));
    dataFile = path.join(tmpDir, 'queries.txt');
    fs.writeFileSync(dataFile, `${opts.queries.join('\n')}\n`);
  }
  const args = ['-s', opts.server, '-p', String(opts.port), '-d', dataFile, '-l', String(opts.durationSec), '-c', String(opts.clients ?? 4), '-q', String(opts.outstanding ?? 200), '-t', '2'];
  if (opts.maxQps) args.push('-Q', String(opts.maxQps));
  if (opts.edns) args.push('-e');
  if (opts.tcp) args.push('-m', 'tcp');
  if (opts.percentiles) args.push('-v');
  const [cmd, argv] = opts.cpu !== undefined ? ['taskset', ['-c', String(opts.cpu), 'dnsperf', ...args]] : ['dnsperf', args];
  const command = [cmd, ...argv].join(' ');

  // dnsperf's per-query lines go to a file, parsed after the run: reading 20,000 lines a second in
  // this process would steal CPU from a server that may share it.
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dnsperf-out-'));
  const outFile = path.join(outDir, 'stdout.txt');
  const outFd = fs.openSync(outFile, 'w');
  let code: number | null;
  let stderr = '';
  try {
    const child = spawn(cmd, argv, { stdio: ['ignore', outFd, 'pipe'], signal: opts.signal });
    child.stderr?.on('data', (d) => (stderr += d));
    code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
  } finally {
    fs.closeSync(outFd);
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  }
  let lat = new Float64Array(1 << 16);
  let n = 0;
  const stats: string[] = [];
  const rl = readline.createInterface({ input: fs.createReadStream(outFile) });
  for await (const line of rl) {
    if (line.startsWith('> ')) {
      const v = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (!Number.isFinite(v)) continue;
      if (n === lat.length) {
        const bigger = new Float64Array(lat.length * 2);
        bigger.set(lat);
        lat = bigger;
      }
      lat[n++] = v * 1000;
    } else {
      stats.push(line);
    }
  }
  fs.rmSync(outDir, { recursive: true, force: true });
  const text = stats.join('\n');
  if (code !== 0 || !/Queries per second/.test(text)) throw new Error(`dnsperf failed (${code}): ${stderr || text}`);

  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  const rcodes: Record<string, number> = {};
  for (const m of (/Response codes:\s+(.*)/.exec(text)?.[1] ?? '').matchAll(/([A-Z]+) (\d+)/g)) rcodes[m[1]] = Number(m[2]);
  const result: DnsLoadResult = {
    command,
    sent: num(/Queries sent:\s+(\d+)/),
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    qps: num(/Queries per second:\s+([\d.]+)/),
    avgMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    minMs: num(/Average Latency \(s\):.*min ([\d.]+)/) * 1000,
    maxMs: num(/Average Latency \(s\):.*max ([\d.]+)/) * 1000,
    rcodes,
  };
  if (n > 0) {
    const sorted = lat.subarray(0, n).sort();
    const pct = (p: number) => sorted[Math.min(n - 1, Math.floor((p / 100) * n))];
    result.p50Ms = pct(50);
    result.p90Ms = pct(90);
    result.p99Ms = pct(99);
    result.p999Ms = pct(99.9);
  }
  return result;
}
