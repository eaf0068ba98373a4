// The iptables adapter: iptables-restore/-save and the jump rules in chains we do not own. Planning
// (which jumps to add or remove) is pure; the functions at the bottom run the tools.

import { exec, execOk } from '../util/exec.js';
import type { ChainNames, Table } from './names.js';
import { jumpRules, normalizeRule, type JumpRule } from './render.js';
import { tokenizeRule, type SavedTable } from './save-parse.js';

/** A big ruleset on iptables-nft takes seconds to load (see BENCHMARKS.md); a minute means something is stuck. */
const RESTORE_TIMEOUT_MS = 120_000;
const SAVE_TIMEOUT_MS = 120_000;
const CMD_TIMEOUT_MS = 30_000;

/** The chains our jumps live in, per table (DOCKER-USER only when Docker created it). */
export const JUMP_HOSTS: Record<Table, string[]> = {
  nat: ['PREROUTING', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT', 'DOCKER-USER'],
};

export interface JumpPlan {
  insert: JumpRule[];
  /** Rules to delete, as arguments after `-D <chain>`: duplicates of ours and stale jumps into our chains. */
  remove: { table: Table; chain: string; args: string[] }[];
}

/**
 * Given the rules currently in the host chains (`-A <chain> ...` lines, per table and chain), decides
 * which of our jumps to insert and which rules to delete so each desired jump exists exactly once and
 * no other rule there jumps into one of our chains. Pure.
 */
export function planJumps(
  cn: ChainNames,
  current: Record<Table, Map<string, string[]>>,
  opts: { dockerUser: boolean; forwardOnly?: boolean },
): JumpPlan {
  const want = jumpRules(cn, opts);
  const plan: JumpPlan = { insert: [], remove: [] };
  const wantedSeen = new Map<string, number>();
  for (const j of want) wantedSeen.set(`${j.table}\n${normalizeRule(j.line)}`, 0);
  for (const table of ['nat', 'filter'] as Table[]) {
    for (const [chain, rules] of current[table]) {
      if (cn.isOwned(chain)) continue;
      for (const line of rules) {
        const toks = tokenizeRule(line);
        const ji = toks.indexOf('-j');
        const target = ji >= 0 ? toks[ji + 1] : undefined;
        if (!target || !cn.isOwned(target)) continue;
        const id = `${table}\n${normalizeRule(line)}`;
        const seen = wantedSeen.get(id);
        if (seen === 0) {
          wantedSeen.set(id, 1);
          continue;
        }
        plan.remove.push({ table, chain, args: toks.slice(2) });
      }
    }
  }
  for (const j of want) if (wantedSeen.get(`${j.table}\n${normalizeRule(j.line)}`) === 0) plan.insert.push(j);
  return plan;
}

// ---------- running the tools ----------

/** Applies restore input atomically (per table, per COMMIT); on failure the kernel keeps the previous rules. */
export async function iptablesRestore(text: string): Promise<void> {
  if (!text) return;
  await execOk('iptables-restore', ['--noflush', '-w'], { input: text, timeoutMs: RESTORE_TIMEOUT_MS });
}

export async function iptablesSave(table: Table): Promise<string> {
  return (await execOk('iptables-save', ['-t', table], { timeoutMs: SAVE_TIMEOUT_MS })).stdout;
}

/** `iptables -w <args>`; throws on a non-zero exit. */
export async function iptables(args: string[]): Promise<void> {
  await execOk('iptables', ['-w', ...args], { timeoutMs: CMD_TIMEOUT_MS });
}

/**
 * The rules of one host chain as `-A` lines, or undefined when the chain does not exist. Listing one
 * chain (`-S`) stays cheap when our own chains hold 100,000 rules, unlike a whole iptables-save.
 */
export async function listChain(table: Table, chain: string): Promise<string[] | undefined> {
  const r = await exec('iptables', ['-w', '-t', table, '-S', chain], { timeoutMs: CMD_TIMEOUT_MS });
  if (r.code !== 0) {
    // iptables-nft 1.8.9 reports a missing chain as "incompatible, use 'nft' tool".
    if (/No chain|does not exist|incompatible/i.test(r.stderr)) return undefined;
    throw new Error(`iptables -t ${table} -S ${chain}: ${r.stderr.trim()}`);
  }
  return r.stdout.split('\n').filter((l) => l.startsWith('-A '));
}

export interface JumpHosts {
  current: Record<Table, Map<string, string[]>>;
  dockerUser: boolean;
}

/** The host chains our jumps live in, from `iptables-save` dumps a full resync has already read. Pure. */
export function jumpHostsFrom(saved: Partial<Record<string, SavedTable>>): JumpHosts {
  const current: Record<Table, Map<string, string[]>> = { nat: new Map(), filter: new Map() };
  let dockerUser = false;
  for (const table of ['nat', 'filter'] as Table[]) {
    for (const chain of JUMP_HOSTS[table]) {
      const rules = saved[table]?.chains.get(chain);
      if (rules === undefined) continue;
      if (chain === 'DOCKER-USER') dockerUser = true;
      current[table].set(chain, rules);
    }
  }
  return { current, dockerUser };
}

/** Reads the host chains our jumps live in. */
export async function readJumpHosts(): Promise<JumpHosts> {
  const current: Record<Table, Map<string, string[]>> = { nat: new Map(), filter: new Map() };
  let dockerUser = false;
  for (const table of ['nat', 'filter'] as Table[]) {
    for (const chain of JUMP_HOSTS[table]) {
      const rules = await listChain(table, chain);
      if (rules === undefined) continue;
      if (chain === 'DOCKER-USER') dockerUser = true;
      current[table].set(chain, rules);
    }
  }
  return { current, dockerUser };
}

/**
 * Makes our jumps exist exactly once; returns what it changed (empty when all was in place). `known`
 * saves listing the host chains again (seven iptables runs) when the caller has just read them.
 * `forwardOnly` (the nftables mode) wants the forward accept jump alone and removes every other.
 */
export async function ensureJumps(cn: ChainNames, known?: JumpHosts, opts: { forwardOnly?: boolean } = {}): Promise<JumpPlan> {
  const { current, dockerUser } = known ?? (await readJumpHosts());
  const plan = planJumps(cn, current, { dockerUser, forwardOnly: opts.forwardOnly });
  // One iptables-restore for all of it instead of one iptables run per rule (a first start inserts eight).
  await iptablesRestore(jumpRestoreText(plan));
  return plan;
}

/** A restore argument: bare when it can be, else double-quoted with `"` and `\` escaped. */
function restoreArg(a: string): string {
  return a !== '' && /^[^\s"'\\]+$/.test(a) ? a : `"${a.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** The plan as `iptables-restore --noflush` input: deletions first, then inserts at the top, per table. Pure. */
export function jumpRestoreText(plan: JumpPlan): string {
  const out: string[] = [];
  for (const table of ['nat', 'filter'] as Table[]) {
    const lines = [
      ...plan.remove.filter((r) => r.table === table).map((r) => `-D ${r.chain} ${r.args.map(restoreArg).join(' ')}`),
      ...plan.insert.filter((j) => j.table === table).map((j) => `-I ${j.chain} 1 ${j.args.map(restoreArg).join(' ')}`),
    ];
    if (lines.length) out.push(`*${table}`, ...lines, 'COMMIT');
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
