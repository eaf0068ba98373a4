// `kubelite cleanup` for the data plane, whichever mode wrote it: every iptables chain of this instance,
// every rule elsewhere that jumps into one, this instance's nftables table, the service device and its
// routes. Nothing else: another instance's chains and tables and Docker's are left exactly as they are.

import type { HostNames } from '../config.js';
import { exec } from '../util/exec.js';
import { iptablesRestore, iptablesSave } from './iptables.js';
import { chainNames, type ChainNames, type Table } from './names.js';
import { TABLES } from './render.js';
import { parseSave, ruleTarget, type SavedTable } from './save-parse.js';
import { removeDevice } from './device.js';
import { nftDeleteTable } from './nft.js';
import { nftTableName } from './nft-names.js';
import { normalizeCIDR } from '../util/ip.js';

export interface CleanupResult {
  chainsDeleted: number;
  jumpsDeleted: number;
  deviceRemoved: boolean;
  routesDeleted: number;
  /** `ip kubelite[-<instance>]`, when there was one. */
  nftTableDeleted?: string;
}

/** The restore input that removes our rules from `saved` (one table). Pure. */
export function cleanupRestore(table: Table, saved: SavedTable | undefined, cn: ChainNames): { text: string; chains: number; jumps: number } {
  if (!saved) return { text: '', chains: 0, jumps: 0 };
  const del: string[] = [];
  const ours: string[] = [];
  for (const [chain, rules] of saved.chains) {
    if (cn.isOwned(chain)) {
      ours.push(chain);
      continue;
    }
    for (const line of rules) {
      const target = ruleTarget(line);
      if (target && cn.isOwned(target)) del.push(`-D ${line.slice(3)}`);
    }
  }
  if (del.length === 0 && ours.length === 0) return { text: '', chains: 0, jumps: 0 };
  // Jumps go first, then our chains are flushed (declaring one under --noflush empties it) and deleted.
  // Descending order is the cheap one for iptables-nft (see restoreText in render.ts).
  ours.sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  const text = [`*${table}`, ...del, ...ours.map((c) => `:${c} - [0:0]`), ...ours.map((c) => `-X ${c}`), 'COMMIT', ''].join('\n');
  return { text, chains: ours.length, jumps: del.length };
}

export async function cleanupNetfilter(names: HostNames, opts: { serviceCIDR?: string; lbPool?: string } = {}): Promise<CleanupResult> {
  const cn = chainNames(names);
  const result: CleanupResult = { chainsDeleted: 0, jumpsDeleted: 0, deviceRemoved: false, routesDeleted: 0 };
  for (const t of TABLES) {
    const plan = cleanupRestore(t, parseSave(await iptablesSave(t))[t], cn);
    if (!plan.text) continue;
    await iptablesRestore(plan.text);
    result.chainsDeleted += plan.chains;
    result.jumpsDeleted += plan.jumps;
  }
  const table = nftTableName(names);
  if (await nftDeleteTable(table)) result.nftTableDeleted = table;
  const dev = names.serviceDevice;
  // Routes normally vanish with the device; these catch one left pointing at it by a half-done start.
  for (const cidr of [opts.serviceCIDR, opts.lbPool]) {
    if (!cidr) continue;
    const r = await exec('ip', ['route', 'del', normalizeCIDR(cidr), 'dev', dev]);
    if (r.code === 0) result.routesDeleted++;
  }
  result.deviceRemoved = await removeDevice(dev);
  return result;
}
