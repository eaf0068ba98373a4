// The kernel's own traffic counts per Service endpoint: the packet and byte counters of the DNAT rule
// in each endpoint chain (`<S>-SEP-<hash>`) the iptables proxier writes (see render.ts). The nat table
// only sees the first packet of a connection, so `packets` is the number of new connections (or UDP
// flows) the kernel sent to that endpoint since the rule was written; `bytes` are those first packets'.
// Parsing is pure (`parseEndpointCounters`); `readIptablesEndpointCounters` is the thin adapter.

import type { HostNames } from '../config.js';
import { chainNames } from './names.js';
import { spawn } from 'node:child_process';
import type { ExecResult } from '../util/exec.js';
import { tokenizeRule } from './save-parse.js';

export interface EndpointCounter {
  namespace: string;
  service: string;
  /** The Service port's name, '' if unnamed. */
  port: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  /** ip:port */
  endpoint: string;
  packets: number;
  bytes: number;
}

const PROTOCOLS: Record<string, EndpointCounter['protocol']> = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' };
/** `[packets:bytes] -A CHAIN rest`, as `iptables-save -c` prints a rule. */
const COUNTED_RULE = /^\[(\d+):(\d+)\] -A (\S+) (.*)$/;
/** The rule comment of an endpoint chain: `ns/name:portName` (render.ts, sanitised names). */
const SERVICE_PORT = /^([^/]+)\/([^:]+):(.*)$/;

/**
 * Reads `iptables-save -c -t nat` output line by line (chunks may split lines anywhere), keeping only
 * the DNAT rules of one instance's endpoint chains: the whole nat table of a busy host is never held.
 */
export class EndpointCounterParser {
  private readonly isOwned: (chain: string) => boolean;
  private readonly sepPrefix: string;
  private readonly marker: string;
  private rest = '';
  private readonly out: EndpointCounter[] = [];

  constructor(names: HostNames) {
    this.isOwned = chainNames(names).isOwned;
    this.sepPrefix = `${names.shortChainPrefix}-SEP-`;
    this.marker = ` -A ${this.sepPrefix}`;
  }

  push(text: string): void {
    let start = 0;
    const all = this.rest + text;
    for (;;) {
      const nl = all.indexOf('\n', start);
      if (nl < 0) break;
      this.line(all.slice(start, nl));
      start = nl + 1;
    }
    this.rest = all.slice(start);
  }

  end(): EndpointCounter[] {
    if (this.rest) this.line(this.rest);
    this.rest = '';
    return this.out;
  }

  private line(raw: string): void {
    // Cheap test first: most lines of a busy nat table are not ours.
    if (raw.charCodeAt(0) !== 91 /* [ */ || !raw.includes(this.marker)) return;
    const m = COUNTED_RULE.exec(raw.trimEnd());
    if (!m) return;
    const chain = m[3];
    if (!chain.startsWith(this.sepPrefix) || !this.isOwned(chain)) return;
    let toks: string[];
    try {
      toks = tokenizeRule(m[4]);
    } catch {
      return;
    }
    const arg = (flag: string) => {
      const i = toks.indexOf(flag);
      return i >= 0 ? toks[i + 1] : undefined;
    };
    if (arg('-j') !== 'DNAT') return;
    const endpoint = arg('--to-destination');
    const sp = SERVICE_PORT.exec(arg('--comment') ?? '');
    const protocol = PROTOCOLS[(arg('-p') ?? '').toLowerCase()];
    if (!endpoint || !sp || !protocol) return;
    this.out.push({ namespace: sp[1], service: sp[2], port: sp[3], protocol, endpoint, packets: Number(m[1]), bytes: Number(m[2]) });
  }
}

/**
 * The per-endpoint DNAT counters of one instance's chains in `iptables-save -c -t nat` output. Rules of
 * other instances, of Docker and of anything else are ignored, as are lines that do not parse.
 */
export function parseEndpointCounters(saveText: string, names: HostNames): EndpointCounter[] {
  const p = new EndpointCounterParser(names);
  p.push(saveText);
  return p.end();
}

export interface ReadCountersOptions {
  /** Runs a program with an argument array and collects its output (tests pass a fake). */
  exec?: (cmd: string, args: string[], opts: { timeoutMs?: number }) => Promise<ExecResult>;
  timeoutMs?: number;
}

const ARGS = ['-c', '-t', 'nat'];

/** Reads this instance's per-endpoint counters from the kernel (`iptables-save -c -t nat`, parsed as it streams). */
export async function readIptablesEndpointCounters(names: HostNames, opts: ReadCountersOptions = {}): Promise<EndpointCounter[]> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  if (opts.exec) {
    const r = await opts.exec('iptables-save', ARGS, { timeoutMs });
    if (r.code !== 0) throw failure(r.code, r.stderr);
    return parseEndpointCounters(r.stdout, names);
  }
  const parser = new EndpointCounterParser(names);
  return new Promise((resolve, reject) => {
    const child = spawn('iptables-save', ARGS, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => parser.push(d));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(parser.end());
      else reject(failure(code ?? 128, `${stderr}${signal ? ` (killed by ${signal})` : ''}`));
    });
  });
}

function failure(code: number, stderr: string): Error {
  return new Error(`iptables-save -c -t nat: exit ${code}: ${stderr.trim().split('\n').slice(-2).join(' | ')}`);
}
