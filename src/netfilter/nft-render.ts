// The nftables data plane as a value: what kubelite's table must hold for a proxy model. Pure. The shape
// is kube-proxy's nftables proxier (pkg/proxy/nftables) where it keeps the packet path flat: one verdict
// map `ip daddr . meta l4proto . th dport` dispatches ClusterIPs, external and LoadBalancer IPs to a chain
// per service port, a second one NodePorts on every local address. Where it differs, on purpose:
//  - the endpoint is chosen by a cascade of plain rules (`numgen random mod k 0 ... dnat to`, k = n..2,
//    the last unconditional) that DNAT in the service chain itself: no per-endpoint chains and no
//    anonymous maps, which nft 1.0.6 parses at a fraction of the cost (see BENCHMARKS.md);
//  - hairpin traffic (a Pod reaching itself through its Service) is found in postrouting with one
//    lookup of `ip saddr . ip daddr` in a set of endpoint addresses, instead of a rule per endpoint;
//  - traffic from the host's own (non-loopback) addresses is never masqueraded: the Pod answers the
//    host through the host, so there is nothing to fix and SNAT only costs (issue 18, item 4).
// Rules are written the way `nft list` prints them back (marks as 0x%08x, `counter` without values),
// so a read-back compares equal (see nft-parse.ts).

import type { HostNames } from '../config.js';
import type { ProxyEndpoint, ProxyService } from './model.js';
import { NFT, NFT_MAPS, nftCommentText, nftHex, nftNames, type NftMapName, type NftNames } from './nft-names.js';
import { sanitizeName } from './names.js';
import { normalizeMark } from './render.js';
import { normalizeCIDR } from '../util/ip.js';

export interface NftRenderConfig {
  names: HostNames;
  /** The cluster's Pods (every node's): their traffic to a ClusterIP is not masqueraded. */
  podCIDR: string;
  /** This node's share of podCIDR (default: all of it, one node). */
  nodePodCIDR?: string;
  serviceCIDR: string;
  /** One or more bits, hex (default 0x4000, as the iptables mode). */
  masqueradeMark?: string;
}

export interface NftChain {
  /** Base chains only: `type nat hook prerouting priority dstnat - 1; policy accept;` as nft prints it. */
  hook?: string;
  /** The comment text (unquoted). */
  comment?: string;
  rules: readonly string[];
}

/** Everything in the table that changes with the model, plus the fixed chains (so one diff covers both). */
export interface NftState {
  chains: Map<string, NftChain>;
  /** Per verdict map: element key (`10.96.0.10 . udp . 53`) -> verdict (`goto svc-...`). */
  maps: Record<NftMapName, Map<string, string>>;
  /** Endpoint addresses; the hairpin set holds `ip . ip` for each. */
  hairpin: Set<string>;
  /** Affinity set name -> timeout in seconds. */
  affinity: Map<string, number>;
}

export interface NftRendered {
  names: NftNames;
  state: NftState;
  ruleCount: number;
  elementCount: number;
}

/** The declarations of the fixed maps and sets: name -> body as nft prints it. */
export const NFT_SET_DECLS: Readonly<Record<string, string>> = {
  [NFT.serviceIPs]: 'type ipv4_addr . inet_proto . inet_service : verdict',
  [NFT.serviceNodePorts]: 'type inet_proto . inet_service : verdict',
  [NFT.noEndpointServices]: 'type ipv4_addr . inet_proto . inet_service : verdict',
  [NFT.noEndpointNodePorts]: 'type inet_proto . inet_service : verdict',
  [NFT.hairpin]: 'type ipv4_addr . ipv4_addr',
};

/**
 * Base chain priorities (documented in the README): NAT just before Docker's; the no-endpoint checks
 * before DNAT (dstnat - 10, as kube-proxy), so they see the address the client asked for.
 */
export const NFT_HOOKS: Readonly<Record<string, string>> = {
  [NFT.natPrerouting]: 'type nat hook prerouting priority dstnat - 1; policy accept;',
  [NFT.natOutput]: 'type nat hook output priority -101; policy accept;',
  [NFT.natPostrouting]: 'type nat hook postrouting priority srcnat - 1; policy accept;',
  [NFT.filterInput]: 'type filter hook input priority -110; policy accept;',
  [NFT.filterForward]: 'type filter hook forward priority -110; policy accept;',
  [NFT.filterOutput]: 'type filter hook output priority -110; policy accept;',
};

/** What one service port contributes. Memoised per model object, like the iptables renderer's fragments. */
export interface Fragment {
  chains: [string, NftChain][];
  elements: [NftMapName, string, string][];
  hairpin: string[];
  affinity: [string, number][];
  rules: number;
}

export interface NftRenderCache {
  cfgKey?: string;
  fragments: WeakMap<ProxyService, Fragment>;
}

export function newNftRenderCache(): NftRenderCache {
  return { fragments: new WeakMap() };
}

export function emptyNftState(): NftState {
  return {
    chains: new Map(),
    maps: { [NFT.serviceIPs]: new Map(), [NFT.serviceNodePorts]: new Map(), [NFT.noEndpointServices]: new Map(), [NFT.noEndpointNodePorts]: new Map() } as Record<NftMapName, Map<string, string>>,
    hairpin: new Set(),
    affinity: new Map(),
  };
}

export interface NftCtx {
  nn: NftNames;
  podCIDR: string;
  /** This node's share of podCIDR: an endpoint outside it is a Pod on another node. */
  nodePodCIDR: string;
  serviceCIDR: string;
  mark: number;
}

/** The renderer's context for a configuration, and the cache reset when the configuration changed. */
export function nftContext(cfg: NftRenderConfig, cache?: NftRenderCache): NftCtx {
  const ctx: NftCtx = {
    nn: nftNames(cfg.names),
    podCIDR: normalizeCIDR(cfg.podCIDR),
    nodePodCIDR: normalizeCIDR(cfg.nodePodCIDR ?? cfg.podCIDR),
    serviceCIDR: normalizeCIDR(cfg.serviceCIDR),
    mark: Number.parseInt(normalizeMark(cfg.masqueradeMark), 16),
  };
  const cfgKey = JSON.stringify([ctx.nn.table, ctx.podCIDR, ctx.nodePodCIDR, ctx.serviceCIDR, ctx.mark]);
  if (cache && cache.cfgKey !== cfgKey) {
    cache.cfgKey = cfgKey;
    cache.fragments = new WeakMap();
  }
  return ctx;
}

/** One service port's fragment, from the cache when this model object was rendered before. */
export function fragmentOf(s: ProxyService, ctx: NftCtx, cache?: NftRenderCache): Fragment {
  let f = cache?.fragments.get(s);
  if (!f) {
    f = renderService(s, ctx);
    cache?.fragments.set(s, f);
  }
  return f;
}

/** The fixed chains of the table for one configuration. Pure. */
export function fixedChains(cfg: { podCIDR: string; nodePodCIDR: string; serviceCIDR: string; mark: number }): [string, NftChain][] {
  const M = nftHex(cfg.mark);
  const notM = nftHex(~cfg.mark);
  const c = (name: string, rules: string[], comment?: string): [string, NftChain] => {
    const chain: NftChain = { rules };
    if (NFT_HOOKS[name]) chain.hook = NFT_HOOKS[name];
    if (comment) chain.comment = comment;
    return [name, chain];
  };
  return [
    c(NFT.markMasq, [
      // The host's own addresses need no SNAT when the endpoint is on this node: the Pod's reply comes back
      // through the host anyway (endpoints on other nodes: see the masquerading chain).
      'fib saddr type local ip saddr != 127.0.0.0/8 return',
      `meta mark set meta mark | ${M}`,
    ]),
    c(NFT.masquerading, [
      // Hairpin: a Pod DNATed to itself must see the reply come from the VIP, so it must not answer itself.
      `ct status dnat ip saddr . ip daddr @${NFT.hairpin} meta mark set meta mark & ${notM} masquerade fully-random`,
      // The host's own connection DNATed to a Pod on another node: its source address (a service device's,
      // say) may be one that node cannot route back, so it leaves with the outgoing link's address.
      ...(cfg.nodePodCIDR === cfg.podCIDR ? [] : [`ct status dnat ip saddr != ${cfg.podCIDR} ip daddr ${cfg.podCIDR} ip daddr != ${cfg.nodePodCIDR} meta mark set meta mark & ${notM} masquerade fully-random`]),
      `meta mark & ${M} != ${M} return`,
      // Clear the bit so a packet re-entering the stack is not masqueraded twice.
      `meta mark set meta mark ^ ${M}`,
      'masquerade fully-random',
    ]),
    c(NFT.services, [
      // From outside this node's Pods and the host (another machine routing the service CIDR here): SNAT.
      `ip daddr ${cfg.serviceCIDR} ip saddr != ${cfg.podCIDR} jump ${NFT.markMasq}`,
      `ip daddr . meta l4proto . th dport vmap @${NFT.serviceIPs}`,
      `fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @${NFT.serviceNodePorts}`,
    ]),
    c(NFT.serviceEndpointsCheck, [`ip daddr . meta l4proto . th dport vmap @${NFT.noEndpointServices}`]),
    c(NFT.nodePortEndpointsCheck, [`fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @${NFT.noEndpointNodePorts}`]),
    c(NFT.reject, ['reject'], 'services without endpoints'),
    // externalTrafficPolicy Local without a local endpoint: only outside traffic is refused; the host's
    // own connections (checked here before their DNAT) go on to any endpoint, as Pods' do.
    c(NFT.rejectExternal, ['fib saddr type local return', 'reject'], 'services without a local endpoint: outside clients are refused'),
    c(NFT.natPrerouting, [`jump ${NFT.services}`]),
    c(NFT.natOutput, [`jump ${NFT.services}`]),
    c(NFT.natPostrouting, [`jump ${NFT.masquerading}`]),
    c(NFT.filterInput, [`ct state new jump ${NFT.nodePortEndpointsCheck}`, `ct state new jump ${NFT.serviceEndpointsCheck}`]),
    c(NFT.filterForward, [`ct state new jump ${NFT.serviceEndpointsCheck}`]),
    c(NFT.filterOutput, [`ct state new jump ${NFT.serviceEndpointsCheck}`]),
  ];
}

/**
 * Renders the table's contents for `model`. Pure, apart from `cache`, which memoises the output per model
 * object (a sync with 10,000 Services where one endpoint moved renders one Service).
 */
export function renderNft(model: ProxyService[], cfg: NftRenderConfig, cache?: NftRenderCache): NftRendered {
  const ctx = nftContext(cfg, cache);
  const state = emptyNftState();
  let ruleCount = 0;
  for (const [name, chain] of fixedChains(ctx)) {
    state.chains.set(name, chain);
    ruleCount += chain.rules.length;
  }
  for (const s of model) {
    const f = fragmentOf(s, ctx, cache);
    for (const [name, chain] of f.chains) state.chains.set(name, chain);
    // First wins, as the first matching rule does in the iptables dispatch chain.
    for (const [map, key, verdict] of f.elements) if (!state.maps[map].has(key)) state.maps[map].set(key, verdict);
    for (const ip of f.hairpin) state.hairpin.add(ip);
    for (const [set, timeout] of f.affinity) state.affinity.set(set, timeout);
    ruleCount += f.rules;
  }
  let elementCount = state.hairpin.size;
  for (const m of NFT_MAPS) elementCount += state.maps[m].size;
  return { names: ctx.nn, state, ruleCount, elementCount };
}

const REJECT = `goto ${NFT.reject}`;
const REJECT_EXTERNAL = `goto ${NFT.rejectExternal}`;

function renderService(s: ProxyService, { nn, podCIDR }: NftCtx): Fragment {
  const f: Fragment = { chains: [], elements: [], hairpin: [], affinity: [], rules: 0 };
  const proto = s.protocol === 'UDP' ? 'udp' : 'tcp';
  const key = (ip: string) => `${ip} . ${proto} . ${s.port}`;
  const nodePortKey = s.nodePort !== undefined ? `${proto} . ${s.nodePort}` : undefined;
  const externals = [...s.externalIPs, ...s.loadBalancerIPs];
  const ready = s.endpoints.filter((e) => e.ready);
  const hasExternal = nodePortKey !== undefined || externals.length > 0;
  // The key as iptables comments show it (no spaces): the counters reader takes it up to the first space.
  const c = sanitizeName(s.key);
  const chain = (name: string, rules: string[], comment: string) => {
    f.chains.push([name, { comment: nftCommentText(comment), rules }]);
    f.rules += rules.length;
  };

  if (ready.length === 0) {
    // Rejected in a filter chain (TCP sees connection refused) instead of dying on the service device.
    if (s.clusterIP) f.elements.push([NFT.noEndpointServices, key(s.clusterIP), REJECT]);
    for (const ip of externals) f.elements.push([NFT.noEndpointServices, key(ip), REJECT]);
    if (nodePortKey) f.elements.push([NFT.noEndpointNodePorts, nodePortKey, REJECT]);
    return f;
  }

  const svcChain = nn.serviceChain('svc', s.key, s.protocol);
  // The timeout is part of the set's name: a new timeout is a new set, so the old one is unreferenced when it goes.
  const affinity = (ep: ProxyEndpoint) => nn.affinitySet(s.key, s.protocol, `${ep.ip}:${ep.port}`, s.affinityTimeoutSeconds ?? 0);
  chain(svcChain, endpointRules(s, ready, proto, affinity), c);
  for (const ep of ready) f.hairpin.push(ep.ip);
  if (s.affinityTimeoutSeconds !== undefined) for (const ep of ready) f.affinity.push([affinity(ep), s.affinityTimeoutSeconds]);
  const local = ready.filter((e) => e.local !== false);
  let localChain: string | undefined;
  const localEndpoints = (): string => {
    if (!localChain) {
      localChain = nn.serviceChain('local', s.key, s.protocol);
      chain(localChain, endpointRules(s, local, proto, affinity), `${c} local endpoints`);
    }
    return localChain;
  };
  if (s.clusterIP) {
    // internalTrafficPolicy Local: this node's endpoints only; none here means the packet is dropped.
    if (!s.internalTrafficPolicyLocal) f.elements.push([NFT.serviceIPs, key(s.clusterIP), `goto ${svcChain}`]);
    else if (local.length > 0) f.elements.push([NFT.serviceIPs, key(s.clusterIP), `goto ${localEndpoints()}`]);
    else f.elements.push([NFT.noEndpointServices, key(s.clusterIP), 'drop']);
  }
  if (!hasExternal) return f;

  const extChain = nn.serviceChain('ext', s.key, s.protocol);
  for (const ip of externals) f.elements.push([NFT.serviceIPs, key(ip), `goto ${extChain}`]);
  if (nodePortKey) f.elements.push([NFT.serviceNodePorts, nodePortKey, `goto ${extChain}`]);
  if (!s.externalTrafficPolicyLocal) {
    chain(extChain, [`jump ${NFT.markMasq}`, `goto ${svcChain}`], `${c} external destinations`);
    return f;
  }
  // externalTrafficPolicy Local keeps the client's address: only local endpoints, no masquerade, except
  // for this node's Pods and the host itself, which may use any endpoint (as kube-proxy does).
  const ext = [`ip saddr ${podCIDR} goto ${svcChain}`, `fib saddr type local goto ${svcChain}`];
  if (local.length > 0) {
    ext.push(`goto ${localEndpoints()}`);
  } else {
    // External packets fall out of the chain un-NATed and meet these rejects.
    for (const ip of externals) f.elements.push([NFT.noEndpointServices, key(ip), REJECT_EXTERNAL]);
    if (nodePortKey) f.elements.push([NFT.noEndpointNodePorts, nodePortKey, REJECT_EXTERNAL]);
  }
  chain(extChain, ext, `${c} external destinations`);
  return f;
}

/**
 * The endpoint choice: affinity hits first (refreshing their entry), then a cascade where rule i takes
 * 1/(n-i) of what reaches it (so each endpoint gets 1/n), each DNAT with its own counter.
 */
function endpointRules(s: ProxyService, eps: ProxyEndpoint[], proto: string, affinity: (ep: ProxyEndpoint) => string): string[] {
  const out: string[] = [];
  const sticky = s.affinityTimeoutSeconds !== undefined;
  const dnat = (ep: ProxyEndpoint) => `${sticky ? `update @${affinity(ep)} { ip saddr } ` : ''}counter meta l4proto ${proto} dnat to ${ep.ip}:${ep.port}`;
  if (sticky) for (const ep of eps) out.push(`ip saddr @${affinity(ep)} ${dnat(ep)}`);
  eps.forEach((ep, i) => {
    const n = eps.length - i;
    out.push(n > 1 ? `numgen random mod ${n} 0 ${dnat(ep)}` : dnat(ep));
  });
  return out;
}


