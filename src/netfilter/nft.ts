// The nft adapter: applying `nft -f` transactions, the two listings the repair path reads, and the probe
// that decides whether the nftables mode can run here. Input goes on stdin, arguments are fixed arrays:
// no name ever reaches a shell.

import fs from 'node:fs';
import path from 'node:path';
import { exec, ExecError, type ExecOptions, type ExecResult } from '../util/exec.js';
import { NFT_FAMILY, checkIdentifier } from './nft-names.js';
import { deleteTableScript } from './nft-script.js';

/** A 10,000-Service table loads in about a second; a minute means something is stuck. */
const APPLY_TIMEOUT_MS = 120_000;
const LIST_TIMEOUT_MS = 120_000;

const SYSTEM_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/local/bin'];
let nftPath: string | undefined;

/**
 * The nftables `nft`: the first on the PATH outside any node_modules (under npm and npx,
 * node_modules/.bin comes first and holds @vercel/nft's `nft`, a Node file tracer), else a system
 * directory. `nft` itself when none is found, so the spawn fails with ENOENT.
 */
export function nftBinary(): string {
  if (nftPath) return nftPath;
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter((d) => d && !d.split(path.sep).includes('node_modules')), ...SYSTEM_DIRS];
  for (const dir of dirs) {
    const p = path.join(dir, 'nft');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return (nftPath = p);
    } catch {
      // not here
    }
  }
  return 'nft';
}

function nft(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return exec(nftBinary(), args, opts);
}

async function nftOk(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const r = await nft(args, opts);
  if (r.code !== 0) throw new ExecError('nft', args, r);
  return r;
}

/** The kernel refused a transaction (nothing of it was applied). */
export class NftError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'NftError';
  }
}

/** Applies one transaction atomically; on failure the kernel keeps what it had. */
export async function nftApply(text: string): Promise<void> {
  if (!text) return;
  const r = await nft(['-f', '-'], { input: text, timeoutMs: APPLY_TIMEOUT_MS });
  if (r.code !== 0) {
    const lines = r.stderr.trim().split('\n');
    // nft prints "file:line:col: Error: ..." then the offending line and a caret line.
    const first = lines.find((l) => /Error:/.test(l)) ?? lines[0] ?? `exit ${r.code}`;
    throw new NftError(`nft -f: ${first.replace(/^\/dev\/stdin:/, 'line ')}`, r.stderr);
  }
}

/** `nft list table ip NAME`, or undefined when there is no such table. */
export async function nftListTable(table: string): Promise<string | undefined> {
  const r = await nft(['list', 'table', NFT_FAMILY, checkIdentifier(table)], { timeoutMs: LIST_TIMEOUT_MS });
  if (r.code === 0) return r.stdout;
  if (/No such file or directory/.test(r.stderr)) return undefined;
  throw new ExecError('nft', ['list', 'table', NFT_FAMILY, table], r);
}

/** `nft list chains ip`: every chain of every ip table, without rules (cheap even at 10,000 Services). */
export async function nftListChains(): Promise<string> {
  return (await nftOk(['list', 'chains', NFT_FAMILY], { timeoutMs: LIST_TIMEOUT_MS })).stdout;
}

/** Deletes the table; false when it was not there. */
export async function nftDeleteTable(table: string): Promise<boolean> {
  let r: ExecResult;
  try {
    r = await nft(['list', 'tables', NFT_FAMILY], { timeoutMs: LIST_TIMEOUT_MS });
  } catch (err) {
    // No nft on this host: then there is no table either.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  if (r.code !== 0) throw new ExecError('nft', ['list', 'tables', NFT_FAMILY], r);
  if (!r.stdout.split('\n').some((l) => l.trim() === `table ${NFT_FAMILY} ${checkIdentifier(table)}`)) return false;
  await nftApply(deleteTableScript(table));
  return true;
}

// ---------- can the nftables mode run here? ----------

/** kube-proxy's floor too: older nft misparses concatenated verdict maps or lacks `th`. */
export const MIN_NFT_VERSION = [1, 0, 1] as const;

export interface NftSupport {
  ok: boolean;
  version?: string;
  /** Why not, in one line for the log. */
  reason?: string;
}

/** `nftables v1.0.6 (Lester Gooch #5)` -> [1,0,6]. Pure. */
export function parseNftVersion(text: string): number[] | undefined {
  const m = /v(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

export function versionAtLeast(v: number[], min: readonly number[]): boolean {
  for (let i = 0; i < min.length; i++) {
    if ((v[i] ?? 0) > min[i]) return true;
    if ((v[i] ?? 0) < min[i]) return false;
  }
  return true;
}

/**
 * A table using every feature the renderer needs (concatenated verdict maps, numgen, fib, dynamic
 * timeout sets with `update`, NAT and filter base chains at our priorities), checked by the kernel with
 * `nft -c` (nothing is committed).
 */
export function probeScript(table: string): string {
  const T = `${NFT_FAMILY} ${table}`;
  return [
    `table ${T} {`,
    '\tmap m { type ipv4_addr . inet_proto . inet_service : verdict; }',
    '\tset h { type ipv4_addr . ipv4_addr; }',
    '\tset a { type ipv4_addr; flags dynamic,timeout; timeout 10s; }',
    '\tchain s { comment "probe"; ip saddr @a update @a { ip saddr } counter meta l4proto tcp dnat to 10.0.0.1:80; numgen random mod 2 0 counter meta l4proto tcp dnat to 10.0.0.2:80; }',
    '\tchain r { reject; }',
    '\tchain pre { type nat hook prerouting priority dstnat - 1; policy accept; ip daddr . meta l4proto . th dport vmap @m; fib daddr type local meta l4proto . th dport vmap { tcp . 1 : goto s }; }',
    '\tchain post { type nat hook postrouting priority srcnat - 1; policy accept; ct status dnat ip saddr . ip daddr @h masquerade fully-random; }',
    '\tchain in { type filter hook input priority -110; policy accept; ct state new ip daddr . meta l4proto . th dport vmap { 10.0.0.9 . tcp . 1 : goto r }; }',
    '}',
    '',
  ].join('\n');
}

/** Whether `nft` is installed, new enough, and the kernel takes what the renderer writes. */
export async function probeNftables(): Promise<NftSupport> {
  let v;
  try {
    v = await nft(['--version'], { timeoutMs: 10_000 });
  } catch (err) {
    return { ok: false, reason: `nft is not installed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
  if (v.code !== 0) return { ok: false, reason: `nft --version failed: ${(v.stderr || v.stdout).trim()}` };
  const version = v.stdout.trim();
  const parsed = parseNftVersion(version);
  if (!parsed) return { ok: false, version, reason: `cannot read the nft version from ${JSON.stringify(version)}` };
  if (!versionAtLeast(parsed, MIN_NFT_VERSION)) return { ok: false, version, reason: `${version} is older than ${MIN_NFT_VERSION.join('.')}` };
  const check = await nft(['-c', '-f', '-'], { input: probeScript('kubelite-probe'), timeoutMs: 10_000 });
  if (check.code !== 0) return { ok: false, version, reason: `the kernel refused a test table: ${check.stderr.trim().split('\n').find((l) => /Error/.test(l)) ?? check.stderr.trim()}` };
  return { ok: true, version };
}
