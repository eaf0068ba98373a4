// The proxier's view of the world: one ProxyService per service port, with its endpoints already
// matched by port name, validated and sorted. Rendering works on this alone, never on API objects,
// so anything unsafe is dropped here (and reported) before it can reach iptables.

import type { Endpoints, EndpointSlice, Service, ServicePort } from '../api/types.js';
import { cidrContains, ipToInt, isIPv4 } from '../util/ip.js';

export type ProxyProtocol = 'TCP' | 'UDP';

export interface ProxyEndpoint {
  ip: string;
  port: number;
  ready: boolean;
  /** On this node; undefined is treated as local (single-host kubelite). */
  local?: boolean;
}

export interface ProxyService {
  /** `ns/name:portName` (portName may be empty), kube-proxy's ServicePortName. */
  key: string;
  namespace: string;
  name: string;
  portName: string;
  protocol: ProxyProtocol;
  clusterIP?: string;
  port: number;
  nodePort?: number;
  loadBalancerIPs: string[];
  externalIPs: string[];
  /** Set when sessionAffinity is ClientIP. */
  affinityTimeoutSeconds?: number;
  externalTrafficPolicyLocal?: boolean;
  endpoints: ProxyEndpoint[];
}

export interface ModelProblem {
  /** `ns/name` of the object at fault. */
  object: string;
  message: string;
}

export interface ModelOptions {
  /** A clusterIP outside it is refused: only the service CIDR is routed to the local device. */
  serviceCIDR?: string;
  /** Endpoints whose nodeName differs are not local (externalTrafficPolicy: Local). */
  nodeName?: string;
  /** LoadBalancer Services without a status address get these (k3s ServiceLB style), when set. */
  lbDefaultIPs?: string[];
  onProblem?: (p: ModelProblem) => void;
}

const DEFAULT_AFFINITY_SECONDS = 10800;
const MAX_AFFINITY_SECONDS = 86400;
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export function isPort(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}

interface PortedAddress {
  ip: string;
  ready: boolean;
  nodeName?: string;
  ports: { name: string; port: unknown; protocol: string }[];
}

/** Every address with the ports it serves, from Endpoints subsets or from EndpointSlices. */
function addressesOf(sources: EndpointSource[]): PortedAddress[] {
  const out: PortedAddress[] = [];
  for (const src of sources) {
    if (src.kind === 'EndpointSlice') {
      const slice = src as EndpointSlice;
      if (slice.addressType !== 'IPv4') continue;
      const ports = (slice.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' }));
      for (const ep of slice.endpoints ?? []) {
        for (const ip of ep.addresses ?? []) {
          // The API says a nil ready condition means ready.
          out.push({ ip, ready: ep.conditions?.ready !== false, nodeName: ep.nodeName, ports });
        }
      }
    } else {
      const eps = src as Endpoints;
      for (const subset of eps.subsets ?? []) {
        const ports = (subset.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' }));
        for (const a of subset.addresses ?? []) out.push({ ip: a.ip, ready: true, nodeName: a.nodeName, ports });
        for (const a of subset.notReadyAddresses ?? []) out.push({ ip: a.ip, ready: false, nodeName: a.nodeName, ports });
      }
    }
  }
  return out;
}

function compareEndpoints(a: ProxyEndpoint, b: ProxyEndpoint): number {
  return ipToInt(a.ip) - ipToInt(b.ip) || a.port - b.port;
}

export type EndpointSource = Endpoints | EndpointSlice;

/** `ns/name` of the Service an Endpoints or EndpointSlice belongs to (undefined: a slice without its label). */
export function endpointsServiceKey(e: EndpointSource): string | undefined {
  if (e.kind === 'EndpointSlice') {
    const svcName = e.metadata.labels?.[SERVICE_NAME_LABEL];
    return svcName ? `${e.metadata.namespace ?? ''}/${svcName}` : undefined;
  }
  return `${e.metadata.namespace ?? ''}/${e.metadata.name ?? ''}`;
}

/** Groups endpoint sources per Service; a Service with slices uses its slices only. */
export function groupEndpointSources(endpoints: EndpointSource[]): Map<string, EndpointSource[]> {
  const eps = new Map<string, EndpointSource[]>();
  const slices = new Map<string, EndpointSource[]>();
  for (const e of endpoints) {
    const k = endpointsServiceKey(e);
    if (k === undefined) continue;
    const m = e.kind === 'EndpointSlice' ? slices : eps;
    (m.get(k) ?? m.set(k, []).get(k)!).push(e);
  }
  for (const [k, v] of slices) eps.set(k, v);
  return eps;
}

/** Orders a model the way the renderer expects it (by key, then protocol). */
export function compareProxyServices(a: ProxyService, b: ProxyService): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0;
}

/**
 * Builds the proxy model. Pure. ExternalName and headless Services produce nothing; anything invalid
 * (a bad IP, a port out of range, SCTP) is skipped and passed to `opts.onProblem` instead of thrown.
 * `endpoints` may mix Endpoints and EndpointSlices; a Service with slices uses its slices only.
 */
export function buildProxyModel(services: Service[], endpoints: EndpointSource[], opts: ModelOptions = {}): ProxyService[] {
  const sources = groupEndpointSources(endpoints);
  const model: ProxyService[] = [];
  for (const svc of services) {
    const k = `${svc.metadata.namespace ?? ''}/${svc.metadata.name ?? ''}`;
    for (const ps of buildServicePorts(svc, sources.get(k) ?? [], opts)) model.push(ps);
  }
  return model.sort(compareProxyServices);
}

/** The service ports of one Service, given the endpoint sources of that Service. Pure. */
export function buildServicePorts(svc: Service, sources: EndpointSource[], opts: ModelOptions = {}): ProxyService[] {
  const report = (object: string, message: string) => opts.onProblem?.({ object, message });
  const model: ProxyService[] = [];
  const namespace = svc.metadata.namespace ?? '';
  const name = svc.metadata.name ?? '';
  const obj = `${namespace}/${name}`;
  const spec = svc.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  if (type === 'ExternalName') return [];
  if (spec.clusterIP === 'None') return [];

  let clusterIP: string | undefined = spec.clusterIP || undefined;
  if (clusterIP !== undefined) {
    if (!isIPv4(clusterIP)) {
      report(obj, `clusterIP ${JSON.stringify(clusterIP)} is not an IPv4 address: no cluster IP rules`);
      clusterIP = undefined;
    } else if (opts.serviceCIDR && !cidrContains(opts.serviceCIDR, clusterIP)) {
      report(obj, `clusterIP ${clusterIP} is outside the service CIDR ${opts.serviceCIDR}: no cluster IP rules`);
      clusterIP = undefined;
    }
  }
  const externalIPs: string[] = [];
  for (const ip of spec.externalIPs ?? []) {
    if (isIPv4(ip)) externalIPs.push(ip);
    else report(obj, `externalIP ${JSON.stringify(ip)} is not an IPv4 address: skipped`);
  }
  const loadBalancerIPs: string[] = [];
  if (type === 'LoadBalancer') {
    for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
      // ipMode Proxy means the load balancer itself delivers to the node; no VIP rules (as kube-proxy).
      if (ing.ip === undefined || ing.ipMode === 'Proxy') continue;
      if (isIPv4(ing.ip)) loadBalancerIPs.push(ing.ip);
      else report(obj, `loadBalancer ingress IP ${JSON.stringify(ing.ip)} is not an IPv4 address: skipped`);
    }
    if (loadBalancerIPs.length === 0) for (const ip of opts.lbDefaultIPs ?? []) if (isIPv4(ip)) loadBalancerIPs.push(ip);
  }
  let affinityTimeoutSeconds: number | undefined;
  if (spec.sessionAffinity === 'ClientIP') {
    const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS;
    if (Number.isInteger(t) && t >= 1 && t <= MAX_AFFINITY_SECONDS) affinityTimeoutSeconds = t;
    else {
      report(obj, `sessionAffinityConfig.clientIP.timeoutSeconds ${JSON.stringify(t)} is out of range: using ${DEFAULT_AFFINITY_SECONDS}`);
      affinityTimeoutSeconds = DEFAULT_AFFINITY_SECONDS;
    }
  }
  const hasExternal = type === 'NodePort' || type === 'LoadBalancer' || externalIPs.length > 0;
  const externalTrafficPolicyLocal = hasExternal && spec.externalTrafficPolicy === 'Local' ? true : undefined;

  const addresses = addressesOf(sources);

  const seenPorts = new Set<string>();
  for (const sp of spec.ports ?? []) {
    const portName = sp.name ?? '';
    const key = `${obj}:${portName}`;
    if (seenPorts.has(portName)) {
      report(obj, `port name ${JSON.stringify(portName)} appears twice: the second is skipped`);
      continue;
    }
    seenPorts.add(portName);
    const protocol = sp.protocol ?? 'TCP';
    if (protocol !== 'TCP' && protocol !== 'UDP') {
      report(obj, `port ${JSON.stringify(portName)}: protocol ${protocol} is not supported: skipped`);
      continue;
    }
    if (!isPort(sp.port)) {
      report(obj, `port ${JSON.stringify(portName)}: port ${JSON.stringify(sp.port)} is out of range: skipped`);
      continue;
    }
    const nodePort = nodePortOf(type, sp, (m) => report(obj, `port ${JSON.stringify(portName)}: ${m}`));
    const eps = matchEndpoints(addresses, portName, protocol, opts.nodeName, (m) => report(obj, m));
    const ps: ProxyService = {
      key,
      namespace,
      name,
      portName,
      protocol,
      port: sp.port,
      loadBalancerIPs: [...loadBalancerIPs],
      externalIPs: [...externalIPs],
      endpoints: eps,
    };
    if (clusterIP !== undefined) ps.clusterIP = clusterIP;
    if (nodePort !== undefined) ps.nodePort = nodePort;
    if (affinityTimeoutSeconds !== undefined) ps.affinityTimeoutSeconds = affinityTimeoutSeconds;
    if (externalTrafficPolicyLocal) ps.externalTrafficPolicyLocal = true;
    // Nothing would reach a port without any address to match on.
    if (ps.clusterIP === undefined && ps.nodePort === undefined && ps.externalIPs.length === 0 && ps.loadBalancerIPs.length === 0) continue;
    model.push(ps);
  }
  return model;
}

function nodePortOf(type: string, sp: ServicePort, report: (m: string) => void): number | undefined {
  if ((type !== 'NodePort' && type !== 'LoadBalancer') || sp.nodePort === undefined || sp.nodePort === 0) return undefined;
  if (!isPort(sp.nodePort)) {
    report(`nodePort ${JSON.stringify(sp.nodePort)} is out of range: no node port rules`);
    return undefined;
  }
  return sp.nodePort;
}

/** Kubernetes matches a service port to endpoint ports by name (both may be empty). */
function matchEndpoints(
  addresses: PortedAddress[],
  portName: string,
  protocol: string,
  nodeName: string | undefined,
  report: (m: string) => void,
): ProxyEndpoint[] {
  const byAddr = new Map<string, ProxyEndpoint>();
  for (const a of addresses) {
    const p = a.ports.find((x) => x.name === portName && x.protocol === protocol);
    if (!p) continue;
    if (!isIPv4(a.ip)) {
      report(`endpoint address ${JSON.stringify(a.ip)} is not an IPv4 address: skipped`);
      continue;
    }
    if (!isPort(p.port)) {
      report(`endpoint port ${JSON.stringify(portName)} ${JSON.stringify(p.port)} is out of range: skipped`);
      continue;
    }
    const id = `${a.ip}:${p.port}`;
    const local = nodeName === undefined || a.nodeName === undefined || a.nodeName === nodeName;
    const prev = byAddr.get(id);
    // Duplicates happen while a Pod moves between slices; ready anywhere wins.
    if (prev) {
      prev.ready ||= a.ready;
      continue;
    }
    const ep: ProxyEndpoint = { ip: a.ip, port: p.port, ready: a.ready };
    if (!local) ep.local = false;
    byAddr.set(id, ep);
  }
  return [...byAddr.values()].sort(compareEndpoints);
}
