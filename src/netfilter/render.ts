// The whole desired ruleset, rendered from the proxy model. Pure. The structure is kube-proxy's iptables
// proxier (pkg/proxy/iptables): a dispatch chain per table, a chain per service port and per endpoint
// named by a hash, a node-ports chain, a mark-for-masquerade chain and a postrouting chain.
// Rules are written in exactly the form `iptables-save` prints them back, so that a read-back compares
// equal line by line (see normalizeRule for the one field the kernel rounds).

import type { HostNames } from '../config.js';
import type { ProxyEndpoint, ProxyService } from './model.js';
import { chainNames, commentArgs, sanitizeName, type ChainNames, type Table } from './names.js';
import { intToIp, normalizeCIDR, parseCIDR } from '../util/ip.js';

export interface RenderConfig {
  names: HostNames;
  /** Traffic to a VIP from outside it (the host itself) is masqueraded so replies come back through us. */
  podCIDR: string;
  serviceCIDR: string;
  nodeIPs: string[];
  /** One or more bits, hex (default 0x4000 like kube-proxy; Docker 20.10 sets no marks). */
  masqueradeMark?: string;
}

/** chain -> its rules as `-A <chain> ...` lines, in order. */
export type ChainRules = Map<string, string[]>;
export type ChainSet = Partial<Record<Table, Iterable<string>>>;

/** A rule of ours inside a chain we do not own (a built-in chain or DOCKER-USER). */
export interface JumpRule {
  table: Table;
  chain: string;
  /** Arguments after `-A/-I/-C/-D <chain>`, unquoted, for spawning iptables. */
  args: string[];
  /** The same rule as iptables-save prints it. */
  line: string;
}

export interface RenderedRules {
  chains: ChainNames;
  tables: Record<Table, ChainRules>;
  /** Total number of rules in both tables. */
  ruleCount: number;
  /** iptables-restore --noflush input: `write` chains are declared (which flushes them) and filled, `del` chains flushed and deleted. Default: write everything. */
  toRestore(write?: ChainSet, del?: ChainSet): string;
  /**
   * The same change as one or more restore inputs for one table, to be applied in order. Up to
   * `maxLines` it is a single (atomic) input. Beyond, it is split so that every intermediate state is
   * consistent per service port: the chains of one service port always travel together, chains are
   * created before anything jumps to them, and the dispatch chains plus all deletions come last.
   * iptables-nft 1.8.9 spends time quadratic in the number of chains one input names, so a 10,000
   * Service ruleset loads several times faster in slices (see bench/netfilter-sync.ts).
   */
  toRestoreBatches(table: Table, write: Iterable<string>, del: Iterable<string>, maxLines?: number): string[];
}

/** Default slice size for toRestoreBatches: about 700 Services of 3 endpoints. */
export const DEFAULT_BATCH_LINES = 10_000;

export const TABLES: readonly Table[] = ['nat', 'filter'];
const DEFAULT_MARK = '0x4000';

export function normalizeMark(mark: string | undefined): string {
  const m = mark ?? DEFAULT_MARK;
  if (!/^0x[0-9a-fA-F]{1,8}$/.test(m) || Number.parseInt(m, 16) === 0) throw new Error(`masquerade mark ${JSON.stringify(m)}: expected a non-zero 32-bit hex value like 0x4000`);
  return `0x${Number.parseInt(m, 16).toString(16)}`;
}

/** The network address form iptables-save prints (10.244.0.0/16), whatever host bits were given. */
/** 1/n formatted like kube-proxy (10 decimals); the kernel rounds it to 1/2^31 steps, see normalizeRule. */
export function probability(n: number): string {
  return (1 / n).toFixed(10);
}

/**
 * Memo of per-service-port output, keyed by the identity of the ProxyService object: a caller that
 * keeps unchanged model objects between syncs (the Proxier does) gets their strings back for free,
 * and the diff then compares them by reference. Model objects must not be mutated once rendered.
 */
export interface RenderCache {
  cfgKey?: string;
  fragments: WeakMap<ProxyService, Fragment>;
}

export function newRenderCache(): RenderCache {
  return { fragments: new WeakMap() };
}

/** What one service port contributes: its own chains and its lines in the shared chains. */
interface Fragment {
  nat: [string, string[]][];
  natServices: string[];
  nodePorts: string[];
  filterServices: string[];
  extServices: string[];
}

interface Ctx {
  cn: ChainNames;
  podCIDR: string;
}

/**
 * Renders everything. Pure, apart from `cache`, which only memoises the output for model objects it has
 * seen (so a sync with 10,000 Services costs little when one endpoint moved).
 */
export function renderRules(model: ProxyService[], cfg: RenderConfig, cache?: RenderCache): RenderedRules {
  const cn = chainNames(cfg.names);
  const mark = normalizeMark(cfg.masqueradeMark);
  const podCIDR = normalizeCIDR(cfg.podCIDR);
  const ctx: Ctx = { cn, podCIDR };
  const cfgKey = JSON.stringify([cfg.names, podCIDR, mark]);
  if (cache && cache.cfgKey !== cfgKey) {
    cache.cfgKey = cfgKey;
    cache.fragments = new WeakMap();
  }

  const nat: ChainRules = new Map();
  const filter: ChainRules = new Map();
  const groups: string[][] = [];
  const natServices: string[] = [];
  const nodePorts: string[] = [];
  const filterServices: string[] = [];
  const extServices: string[] = [];
  // Top-level chains first, always present (even empty), so jumps into them never dangle.
  nat.set(cn.services, natServices);
  nat.set(cn.nodePorts, nodePorts);
  nat.set(cn.markMasq, [
    // The host's own addresses need no SNAT: the Pod answers the host through the host, so masquerading
    // only costs (a NAT port per connection, and TIME_WAIT clashes in the Pod; issue 18, item 4).
    `-A ${cn.markMasq} ! -s 127.0.0.0/8 ${commentArgs('kubelite: the host needs no SNAT')} -m addrtype --src-type LOCAL -j RETURN`,
    `-A ${cn.markMasq} -j MARK --set-xmark ${mark}/${mark}`,
  ]);
  nat.set(cn.postrouting, [
    `-A ${cn.postrouting} -m mark ! --mark ${mark}/${mark} -j RETURN`,
    // Clear the bit so a packet re-entering the stack (hairpin through a bridge) is not masqueraded twice.
    `-A ${cn.postrouting} -j MARK --set-xmark ${mark}/0x0`,
    `-A ${cn.postrouting} ${commentArgs('kubelite service traffic requiring SNAT')} -j MASQUERADE --random-fully`,
  ]);
  filter.set(cn.services, filterServices);
  filter.set(cn.extServices, extServices);
  filter.set(cn.forward, forwardRules(cn, mark, podCIDR));

  for (const s of model) {
    let f = cache?.fragments.get(s);
    if (!f) {
      f = renderService(s, ctx);
      cache?.fragments.set(s, f);
    }
    for (const [chain, rules] of f.nat) nat.set(chain, rules);
    if (f.nat.length) groups.push(f.nat.map(([chain]) => chain));
    for (const r of f.natServices) natServices.push(r);
    for (const r of f.nodePorts) nodePorts.push(r);
    for (const r of f.filterServices) filterServices.push(r);
    for (const r of f.extServices) extServices.push(r);
  }
  // Last, so an explicit external/LB address on a node IP wins over the node-port match.
  natServices.push(
    `-A ${cn.services} ! -d 127.0.0.0/8 ${commentArgs('kubelite service nodeports; NOTE: this must be the last rule in this chain')} -m addrtype --dst-type LOCAL -j ${cn.nodePorts}`,
  );
  const tables: Record<Table, ChainRules> = { nat, filter };
  let ruleCount = 0;
  for (const t of TABLES) for (const rules of tables[t].values()) ruleCount += rules.length;
  return {
    chains: cn,
    tables,
    ruleCount,
    toRestore: (write, del) => restoreText(tables, write ?? { nat: nat.keys(), filter: filter.keys() }, del ?? {}),
    toRestoreBatches: (table, write, del, maxLines = DEFAULT_BATCH_LINES) =>
      restoreBatches(tables, table, table === 'nat' ? groups : [], [cn.markMasq, cn.postrouting], [...write], [...del], maxLines),
  };
}

/**
 * The filter chain that accepts forwarded service traffic Docker's FORWARD policy (DROP) would drop.
 * The nftables mode keeps it too: an accept in another table cannot override Docker's drop.
 */
export function forwardRules(cn: ChainNames, mark: string, podCIDR: string): string[] {
  return [
    `-A ${cn.forward} ${commentArgs('kubelite forwarding rules')} -m mark --mark ${mark}/${mark} -j ACCEPT`,
    `-A ${cn.forward} -s ${podCIDR} ${commentArgs('kubelite forwarding conntrack rule')} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    `-A ${cn.forward} -d ${podCIDR} ${commentArgs('kubelite forwarding conntrack rule')} -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT`,
  ];
}

function restoreBatches(
  tables: Record<Table, ChainRules>,
  table: Table,
  groups: string[][],
  first: string[],
  write: string[],
  del: string[],
  maxLines: number,
): string[] {
  const rules = tables[table];
  const size = (chains: string[]) => chains.reduce((n, c) => n + 1 + (rules.get(c)?.length ?? 0), 0);
  if (size(write) + 2 * del.length <= maxLines) return [restoreText(tables, { [table]: write }, { [table]: del })];
  const pending = new Set(write);
  const batches: string[][] = [];
  let cur: string[] = [];
  let lines = 0;
  const take = (chains: string[]) => {
    const mine = chains.filter((c) => pending.delete(c));
    if (mine.length === 0) return;
    const n = size(mine);
    if (lines > 0 && lines + n > maxLines) {
      batches.push(cur);
      cur = [];
      lines = 0;
    }
    cur.push(...mine);
    lines += n;
  };
  // Chains the per-service chains jump to (the mark chain) must exist before any of them.
  take(first);
  for (const g of groups) take(g);
  if (cur.length) batches.push(cur);
  // What is left jumps into the per-service chains (the dispatch and node-port chains): last, with
  // the deletions, which are only unreferenced once those are rewritten.
  const out = batches.map((b) => restoreText(tables, { [table]: b }, {}));
  out.push(restoreText(tables, { [table]: [...pending] }, { [table]: del }));
  return out.filter((x) => x !== '');
}

function renderService(s: ProxyService, { cn, podCIDR }: Ctx): Fragment {
  const f: Fragment = { nat: [], natServices: [], nodePorts: [], filterServices: [], extServices: [] };
  const c = sanitizeName(s.key);
  const proto = s.protocol === 'UDP' ? 'udp' : 'tcp';
  const match = (port: number) => `-m ${proto} --dport ${port}`;
  const ready = s.endpoints.filter((e) => e.ready);
  const hasExternal = s.nodePort !== undefined || s.externalIPs.length > 0 || s.loadBalancerIPs.length > 0;
  const svcChain = cn.servicePortChain('SVC', s.key, s.protocol);
  const extChain = cn.servicePortChain('EXT', s.key, s.protocol);
  const reject = (chain: string, dst: string, why: string, port: number) =>
    `-A ${chain} ${dst}-p ${proto} ${commentArgs(`${c} ${why}`)} ${match(port)} -j REJECT --reject-with icmp-port-unreachable`;
  const rejectNodePort = (why: string, port: number) =>
    `-A ${cn.extServices} -p ${proto} ${commentArgs(`${c} ${why}`)} -m addrtype --dst-type LOCAL ${match(port)} -j REJECT --reject-with icmp-port-unreachable`;

  if (ready.length === 0) {
    // Reject at once (TCP sees connection refused) instead of letting the packet die on the device.
    if (s.clusterIP) f.filterServices.push(reject(cn.services, `-d ${s.clusterIP}/32 `, 'has no endpoints', s.port));
    for (const ip of [...s.externalIPs, ...s.loadBalancerIPs]) {
      f.filterServices.push(reject(cn.services, `-d ${ip}/32 `, 'has no endpoints', s.port));
      f.extServices.push(reject(cn.extServices, `-d ${ip}/32 `, 'has no endpoints', s.port));
    }
    if (s.nodePort !== undefined) f.extServices.push(rejectNodePort('has no endpoints', s.nodePort));
    return f;
  }

  const svc: string[] = [];
  f.nat.push([svcChain, svc]);
  if (s.clusterIP) {
    const vip = `-d ${s.clusterIP}/32 -p ${proto} ${commentArgs(`${c} cluster IP`)} ${match(s.port)}`;
    f.natServices.push(`-A ${cn.services} ${vip} -j ${svcChain}`);
    // From the host (not a Pod): masquerade, or the endpoint's reply would not pass back through the DNAT.
    svc.push(`-A ${svcChain} ! -s ${podCIDR} ${vip} -j ${cn.markMasq}`);
  }
  svc.push(...endpointJumps(cn, s, svcChain, ready, c));
  for (const ep of ready) f.nat.push([cn.endpointChain(s.key, s.protocol, `${ep.ip}:${ep.port}`), endpointChain(cn, s, ep, c, proto)]);

  if (!hasExternal) return f;
  const ext: string[] = [];
  f.nat.push([extChain, ext]);
  for (const ip of s.externalIPs) {
    f.natServices.push(`-A ${cn.services} -d ${ip}/32 -p ${proto} ${commentArgs(`${c} external IP`)} ${match(s.port)} -j ${extChain}`);
  }
  for (const ip of s.loadBalancerIPs) {
    f.natServices.push(`-A ${cn.services} -d ${ip}/32 -p ${proto} ${commentArgs(`${c} loadbalancer IP`)} ${match(s.port)} -j ${extChain}`);
  }
  if (s.nodePort !== undefined) f.nodePorts.push(`-A ${cn.nodePorts} -p ${proto} ${commentArgs(c)} ${match(s.nodePort)} -j ${extChain}`);

  if (!s.externalTrafficPolicyLocal) {
    ext.push(`-A ${extChain} ${commentArgs(`masquerade traffic for ${c} external destinations`)} -j ${cn.markMasq}`);
    ext.push(`-A ${extChain} -j ${svcChain}`);
    return f;
  }
  // externalTrafficPolicy Local keeps the client's address: only local endpoints, no masquerade,
  // except for Pods and the host itself, which may use any endpoint (kube-proxy does the same).
  ext.push(`-A ${extChain} -s ${podCIDR} ${commentArgs(`pod traffic for ${c} external destinations`)} -j ${svcChain}`);
  ext.push(`-A ${extChain} ${commentArgs(`masquerade LOCAL traffic for ${c} external destinations`)} -m addrtype --src-type LOCAL -j ${cn.markMasq}`);
  ext.push(`-A ${extChain} ${commentArgs(`route LOCAL traffic for ${c} external destinations`)} -m addrtype --src-type LOCAL -j ${svcChain}`);
  const local = ready.filter((e) => e.local !== false);
  if (local.length > 0) {
    const svlChain = cn.servicePortChain('SVL', s.key, s.protocol);
    ext.push(`-A ${extChain} -j ${svlChain}`);
    f.nat.push([svlChain, endpointJumps(cn, s, svlChain, local, c)]);
  } else {
    // Un-DNATed external packets fall through to these rejects.
    for (const ip of [...s.externalIPs, ...s.loadBalancerIPs]) f.extServices.push(reject(cn.extServices, `-d ${ip}/32 `, 'has no local endpoints', s.port));
    if (s.nodePort !== undefined) f.extServices.push(rejectNodePort('has no local endpoints', s.nodePort));
  }
  return f;
}

function endpointJumps(cn: ChainNames, s: ProxyService, chain: string, eps: ProxyEndpoint[], c: string): string[] {
  const out: string[] = [];
  const seps = eps.map((ep) => cn.endpointChain(s.key, s.protocol, `${ep.ip}:${ep.port}`));
  if (s.affinityTimeoutSeconds !== undefined) {
    eps.forEach((ep, i) =>
      out.push(
        `-A ${chain} ${commentArgs(`${c} -> ${ep.ip}:${ep.port}`)} -m recent --rcheck --seconds ${s.affinityTimeoutSeconds} --reap --name ${seps[i]} --mask 255.255.255.255 --rsource -j ${seps[i]}`,
      ),
    );
  }
  eps.forEach((ep, i) => {
    const n = eps.length - i;
    const stat = n > 1 ? ` -m statistic --mode random --probability ${probability(n)}` : '';
    out.push(`-A ${chain} ${commentArgs(`${c} -> ${ep.ip}:${ep.port}`)}${stat} -j ${seps[i]}`);
  });
  return out;
}

function endpointChain(cn: ChainNames, s: ProxyService, ep: ProxyEndpoint, c: string, proto: string): string[] {
  const sep = cn.endpointChain(s.key, s.protocol, `${ep.ip}:${ep.port}`);
  const recent = s.affinityTimeoutSeconds !== undefined ? ` -m recent --set --name ${sep} --mask 255.255.255.255 --rsource` : '';
  return [
    // Hairpin: a Pod reaching itself through its Service must see the reply come from the VIP.
    `-A ${sep} -s ${ep.ip}/32 ${commentArgs(c)} -j ${cn.markMasq}`,
    `-A ${sep} -p ${proto} ${commentArgs(c)}${recent} -m ${proto} -j DNAT --to-destination ${ep.ip}:${ep.port}`,
  ];
}

const descending = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);

function restoreText(tables: Record<Table, ChainRules>, write: ChainSet, del: ChainSet): string {
  const out: string[] = [];
  for (const t of TABLES) {
    const w = [...(write[t] ?? [])];
    const d = [...(del[t] ?? [])];
    if (w.length === 0 && d.length === 0) continue;
    out.push(`*${t}`);
    // Declaring a chain under --noflush creates it or flushes it; rules follow once every chain exists.
    // Descending order: iptables-nft 1.8.9 inserts each new chain into a sorted list scanned from the
    // head, so this order costs O(1) per chain instead of O(n) (10,000 Services: 0.45 s instead of 15 s).
    for (const chain of [...w, ...d].sort(descending)) out.push(`:${chain} - [0:0]`);
    for (const chain of w) {
      const rules = tables[t].get(chain);
      if (!rules) throw new Error(`restore: chain ${chain} is not in the ${t} table`);
      for (const r of rules) out.push(r);
    }
    for (const chain of d) out.push(`-X ${chain}`);
    out.push('COMMIT');
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

/**
 * The rules of ours that live in chains we do not own. Jumps go in first (`-I <chain> 1`) so they run
 * before Docker's rules; Docker puts its own back on top when it restarts, which is harmless.
 */
export function jumpRules(cn: ChainNames, opts: { dockerUser: boolean; forwardOnly?: boolean }): JumpRule[] {
  const j = (table: Table, chain: string, args: string[]): JumpRule => ({ table, chain, args, line: `-A ${chain} ${saveArgs(args)}` });
  const portals = ['-m', 'comment', '--comment', 'kubelite service portals', '-j', cn.services];
  const newPortals = ['-m', 'conntrack', '--ctstate', 'NEW', ...portals];
  const newExt = ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubelite externally-visible service portals', '-j', cn.extServices];
  const forward = j('filter', opts.dockerUser ? 'DOCKER-USER' : 'FORWARD', ['-m', 'comment', '--comment', 'kubelite forwarding rules', '-j', cn.forward]);
  // The nftables mode keeps only the forward accept (see forwardRules).
  if (opts.forwardOnly) return [forward];
  return [
    j('nat', 'PREROUTING', portals),
    j('nat', 'OUTPUT', portals),
    j('nat', 'POSTROUTING', ['-m', 'comment', '--comment', 'kubelite postrouting rules', '-j', cn.postrouting]),
    j('filter', 'INPUT', newExt),
    j('filter', 'FORWARD', newExt),
    j('filter', 'FORWARD', newPortals),
    j('filter', 'OUTPUT', newPortals),
    forward,
  ];
}

/** Joins unquoted arguments the way iptables-save prints them (only --comment values need quoting here). */
function saveArgs(args: string[]): string {
  return args.map((a, i) => (args[i - 1] === '--comment' ? commentArgs(a).replace(/^-m comment --comment /, '') : a)).join(' ');
}

/**
 * Makes a rule comparable with its iptables-save form: the kernel stores a probability in 1/2^31 steps
 * and prints it with 11 decimals, so 0.3333333333 comes back as 0.33333333349.
 */
export function normalizeRule(line: string): string {
  return line.replace(/--probability ([0-9.]+)/, (_m, p: string) => `--probability ${Math.round(Number(p) * 0x80000000)}`);
}
