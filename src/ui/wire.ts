// What the UI server sends the browser: slim copies of the API objects the road is drawn from (only
// the fields the page shows, long strings capped), and the messages of the event stream. Shared by
// the server (slim.ts, hub.ts) and the page (web/), so both sides agree on one shape.

export interface WOwner {
  kind: string;
  name: string;
  uid?: string;
}

export interface WMeta {
  name: string;
  namespace: string;
  uid: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  created?: string;
  /** metadata.deletionTimestamp: the object is being deleted. */
  deleting?: string;
  /** The controlling owner (ReplicaSet of a Pod, Deployment of a ReplicaSet, ...). */
  owner?: WOwner;
}

export interface WCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  since?: string;
}

export interface WContainer {
  name: string;
  image: string;
  ready: boolean;
  restarts: number;
  state: 'running' | 'waiting' | 'terminated' | 'unknown';
  reason?: string;
  message?: string;
  startedAt?: string;
  /** `HTTP GET :http/ready every 2s`, for "why is this Pod not Ready". */
  readinessProbe?: string;
  ports: { name?: string; containerPort: number; protocol: string }[];
}

export interface WPod {
  kind: 'Pod';
  meta: WMeta;
  node?: string;
  ip?: string;
  phase?: string;
  reason?: string;
  message?: string;
  ready: boolean;
  conditions: WCondition[];
  containers: WContainer[];
  hostname?: string;
  subdomain?: string;
  startTime?: string;
}

export interface WServicePort {
  name: string;
  port: number;
  protocol: string;
  targetPort?: string | number;
  nodePort?: number;
}

export interface WService {
  kind: 'Service';
  meta: WMeta;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  /** '' while not allocated, 'None' for a headless Service. */
  clusterIP: string;
  externalName?: string;
  /** undefined: no selector (endpoints managed by hand). */
  selector?: Record<string, string>;
  ports: WServicePort[];
  loadBalancerIPs: string[];
  externalIPs: string[];
  publishNotReadyAddresses: boolean;
  sessionAffinity?: string;
  externalTrafficPolicy?: string;
}

export interface WEndpoint {
  ip: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  hostname?: string;
  node?: string;
  /** targetRef of kind Pod */
  pod?: string;
  podUid?: string;
}

export interface WSlice {
  kind: 'EndpointSlice';
  meta: WMeta;
  /** The kubernetes.io/service-name label. */
  service: string;
  ports: { name: string; port: number; protocol: string }[];
  endpoints: WEndpoint[];
}

export interface WIngressPath {
  host: string;
  path: string;
  pathType: string;
  service?: string;
  port?: string | number;
}

export interface WIngress {
  kind: 'Ingress';
  meta: WMeta;
  className?: string;
  tlsHosts: string[];
  paths: WIngressPath[];
  addresses: string[];
}

export interface WDeployment {
  kind: 'Deployment';
  meta: WMeta;
  replicas: number;
  updated: number;
  ready: number;
  available: number;
  generation?: number;
  observedGeneration?: number;
  conditions: WCondition[];
}

export interface WReplicaSet {
  kind: 'ReplicaSet';
  meta: WMeta;
  replicas: number;
  ready: number;
  /** deployment.kubernetes.io/revision */
  revision?: string;
}

export interface WEvent {
  kind: 'Event';
  meta: WMeta;
  type: string;
  reason: string;
  message: string;
  count: number;
  last: string;
  object: { kind: string; name: string; uid?: string };
}

export type WObject = WPod | WService | WSlice | WIngress | WDeployment | WReplicaSet | WEvent;
export type WKind = WObject['kind'];

export interface WNode {
  name: string;
  addresses: string[];
  ready: boolean;
}

/** One endpoint's counters, as `[namespace, service, port, protocol, endpoint, packets, bytes]` (compact on the wire). */
export type WCounter = [string, string, string, string, string, number, number];

export interface CounterStatus {
  ok: boolean;
  /** Why there are no counters (proxy disabled, iptables-save failed, ...). */
  reason?: string;
}

export type ServerMessage =
  | { t: 'hello'; version: string; clusterDomain: string; namespace: string; readOnly: true }
  | { t: 'snapshot'; objects: WObject[]; namespaces: string[]; nodes: WNode[] }
  | { t: 'changes'; put: WObject[]; del: string[] }
  | { t: 'namespaces'; names: string[] }
  | { t: 'nodes'; nodes: WNode[] }
  /** `full`: replaces every counter the page has; else only the changed ones. `at`: sample time (ms). */
  | { t: 'counters'; at: number; full: boolean; items: WCounter[]; status: CounterStatus }
  | { t: 'ping' };

/** The key an object is stored under on both sides: `Kind/namespace/name`. */
export function wkey(o: { kind: string; meta: { namespace: string; name: string } }): string {
  return `${o.kind}/${o.meta.namespace}/${o.meta.name}`;
}

/** The counters key of one endpoint of one service port. */
export function counterKey(ns: string, svc: string, port: string, protocol: string, endpoint: string): string {
  return `${ns}/${svc}:${port}/${protocol}/${endpoint}`;
}
