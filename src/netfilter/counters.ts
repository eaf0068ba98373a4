// The kernel's own traffic counts per Service endpoint: the packet and byte counters of the DNAT rule
// in each endpoint chain (`<S>-SEP-<hash>`) the iptables proxier writes (see render.ts). The nat table
// only sees the first packet of a connection, so `packets` is the number of new connections (or UDP
// flows) the kernel sent to that endpoint since the rule was written; `bytes` are those first packets'.
// Parsing is pure (`parseEndpointCounters`); `readIptablesEndpointCounters` is the thin adapter.

import type { HostNames } from '../config.js';
import { chainNames } from './names.js';
import { exec as defaultExec, type ExecResult } from '../util/exec.js';
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
 * The per-endpoint DNAT counters of one instance's chains in `iptables-save -c -t nat` output. Rules of
 * other instances, of Docker and of anything else are ignored, as are lines that do not parse.
 */
export function parseEndpointCounters(saveText: string, names: HostNames): EndpointCounter[] {
  const cn = chainNames(names);
  const sepPrefix = `${names.shortChainPrefix}-SEP-`;
  const out: EndpointCounter[] = [];
  for (const raw of saveText.split('\n')) {
    const m = COUNTED_RULE.exec(raw.trimEnd());
    if (!m) continue;
    const chain = m[3];
    if (!chain.startsWith(sepPrefix) || !cn.isOwned(chain)) continue;
    let toks: string[];
    try {
      toks = tokenizeRule(m[4]);
    } catch {
      continue;
    }
    const arg = (flag: string) => {
      const i = toks.indexOf(flag);
      return i >= 0 ? toks[i + 1] : undefined;
    };
    if (arg('-j') !== 'DNAT') continue;
    const endpoint = arg('--to-destination');
    const sp = SERVICE_PORT.exec(arg('--comment') ?? '');
    const protocol = PROTOCOLS[(arg('-p') ?? '').toLowerCase()];
    if (!endpoint || !sp || !protocol) continue;
    out.push({ namespace: sp[1], service: sp[2], port: sp[3], protocol, endpoint, packets: Number(m[1]), bytes: Number(m[2]) });
  }
  return out;
}

export interface ReadCountersOptions {
  /** Runs a program with an argument array (tests pass a fake). */
  exec?: (cmd: string, args: string[], opts: { timeoutMs?: number }) => Promise<ExecResult>;
  timeoutMs?: number;
}

/** Reads this instance's per-endpoint counters from the kernel (`iptables-save -c -t nat`). */
export async function readIptablesEndpointCounters(names: HostNames, opts: ReadCountersOptions = {}): Promise<EndpointCounter[]> {
  const run = opts.exec ?? defaultExec;
  const r = await run('iptables-save', ['-c', '-t', 'nat'], { timeoutMs: opts.timeoutMs ?? 5000 });
  if (r.code !== 0) throw new Error(`iptables-save -c -t nat: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  return parseEndpointCounters(r.stdout, names);
}
