// API objects -> the slim wire objects the page draws (wire.ts). Pure. Long strings are capped here so
// that one object with a megabyte annotation cannot make every page download it on every change.

import type { Condition, Container, Deployment, Event, EndpointSlice, Ingress, KObject, Node, ObjectMeta, Pod, Probe, ReplicaSet, Service } from '../api/types.js';
import type { WCondition, WContainer, WDeployment, WEvent, WIngress, WMeta, WNode, WObject, WPod, WReplicaSet, WService, WSlice } from './wire.js';

export const MAX_VALUE = 1024;
export const MAX_ANNOTATIONS = 40;
export const MAX_MESSAGE = 1024;
/** Not useful on a picture and often large. */
const DROPPED_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration']);

/** Caps a string at `max` characters, saying how much was cut. */
export function cap(s: string | undefined, max = MAX_VALUE): string {
  if (s === undefined) return '';
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length - max} more characters)`;
}

function meta(m: ObjectMeta): WMeta {
  const annotations: Record<string, string> = {};
  let n = 0;
  for (const [k, v] of Object.entries(m.annotations ?? {})) {
    if (DROPPED_ANNOTATIONS.has(k)) continue;
    if (n++ >= MAX_ANNOTATIONS) break;
    annotations[cap(k, 253)] = cap(v);
  }
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.labels ?? {})) labels[cap(k, 253)] = cap(v);
  const out: WMeta = { name: m.name ?? '', namespace: m.namespace ?? '', uid: m.uid ?? '', labels, annotations };
  if (m.creationTimestamp) out.created = m.creationTimestamp;
  if (m.deletionTimestamp) out.deleting = m.deletionTimestamp;
  const owner = m.ownerReferences?.find((o) => o.controller) ?? m.ownerReferences?.[0];
  if (owner) out.owner = { kind: owner.kind, name: owner.name, uid: owner.uid };
  return out;
}

function conditions(cs: Condition[] | undefined): WCondition[] {
  return (cs ?? []).map((c) => {
    const w: WCondition = { type: c.type, status: c.status };
    if (c.reason) w.reason = cap(c.reason, 128);
    if (c.message) w.message = cap(c.message, MAX_MESSAGE);
    if (c.lastTransitionTime) w.since = c.lastTransitionTime;
    return w;
  });
}

/** `HTTP GET :http/ready every 2s`, `TCP :5432 every 10s`, `exec [cat /tmp/ok] every 5s`. */
export function describeProbe(p: Probe | undefined): string | undefined {
  if (!p) return undefined;
  const every = `every ${p.periodSeconds ?? 10}s`;
  if (p.httpGet) return `HTTP GET ${p.httpGet.scheme === 'HTTPS' ? 'https ' : ''}:${p.httpGet.port}${p.httpGet.path ?? '/'} ${every}`;
  if (p.tcpSocket) return `TCP :${p.tcpSocket.port} ${every}`;
  if (p.exec) return `exec [${cap((p.exec.command ?? []).join(' '), 200)}] ${every}`;
  return every;
}

function containers(pod: Pod): WContainer[] {
  const statuses = new Map((pod.status?.containerStatuses ?? []).map((s) => [s.name, s]));
  return (pod.spec?.containers ?? []).map((c: Container) => {
    const s = statuses.get(c.name);
    const st = s?.state;
    const w: WContainer = {
      name: c.name,
      image: cap(c.image, 256),
      ready: s?.ready ?? false,
      restarts: s?.restartCount ?? 0,
      state: st?.running ? 'running' : st?.waiting ? 'waiting' : st?.terminated ? 'terminated' : 'unknown',
      ports: (c.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), containerPort: p.containerPort, protocol: p.protocol ?? 'TCP' })),
    };
    const reason = st?.waiting?.reason ?? st?.terminated?.reason;
    const message = st?.waiting?.message ?? st?.terminated?.message;
    if (reason) w.reason = cap(reason, 128);
    if (message) w.message = cap(message, MAX_MESSAGE);
    if (st?.running?.startedAt) w.startedAt = st.running.startedAt;
    const probe = describeProbe(c.readinessProbe);
    if (probe) w.readinessProbe = probe;
    return w;
  });
}

export function slimPod(pod: Pod): WPod {
  const st = pod.status ?? {};
  const w: WPod = {
    kind: 'Pod',
    meta: meta(pod.metadata),
    ready: (st.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    conditions: conditions(st.conditions),
    containers: containers(pod),
  };
  if (pod.spec?.nodeName) w.node = pod.spec.nodeName;
  if (st.podIP) w.ip = st.podIP;
  if (st.phase) w.phase = st.phase;
  if (st.reason) w.reason = cap(st.reason, 128);
  if (st.message) w.message = cap(st.message, MAX_MESSAGE);
  if (pod.spec?.hostname) w.hostname = pod.spec.hostname;
  if (pod.spec?.subdomain) w.subdomain = pod.spec.subdomain;
  if (st.startTime) w.startTime = st.startTime;
  return w;
}

export function slimService(svc: Service): WService {
  const spec = svc.spec ?? {};
  const w: WService = {
    kind: 'Service',
    meta: meta(svc.metadata),
    type: spec.type ?? 'ClusterIP',
    clusterIP: spec.clusterIP ?? '',
    ports: (spec.ports ?? []).map((p) => {
      const o: WServicePortOut = { name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' };
      if (p.targetPort !== undefined) o.targetPort = p.targetPort;
      if (p.nodePort !== undefined) o.nodePort = p.nodePort;
      return o;
    }),
    loadBalancerIPs: (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? '').filter(Boolean),
    externalIPs: spec.externalIPs ?? [],
    publishNotReadyAddresses: spec.publishNotReadyAddresses === true,
  };
  if (spec.type === 'ExternalName') w.externalName = cap(spec.externalName, 253);
  if (spec.selector && Object.keys(spec.selector).length > 0) w.selector = { ...spec.selector };
  if (spec.sessionAffinity) w.sessionAffinity = spec.sessionAffinity;
  if (spec.externalTrafficPolicy) w.externalTrafficPolicy = spec.externalTrafficPolicy;
  return w;
}
type WServicePortOut = WService['ports'][number];

export function slimSlice(s: EndpointSlice): WSlice {
  return {
    kind: 'EndpointSlice',
    meta: meta(s.metadata),
    service: s.metadata.labels?.['kubernetes.io/service-name'] ?? '',
    ports: (s.ports ?? []).filter((p) => p.port !== undefined).map((p) => ({ name: p.name ?? '', port: p.port!, protocol: p.protocol ?? 'TCP' })),
    endpoints: (s.endpoints ?? []).flatMap((e) =>
      e.addresses.map((ip) => {
        const c = e.conditions ?? {};
        // Kubernetes: a nil ready condition means ready; serving follows ready unless set.
        const ready = c.ready !== false;
        const out: WSlice['endpoints'][number] = { ip, ready, serving: c.serving ?? ready, terminating: c.terminating === true };
        if (e.hostname) out.hostname = e.hostname;
        if (e.nodeName) out.node = e.nodeName;
        if (e.targetRef?.kind === 'Pod' && e.targetRef.name) {
          out.pod = e.targetRef.name;
          if (e.targetRef.uid) out.podUid = e.targetRef.uid;
        }
        return out;
      }),
    ),
  };
}

export function slimIngress(ing: Ingress): WIngress {
  const paths: WIngress['paths'] = [];
  const backend = (b: { service?: { name: string; port: { number?: number; name?: string } } } | undefined) =>
    b?.service ? { service: b.service.name, port: b.service.port.number ?? b.service.port.name } : {};
  if (ing.spec?.defaultBackend) paths.push({ host: '*', path: '/', pathType: 'default backend', ...backend(ing.spec.defaultBackend) });
  for (const r of ing.spec?.rules ?? []) {
    for (const p of r.http?.paths ?? []) paths.push({ host: r.host ?? '*', path: p.path ?? '/', pathType: p.pathType, ...backend(p.backend) });
  }
  const w: WIngress = {
    kind: 'Ingress',
    meta: meta(ing.metadata),
    tlsHosts: (ing.spec?.tls ?? []).flatMap((t) => t.hosts ?? []),
    paths,
    addresses: (ing.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? '').filter(Boolean),
  };
  if (ing.spec?.ingressClassName) w.className = ing.spec.ingressClassName;
  return w;
}

export function slimDeployment(d: Deployment): WDeployment {
  const st = d.status ?? {};
  const w: WDeployment = {
    kind: 'Deployment',
    meta: meta(d.metadata),
    replicas: d.spec?.replicas ?? 1,
    updated: st.updatedReplicas ?? 0,
    ready: st.readyReplicas ?? 0,
    available: st.availableReplicas ?? 0,
    conditions: conditions(st.conditions),
  };
  if (d.metadata.generation !== undefined) w.generation = d.metadata.generation;
  if (st.observedGeneration !== undefined) w.observedGeneration = st.observedGeneration;
  return w;
}

export function slimReplicaSet(rs: ReplicaSet): WReplicaSet {
  const w: WReplicaSet = { kind: 'ReplicaSet', meta: meta(rs.metadata), replicas: rs.status?.replicas ?? 0, ready: rs.status?.readyReplicas ?? 0 };
  const rev = rs.metadata.annotations?.['deployment.kubernetes.io/revision'];
  if (rev) w.revision = rev;
  return w;
}

export function slimEvent(e: Event): WEvent {
  const m = meta(e.metadata);
  m.annotations = {};
  return {
    kind: 'Event',
    meta: m,
    type: e.type ?? 'Normal',
    reason: cap(e.reason, 128),
    message: cap(e.message, MAX_MESSAGE),
    count: e.count ?? 1,
    last: e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? '',
    object: { kind: e.involvedObject?.kind ?? '', name: e.involvedObject?.name ?? '', ...(e.involvedObject?.uid ? { uid: e.involvedObject.uid } : {}) },
  };
}

export function slimNode(n: Node): WNode {
  const addresses = (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP').map((a) => a.address);
  return { name: n.metadata.name ?? '', addresses, ready: (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') };
}

/** Any object the page draws, by kind; undefined for kinds it does not. */
export function slim(obj: KObject): WObject | undefined {
  switch (obj.kind) {
    case 'Pod':
      return slimPod(obj as Pod);
    case 'Service':
      return slimService(obj as Service);
    case 'EndpointSlice':
      return slimSlice(obj as EndpointSlice);
    case 'Ingress':
      return slimIngress(obj as Ingress);
    case 'Deployment':
      return slimDeployment(obj as Deployment);
    case 'ReplicaSet':
      return slimReplicaSet(obj as ReplicaSet);
    case 'Event':
      return slimEvent(obj as Event);
    default:
      return undefined;
  }
}
