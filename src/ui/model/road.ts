// The road, as a graph: entry points (Ingress paths, ClusterIP:port, NodePort, LoadBalancer, DNS
// names) -> Service -> each endpoint -> Pod (or a Deployment's Pods, grouped) -> containers. Pure: the
// page lays it out and draws it; tests check it without a browser.

import { counterKey, type WEndpoint, type WPod, type WService, type WSlice } from '../wire.js';
import type { ClusterState } from './state.js';
import { endpointsOf, matchSelector, notReadyReason, type MemberState } from './membership.js';
import { groupOf, ingressNode, entryNode, podNode, serviceNode, groupNode, type GroupInfo } from './road-nodes.js';

export type NodeKind = 'ingress' | 'entry' | 'service' | 'pod' | 'group' | 'external' | 'address';
export type Tone = 'ok' | 'warn' | 'bad' | 'idle' | 'info';

export interface Line {
  text: string;
  tone?: Tone;
  /** A longer text for the tooltip. */
  title?: string;
}

export interface NodeRef {
  kind: 'Pod' | 'Service' | 'Ingress' | 'Group';
  namespace: string;
  name: string;
}

export interface GNode {
  id: string;
  kind: NodeKind;
  /** 0: entry points, 1: Services, 2: endpoints/Pods. */
  column: 0 | 1 | 2;
  title: string;
  subtitle?: string;
  tone: Tone;
  /** A machine-readable state (data-state in the page): ready, notready, terminating, pending, failed, ... */
  state?: string;
  lines: Line[];
  ref?: NodeRef;
  /** Matches the search. */
  highlight?: boolean;
  /** A Deployment group: collapsed or expanded (click toggles). */
  group?: { key: string; collapsed: boolean };
}

export type EdgeState = MemberState | 'route' | 'alias';

export interface GEdge {
  id: string;
  from: string;
  to: string;
  state: EdgeState;
  /** The endpoints' counter keys (wire.counterKey) whose sums the edge shows. */
  counterKeys: string[];
  label?: string;
  /** Per state, how many endpoints (a collapsed group's edge stands for several). */
  counts?: Partial<Record<MemberState, number>>;
}

export interface Road {
  nodes: GNode[];
  edges: GEdge[];
  stats: { pods: number; services: number; shownPods: number; shownServices: number };
}

export interface RoadOptions {
  now: number;
  clusterDomain: string;
  /** Only Pods whose labels match (and the Services in front of them). */
  labelFilter?: (labels: Record<string, string>) => boolean;
  /** Only roads with an object whose name contains this (case-insensitive). */
  search?: string;
  /** The user's choices: group key -> collapsed. */
  collapsed?: ReadonlyMap<string, boolean>;
  /** Groups are collapsed by default when the view has more Pods than this, or the group more than `groupAbove`. */
  collapseAbove?: number;
  groupAbove?: number;
}

interface ServiceView {
  svc: WService;
  id: string;
  /** pod key -> state and counter keys */
  members: Map<string, { state: MemberState; counterKeys: string[] }>;
  /** endpoints that are no Pod of ours */
  addresses: { ip: string; state: MemberState; counterKeys: string[] }[];
  endpoints: WEndpoint[];
}

const podKey = (p: WPod) => `${p.meta.namespace}/${p.meta.name}`;
const nsName = (o: { meta: { namespace: string; name: string } }) => `${o.meta.namespace}/${o.meta.name}`;

function endpointState(eps: WEndpoint[]): MemberState {
  if (eps.some((e) => e.terminating)) return 'terminating';
  return eps.every((e) => e.ready) ? 'ready' : 'notready';
}

/** The Service's endpoints from all its slices, each with the counter keys of every slice port. */
function sliceEndpoints(svc: WService, slices: WSlice[]): { ep: WEndpoint; counterKeys: string[] }[] {
  const out: { ep: WEndpoint; counterKeys: string[] }[] = [];
  for (const s of slices) {
    for (const ep of s.endpoints) {
      out.push({ ep, counterKeys: s.ports.map((p) => counterKey(svc.meta.namespace, svc.meta.name, p.name, p.protocol, `${ep.ip}:${p.port}`)) });
    }
  }
  return out;
}

export function buildRoad(state: ClusterState, opts: RoadOptions): Road {
  const search = opts.search?.trim().toLowerCase() ?? '';
  const hit = (s: string) => search !== '' && s.toLowerCase().includes(search);
  const pods = [...state.pods.values()];
  // Per namespace: Pods by name, by IP and by label pair, so matching 200 Services against 1,000
  // Pods looks at each Service's own Pods only (not S x P).
  interface NsIndex {
    byName: Map<string, WPod>;
    byIP: Map<string, WPod>;
    byLabel: Map<string, WPod[]>;
  }
  const index = new Map<string, NsIndex>();
  for (const p of pods) {
    let ix = index.get(p.meta.namespace);
    if (!ix) index.set(p.meta.namespace, (ix = { byName: new Map(), byIP: new Map(), byLabel: new Map() }));
    ix.byName.set(p.meta.name, p);
    if (p.ip) ix.byIP.set(p.ip, p);
    for (const [k, v] of Object.entries(p.meta.labels)) {
      const pair = `${k}=${v}`;
      const list = ix.byLabel.get(pair);
      if (list) list.push(p);
      else ix.byLabel.set(pair, [p]);
    }
  }
  const noPods: WPod[] = [];
  /** The Pods a selector might match: those having its rarest label pair. */
  const candidates = (ix: NsIndex | undefined, selector: Record<string, string>): WPod[] => {
    if (!ix) return noPods;
    let best: WPod[] | undefined;
    for (const [k, v] of Object.entries(selector)) {
      const list = ix.byLabel.get(`${k}=${v}`) ?? noPods;
      if (!best || list.length < best.length) best = list;
    }
    return best ?? noPods;
  };
  const slicesBySvc = new Map<string, WSlice[]>();
  for (const s of state.slices.values()) {
    const k = `${s.meta.namespace}/${s.service}`;
    const list = slicesBySvc.get(k) ?? [];
    list.push(s);
    slicesBySvc.set(k, list);
  }

  // Which Pods are behind which Service, and how.
  const views: ServiceView[] = [];
  for (const svc of state.services.values()) {
    const v: ServiceView = { svc, id: `svc:${nsName(svc)}`, members: new Map(), addresses: [], endpoints: [] };
    const eps = sliceEndpoints(svc, slicesBySvc.get(nsName(svc)) ?? []);
    v.endpoints = eps.map((e) => e.ep);
    const ix = index.get(svc.meta.namespace);
    const perPod = new Map<string, { eps: WEndpoint[]; keys: string[] }>();
    const perAddr = new Map<string, { eps: WEndpoint[]; keys: string[] }>();
    for (const { ep, counterKeys } of eps) {
      const pod = ep.pod ? ix?.byName.get(ep.pod) : ix?.byIP.get(ep.ip);
      const target = pod ? perPod : perAddr;
      const k = pod ? podKey(pod) : ep.ip;
      const e = target.get(k) ?? { eps: [], keys: [] };
      e.eps.push(ep);
      e.keys.push(...counterKeys);
      target.set(k, e);
    }
    for (const [k, e] of perPod) v.members.set(k, { state: endpointState(e.eps), counterKeys: e.keys });
    for (const [ip, e] of perAddr) v.addresses.push({ ip, state: endpointState(e.eps), counterKeys: e.keys });
    if (svc.selector && svc.type !== 'ExternalName') {
      for (const p of candidates(ix, svc.selector)) {
        if (v.members.has(podKey(p)) || !matchSelector(svc.selector, p.meta.labels).matches) continue;
        if (p.phase === 'Succeeded' || p.phase === 'Failed') continue;
        v.members.set(podKey(p), { state: p.meta.deleting ? 'terminating' : 'candidate', counterKeys: [] });
      }
    }
    views.push(v);
  }

  // Filters: a Pod is shown if it passes the label filter; a Service if it has a shown Pod, or matches
  // itself. Search keeps the roads (Service + its Pods + what points at it) that mention the text.
  const podShown = new Map<string, boolean>();
  for (const p of pods) podShown.set(podKey(p), !opts.labelFilter || opts.labelFilter(p.meta.labels));
  const ingressesBySvc = new Map<string, string[]>();
  for (const ing of state.ingresses.values()) {
    for (const path of ing.paths) {
      if (!path.service) continue;
      const k = `${ing.meta.namespace}/${path.service}`;
      ingressesBySvc.set(k, [...(ingressesBySvc.get(k) ?? []), ing.meta.name, path.host]);
    }
  }
  const shownViews = views.filter((v) => {
    const members = [...v.members.keys()];
    const labelOk = !opts.labelFilter || opts.labelFilter(v.svc.meta.labels) || members.some((k) => podShown.get(k));
    if (!labelOk) return false;
    if (!search) return true;
    if (hit(v.svc.meta.name) || (ingressesBySvc.get(nsName(v.svc)) ?? []).some(hit)) return true;
    return members.some((k) => {
      const p = state.pods.get(`Pod/${k}`);
      return p && (hit(p.meta.name) || hit(groupOf(p, state)?.name ?? ''));
    });
  });
  const inShownService = new Set<string>();
  for (const v of shownViews) for (const k of v.members.keys()) inShownService.add(k);
  const inAnyService = new Set<string>();
  for (const v of views) for (const k of v.members.keys()) inAnyService.add(k);
  const shownPods = pods.filter((p) => {
    const k = podKey(p);
    if (!podShown.get(k)) return false;
    if (inShownService.has(k)) return true;
    // Pods behind no Service at all are shown on their own (when the search allows).
    if (inAnyService.has(k)) return false;
    return !search || hit(p.meta.name) || hit(groupOf(p, state)?.name ?? '');
  });

  // Groups (a Deployment's Pods, or another controller's), collapsed by default at scale.
  const groups = new Map<string, GroupInfo>();
  for (const p of shownPods) {
    const g = groupOf(p, state);
    if (!g) continue;
    const info = groups.get(g.key) ?? { ...g, pods: [] };
    info.pods.push(p);
    groups.set(g.key, info);
  }
  const collapseAbove = opts.collapseAbove ?? 40;
  const groupAbove = opts.groupAbove ?? 8;
  const isCollapsed = (g: GroupInfo) => {
    const chosen = opts.collapsed?.get(g.key);
    if (chosen !== undefined) return chosen;
    if (search && g.pods.some((p) => hit(p.meta.name))) return false;
    return shownPods.length > collapseAbove || g.pods.length > groupAbove;
  };
  /** pod key -> the node that stands for it (its own, or its collapsed group's) */
  const nodeOfPod = new Map<string, string>();
  const nodes: GNode[] = [];
  const edges: GEdge[] = [];
  for (const g of groups.values()) {
    if (!isCollapsed(g)) continue;
    const node = groupNode(g, true, state, opts.now);
    node.highlight = hit(g.name) || g.pods.some((p) => hit(p.meta.name));
    nodes.push(node);
    for (const p of g.pods) nodeOfPod.set(podKey(p), node.id);
  }
  for (const p of shownPods) {
    if (nodeOfPod.has(podKey(p))) continue;
    const g = groupOf(p, state);
    const node = podNode(p, state, opts.now, g ? groups.get(g.key) : undefined);
    node.highlight = hit(p.meta.name);
    nodes.push(node);
    nodeOfPod.set(podKey(p), node.id);
  }

  const events = [...state.events.values()];
  for (const v of shownViews) {
    const svcNode = serviceNode(v.svc, v.members, v.addresses.length);
    svcNode.highlight = hit(v.svc.meta.name);
    nodes.push(svcNode);
    const entry = entryNode(v.svc, v.endpoints, state, opts.clusterDomain);
    nodes.push(entry);
    // What enters the Service: the sum of its endpoints' counters.
    const allKeys = [...[...v.members.values()].flatMap((m) => m.counterKeys), ...v.addresses.flatMap((a) => a.counterKeys)];
    edges.push({ id: `${entry.id}->${v.id}`, from: entry.id, to: v.id, state: 'route', counterKeys: allKeys });
    if (v.svc.type === 'ExternalName' && v.svc.externalName) {
      const extId = `ext:${v.svc.externalName}`;
      if (!nodes.some((n) => n.id === extId)) {
        nodes.push({ id: extId, kind: 'external', column: 2, title: v.svc.externalName, subtitle: 'outside the cluster', tone: 'info', lines: [{ text: 'reached by DNS (CNAME), no Pods, no rules' }] });
      }
      edges.push({ id: `${v.id}->${extId}`, from: v.id, to: extId, state: 'alias', counterKeys: [], label: 'CNAME' });
    }
    // One edge per Pod (or per collapsed group, summing its Pods).
    const toNode = new Map<string, GEdge>();
    for (const [k, m] of v.members) {
      const target = nodeOfPod.get(k);
      if (!target) continue;
      let e = toNode.get(target);
      if (!e) {
        e = { id: `${v.id}->${target}`, from: v.id, to: target, state: m.state, counterKeys: [], counts: {} };
        toNode.set(target, e);
        edges.push(e);
      }
      e.counterKeys.push(...m.counterKeys);
      e.counts![m.state] = (e.counts![m.state] ?? 0) + 1;
      e.state = worst(e.state as MemberState, m.state);
      if (m.state === 'notready') {
        const pod = state.pods.get(`Pod/${k}`);
        if (pod && !target.startsWith('grp:')) e.label = notReadyReason(pod, events);
      }
    }
    for (const a of v.addresses) {
      const id = `addr:${v.svc.meta.namespace}/${a.ip}`;
      if (!nodes.some((n) => n.id === id)) nodes.push({ id, kind: 'address', column: 2, title: a.ip, subtitle: 'endpoint without a Pod', tone: a.state === 'ready' ? 'ok' : 'warn', state: a.state, lines: [{ text: 'listed in an EndpointSlice by hand' }] });
      edges.push({ id: `${v.id}->${id}`, from: v.id, to: id, state: a.state, counterKeys: a.counterKeys, counts: { [a.state]: 1 } });
    }
  }

  // Ingresses in front of the shown Services (a missing backend Service is drawn as such).
  const shownSvcIds = new Set(shownViews.map((v) => v.id));
  for (const ing of state.ingresses.values()) {
    const targets = new Map<string, string[]>();
    for (const p of ing.paths) {
      if (!p.service) continue;
      const id = `svc:${ing.meta.namespace}/${p.service}`;
      targets.set(id, [...(targets.get(id) ?? []), `${p.host === '*' ? '' : p.host}${p.path}`]);
    }
    const relevant = [...targets.keys()].filter((id) => shownSvcIds.has(id) || !state.services.has(`Service/${id.slice(4)}`));
    if (relevant.length === 0 && (search ? !hit(ing.meta.name) : targets.size > 0)) continue;
    const node = ingressNode(ing);
    node.highlight = hit(ing.meta.name) || ing.paths.some((p) => hit(p.host));
    nodes.push(node);
    for (const id of relevant) {
      if (!shownSvcIds.has(id)) {
        const [ns, name] = id.slice(4).split('/');
        if (!nodes.some((n) => n.id === id)) nodes.push({ id, kind: 'service', column: 1, title: name, subtitle: 'Service not found', tone: 'bad', state: 'missing', lines: [{ text: `the Ingress ${ing.meta.name} routes here`, tone: 'bad' }], ref: { kind: 'Service', namespace: ns, name } });
      }
      edges.push({ id: `${node.id}->${id}`, from: node.id, to: id, state: 'route', counterKeys: [], label: targets.get(id)!.join(', ') });
    }
  }

  return {
    nodes,
    edges,
    stats: { pods: pods.length, services: state.services.size, shownPods: shownPods.length, shownServices: shownViews.length },
  };
}

const SEVERITY: MemberState[] = ['ready', 'candidate', 'notready', 'terminating', 'excluded'];

/** The state a group edge shows: the worst of its endpoints'. */
function worst(a: MemberState, b: MemberState): MemberState {
  return SEVERITY.indexOf(a) >= SEVERITY.indexOf(b) ? a : b;
}

export { endpointsOf };
