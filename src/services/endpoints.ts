// What Kubernetes' endpoints and endpointslice controllers compute for one Service, as pure functions:
// the Pods that match its selector become addresses (Ready ones in `addresses`, the others in
// `notReadyAddresses`), each service port resolved per Pod (a named targetPort may map to different
// container ports on different Pods), grouped into subsets by identical port sets.

import { createHash } from 'node:crypto';
import type { Endpoint, EndpointAddress, EndpointPort, EndpointSlice, EndpointSubset, Endpoints, KObject, Pod, Service, ServicePort } from '../api/types.js';
import { mapSelectorMatcher } from '../api/selectors.js';
import { deepEqual } from '../util/equal.js';
import { ipToInt } from '../util/ip.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const SLICE_MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const SLICE_MANAGED_BY = 'endpointslice-controller.k8s.io';
/** Endpoints written by this controller carry it, so an orphan can be told from a hand-written one. */
export const ENDPOINTS_MANAGED_BY_LABEL = 'endpoints.kubernetes.io/managed-by';
export const ENDPOINTS_MANAGED_BY = 'endpoint-controller';
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';
/** Kubernetes truncates an Endpoints object at this many addresses (EndpointSlices have no such limit). */
export const MAX_ENDPOINTS_ADDRESSES = 1000;
export const MAX_ENDPOINTS_PER_SLICE = 100;

export function isPodReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

function podIP(pod: Pod): string | undefined {
  return pod.status?.podIP || pod.status?.podIPs?.[0]?.ip || undefined;
}

/** Kubernetes' ShouldPodBeInEndpoints. */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isTerminal(pod)) return false;
  if (!podIP(pod)) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

/** True when the Service's selector is set and not empty (only those get controller-managed endpoints). */
export function hasSelector(svc: Service): boolean {
  return !!svc.spec?.selector && Object.keys(svc.spec.selector).length > 0;
}

/** The Pods of `pods` the Service selects (same namespace, every selector pair present). */
export function selectPods(svc: Service, pods: Iterable<Pod>): Pod[] {
  if (!hasSelector(svc)) return [];
  const match = mapSelectorMatcher(svc.spec.selector!);
  const ns = svc.metadata.namespace ?? 'default';
  const out: Pod[] = [];
  for (const p of pods) if ((p.metadata.namespace ?? 'default') === ns && match(p.metadata.labels)) out.push(p);
  return out;
}

/**
 * Kubernetes' FindPort: a numeric targetPort is used as is; a named one is looked up among the Pod's
 * container ports with the same protocol. Undefined when the Pod has no such port.
 */
export function findPort(pod: Pod, sp: ServicePort): number | undefined {
  const tp = sp.targetPort ?? sp.port;
  if (typeof tp === 'number') return tp === 0 ? sp.port : tp;
  if (/^\d+$/.test(tp)) return Number(tp);
  const proto = sp.protocol ?? 'TCP';
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === tp && (p.protocol ?? 'TCP') === proto) return p.containerPort;
  }
  return undefined;
}

function hostnameFor(pod: Pod, svc: Service): string | undefined {
  const h = pod.spec?.hostname;
  if (h && pod.spec.subdomain === svc.metadata.name && (pod.metadata.namespace ?? 'default') === (svc.metadata.namespace ?? 'default')) return h;
  return undefined;
}

function targetRef(pod: Pod) {
  return { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' };
}

function endpointPort(sp: ServicePort, port: number): EndpointPort {
  const p: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
  if (!sp.name) delete p.name;
  if (sp.appProtocol) p.appProtocol = sp.appProtocol;
  return p;
}

/** One Pod's resolved ports; an empty list for a headless Service without ports. Undefined: no port resolved. */
function resolvedPorts(pod: Pod, svc: Service): EndpointPort[] | undefined {
  const ports = svc.spec?.ports ?? [];
  if (ports.length === 0) return svc.spec?.clusterIP === 'None' ? [] : undefined;
  const out: EndpointPort[] = [];
  for (const sp of ports) {
    const n = findPort(pod, sp);
    if (n === undefined || !Number.isInteger(n) || n < 1 || n > 65535) continue;
    out.push(endpointPort(sp, n));
  }
  return out.length ? out : undefined;
}

function comparePorts(a: EndpointPort, b: EndpointPort): number {
  return (a.name ?? '').localeCompare(b.name ?? '') || (a.protocol ?? '').localeCompare(b.protocol ?? '') || a.port - b.port;
}

function portsKey(ports: EndpointPort[]): string {
  return ports.map((p) => `${p.name ?? ''}/${p.protocol ?? 'TCP'}/${p.port}/${p.appProtocol ?? ''}`).join(',');
}

function compareIP(a: string, b: string): number {
  try {
    return ipToInt(a) - ipToInt(b);
  } catch {
    return a < b ? -1 : a > b ? 1 : 0;
  }
}

function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  return compareIP(a.ip, b.ip) || (a.targetRef?.uid ?? '').localeCompare(b.targetRef?.uid ?? '');
}

/** Labels an Endpoints/EndpointSlice inherits from its Service (Kubernetes copies them). */
function inheritedLabels(svc: Service): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata.labels ?? {})) {
    if (k === SERVICE_NAME_LABEL || k === SLICE_MANAGED_BY_LABEL || k === HEADLESS_LABEL || k === ENDPOINTS_MANAGED_BY_LABEL) continue;
    out[k] = v;
  }
  if (svc.spec?.clusterIP === 'None') out[HEADLESS_LABEL] = '';
  return out;
}

interface PodEndpoint {
  pod: Pod;
  ip: string;
  ports: EndpointPort[];
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  hostname?: string;
}

/** The Pods that become endpoints, with what each contributes. `includeTerminating` is the slice controller's view. */
function podEndpoints(svc: Service, pods: Iterable<Pod>, includeTerminating: boolean): PodEndpoint[] {
  const publishNotReady = !!svc.spec?.publishNotReadyAddresses;
  const out: PodEndpoint[] = [];
  for (const pod of selectPods(svc, pods)) {
    if (!shouldPodBeInEndpoints(pod, includeTerminating || publishNotReady)) continue;
    const ports = resolvedPorts(pod, svc);
    if (!ports) continue;
    const serving = isPodReady(pod);
    const terminating = !!pod.metadata.deletionTimestamp;
    out.push({
      pod,
      ip: podIP(pod)!,
      ports: ports.sort(comparePorts),
      serving,
      terminating,
      ready: publishNotReady || (serving && !terminating),
      hostname: hostnameFor(pod, svc),
    });
  }
  return out;
}

/**
 * The Endpoints object for a Service with a selector. Pure. Terminating and terminal Pods are left out
 * (unless publishNotReadyAddresses), not-Ready ones go to notReadyAddresses. Beyond 1,000 addresses the
 * object is truncated (Ready ones kept first) and annotated, as Kubernetes does.
 */
export function endpointsFor(svc: Service, pods: Iterable<Pod>): Endpoints {
  const bySet = new Map<string, EndpointSubset>();
  const all = podEndpoints(svc, pods, false);
  let total = 0;
  const over = all.length > MAX_ENDPOINTS_ADDRESSES;
  // Ready first, so truncation drops not-ready ones before ready ones.
  const ordered = over ? [...all].sort((a, b) => Number(b.ready) - Number(a.ready) || compareIP(a.ip, b.ip)) : all;
  for (const e of ordered) {
    if (total >= MAX_ENDPOINTS_ADDRESSES) break;
    total++;
    const key = portsKey(e.ports);
    let subset = bySet.get(key);
    if (!subset) bySet.set(key, (subset = e.ports.length ? { ports: e.ports } : {}));
    const addr: EndpointAddress = { ip: e.ip };
    if (e.hostname) addr.hostname = e.hostname;
    if (e.pod.spec?.nodeName) addr.nodeName = e.pod.spec.nodeName;
    addr.targetRef = targetRef(e.pod);
    if (e.ready) (subset.addresses ??= []).push(addr);
    else (subset.notReadyAddresses ??= []).push(addr);
  }
  const subsets = [...bySet.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, s]) => {
      s.addresses?.sort(compareAddresses);
      s.notReadyAddresses?.sort(compareAddresses);
      return s;
    });
  const labels = { ...inheritedLabels(svc), [ENDPOINTS_MANAGED_BY_LABEL]: ENDPOINTS_MANAGED_BY };
  const ep: Endpoints = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: svc.metadata.name, namespace: svc.metadata.namespace ?? 'default', labels },
  };
  if (over) ep.metadata.annotations = { [OVER_CAPACITY_ANNOTATION]: 'truncated' };
  if (subsets.length) ep.subsets = subsets;
  return ep;
}

function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 5);
}

/**
 * The EndpointSlices for a Service with a selector. Pure. One slice per distinct port set (up to 100
 * endpoints each), named `<service>-<hash of the port set>[-<n>]` so the same input always gives the
 * same names; a Service without endpoints keeps one empty slice, as Kubernetes does. Terminating Pods
 * are included with ready=false, terminating=true.
 */
export function endpointSlicesFor(svc: Service, pods: Iterable<Pod>): EndpointSlice[] {
  const groups = new Map<string, { ports: EndpointPort[]; endpoints: PodEndpoint[] }>();
  for (const e of podEndpoints(svc, pods, true)) {
    const key = portsKey(e.ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports: e.ports, endpoints: [] }));
    g.endpoints.push(e);
  }
  const name = svc.metadata.name ?? '';
  const ns = svc.metadata.namespace ?? 'default';
  const labels = { ...inheritedLabels(svc), [SERVICE_NAME_LABEL]: name, [SLICE_MANAGED_BY_LABEL]: SLICE_MANAGED_BY };
  const owner = svc.metadata.uid
    ? [{ apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true }]
    : undefined;
  const make = (sliceName: string, ports: EndpointPort[], eps: PodEndpoint[]): EndpointSlice => {
    const slice: EndpointSlice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: sliceName, namespace: ns, labels: { ...labels } },
      addressType: 'IPv4',
      endpoints: eps.map(toEndpoint),
      ports: ports.map((p) => ({ ...p })),
    };
    if (owner) slice.metadata.ownerReferences = owner.map((o) => ({ ...o }));
    return slice;
  };
  // A slice name is a DNS subdomain of at most 253 characters; the Service name is at most 63.
  const out: EndpointSlice[] = [];
  if (groups.size === 0) return [make(`${name}-${shortHash('')}`, [], [])];
  for (const [key, g] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const eps = g.endpoints.sort((a, b) => compareIP(a.ip, b.ip) || (a.pod.metadata.uid ?? '').localeCompare(b.pod.metadata.uid ?? ''));
    const base = `${name}-${shortHash(key)}`;
    for (let i = 0; i * MAX_ENDPOINTS_PER_SLICE < eps.length; i++) {
      out.push(make(i === 0 ? base : `${base}-${i}`, g.ports, eps.slice(i * MAX_ENDPOINTS_PER_SLICE, (i + 1) * MAX_ENDPOINTS_PER_SLICE)));
    }
  }
  return out;
}

function toEndpoint(e: PodEndpoint): Endpoint {
  const ep: Endpoint = { addresses: [e.ip], conditions: { ready: e.ready, serving: e.serving, terminating: e.terminating } };
  if (e.hostname) ep.hostname = e.hostname;
  if (e.pod.spec?.nodeName) ep.nodeName = e.pod.spec.nodeName;
  ep.targetRef = targetRef(e.pod);
  return ep;
}

/** True when `current` (as stored) already says what `desired` says: labels, annotations, and content. */
export function sameEndpoints(current: Endpoints, desired: Endpoints): boolean {
  return (
    sameMap(current.metadata.labels, desired.metadata.labels) &&
    sameMap(current.metadata.annotations, desired.metadata.annotations) &&
    deepEqual(current.subsets ?? [], desired.subsets ?? [])
  );
}

export function sameSlice(current: EndpointSlice, desired: EndpointSlice): boolean {
  return (
    sameMap(current.metadata.labels, desired.metadata.labels) &&
    deepEqual(current.metadata.ownerReferences ?? [], desired.metadata.ownerReferences ?? []) &&
    current.addressType === desired.addressType &&
    deepEqual(current.endpoints ?? [], desired.endpoints ?? []) &&
    deepEqual(current.ports ?? [], desired.ports ?? [])
  );
}

function sameMap(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  const kb = Object.keys(b ?? {});
  if (ka.length !== kb.length) return false;
  for (const k of ka) if ((a ?? {})[k] !== (b ?? {})[k]) return false;
  return true;
}

/** Whether a Pod change can change any Service's endpoints (Kubernetes' podChanged). */
export function podEndpointsChanged(a: Pod, b: Pod): boolean {
  if (!!a.metadata.deletionTimestamp !== !!b.metadata.deletionTimestamp) return true;
  if (podIP(a) !== podIP(b)) return true;
  if (isPodReady(a) !== isPodReady(b)) return true;
  if (isTerminal(a) !== isTerminal(b)) return true;
  if (a.spec?.nodeName !== b.spec?.nodeName || a.spec?.hostname !== b.spec?.hostname || a.spec?.subdomain !== b.spec?.subdomain) return true;
  if (!sameMap(a.metadata.labels, b.metadata.labels)) return true;
  if (a.metadata.uid !== b.metadata.uid) return true;
  return JSON.stringify(a.spec?.containers?.map((c) => c.ports ?? [])) !== JSON.stringify(b.spec?.containers?.map((c) => c.ports ?? []));
}

