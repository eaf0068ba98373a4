// Kubernetes' defaulting (pkg/apis/*/v1/defaults.go) for the kinds we serve, applied in place before
// validation so stored objects look like a real API server's. Like Go's defaulters, a numeric field
// set to 0 where 0 is meaningless counts as unset.

import type { ResourceInfo } from '../resources.js';
import { isObj, listAt, type Obj } from './field.js';
import { defaultBindingSubjects } from './rbac.js';
import { defaultWorkloadKind } from './defaults-workloads.js';
import { defaultPolicyKind } from './defaults-policy.js';

const DEFAULT_FILE_MODE = 0o644;

/** Removes null-valued properties (a JSON null decodes to "absent" in Kubernetes' typed structs). */
export function dropNulls(v: unknown, path: string[] = []): void {
  if (Array.isArray(v)) {
    for (const x of v) dropNulls(x, path);
    return;
  }
  if (!isObj(v)) return;
  for (const [k, x] of Object.entries(v)) {
    if (x === null) delete v[k];
    // managedFields entries hold free-form field sets where null has a meaning of its own.
    else if (!(k === 'managedFields' && path.length === 1 && path[0] === 'metadata')) dropNulls(x, [...path, k]);
  }
}

function set<T>(o: Obj, key: string, value: T): void {
  if (o[key] === undefined) o[key] = value;
}

function setIfZero(o: Obj, key: string, value: number): void {
  if (o[key] === undefined || o[key] === 0) o[key] = value;
}

function objIn(o: Obj, key: string): Obj | undefined {
  return isObj(o[key]) ? (o[key] as Obj) : undefined;
}

/** `nginx`, `nginx:latest` → Always; `nginx:1.25`, `nginx@sha256:…` → IfNotPresent. */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  const tag = colon > lastSlash ? image.slice(colon + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultHTTPGet(h: Obj | undefined): void {
  if (!h) return;
  set(h, 'path', '/');
  set(h, 'scheme', 'HTTP');
}

function defaultProbe(p: Obj | undefined): void {
  if (!p) return;
  setIfZero(p, 'timeoutSeconds', 1);
  setIfZero(p, 'periodSeconds', 10);
  setIfZero(p, 'successThreshold', 1);
  setIfZero(p, 'failureThreshold', 3);
  defaultHTTPGet(objIn(p, 'httpGet'));
}

function defaultContainer(c: Obj, hostNetwork: boolean): void {
  if (typeof c.image === 'string' && c.image) set(c, 'imagePullPolicy', defaultPullPolicy(c.image));
  set(c, 'terminationMessagePath', '/dev/termination-log');
  set(c, 'terminationMessagePolicy', 'File');
  for (const p of listAt(c.ports)) {
    if (!isObj(p)) continue;
    if (!p.protocol) p.protocol = 'TCP';
    if (hostNetwork && (p.hostPort === undefined || p.hostPort === 0)) p.hostPort = p.containerPort;
  }
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(objIn(c, probe));
  const lc = objIn(c, 'lifecycle');
  if (lc) for (const hook of ['postStart', 'preStop']) defaultHTTPGet(objIn(objIn(lc, hook) ?? {}, 'httpGet'));
  for (const e of listAt(c.env)) {
    const fieldRef = isObj(e) ? objIn(objIn(e, 'valueFrom') ?? {}, 'fieldRef') : undefined;
    if (fieldRef) set(fieldRef, 'apiVersion', 'v1');
  }
  // A limit without a request means "request the limit", which is what the scheduler then reserves.
  const res = objIn(c, 'resources');
  const limits = res && objIn(res, 'limits');
  if (res && limits && Object.keys(limits).length > 0) {
    const requests = objIn(res, 'requests') ?? {};
    for (const [k, v] of Object.entries(limits)) if (requests[k] === undefined) requests[k] = v;
    res.requests = requests;
  }
}

function defaultVolume(v: Obj): void {
  for (const src of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    const s = objIn(v, src);
    if (s) set(s, 'defaultMode', DEFAULT_FILE_MODE);
  }
  for (const p of listAt(objIn(v, 'projected')?.sources)) {
    const sat = isObj(p) ? objIn(p, 'serviceAccountToken') : undefined;
    if (sat) set(sat, 'expirationSeconds', 3600);
  }
  const hp = objIn(v, 'hostPath');
  if (hp) set(hp, 'type', '');
}

export function defaultPodSpec(spec: Obj): void {
  set(spec, 'restartPolicy', 'Always');
  set(spec, 'dnsPolicy', 'ClusterFirst');
  set(spec, 'terminationGracePeriodSeconds', 30);
  set(spec, 'schedulerName', 'default-scheduler');
  set(spec, 'enableServiceLinks', true);
  set(spec, 'securityContext', {});
  if (!spec.serviceAccountName && typeof spec.serviceAccount === 'string' && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  const hostNetwork = spec.hostNetwork === true;
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    for (const c of listAt(spec[list])) if (isObj(c)) defaultContainer(c, hostNetwork);
  }
  for (const v of listAt(spec.volumes)) if (isObj(v)) defaultVolume(v);
}

function defaultTemplate(spec: Obj): void {
  const t = objIn(spec, 'template');
  const ps = t && objIn(t, 'spec');
  if (ps) defaultPodSpec(ps);
}

function defaultService(spec: Obj): void {
  set(spec, 'type', 'ClusterIP');
  set(spec, 'sessionAffinity', 'None');
  const type = spec.type;
  for (const p of listAt(spec.ports)) {
    if (!isObj(p)) continue;
    if (!p.protocol) p.protocol = 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (type !== 'ExternalName') {
    // Keep clusterIP and clusterIPs in step, as the registry does before allocation.
    const ips = listAt<unknown>(spec.clusterIPs);
    if (typeof spec.clusterIP === 'string' && spec.clusterIP && ips.length === 0) spec.clusterIPs = [spec.clusterIP];
    else if (!spec.clusterIP && typeof ips[0] === 'string') spec.clusterIP = ips[0];
    set(spec, 'ipFamilies', ['IPv4']);
    set(spec, 'ipFamilyPolicy', 'SingleStack');
    set(spec, 'internalTrafficPolicy', 'Cluster');
  }
  if (type === 'NodePort' || type === 'LoadBalancer') set(spec, 'externalTrafficPolicy', 'Cluster');
  if (type === 'LoadBalancer') set(spec, 'allocateLoadBalancerNodePorts', true);
  if (spec.sessionAffinity === 'ClientIP') {
    const cfg = objIn(spec, 'sessionAffinityConfig') ?? {};
    const client = objIn(cfg, 'clientIP') ?? {};
    setIfZero(client, 'timeoutSeconds', 10800);
    cfg.clientIP = client;
    spec.sessionAffinityConfig = cfg;
  }
}

function defaultDeployment(spec: Obj): void {
  set(spec, 'replicas', 1);
  const strategy = objIn(spec, 'strategy') ?? {};
  set(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const ru = objIn(strategy, 'rollingUpdate') ?? {};
    set(ru, 'maxUnavailable', '25%');
    set(ru, 'maxSurge', '25%');
    strategy.rollingUpdate = ru;
  }
  spec.strategy = strategy;
  set(spec, 'revisionHistoryLimit', 10);
  set(spec, 'progressDeadlineSeconds', 600);
  defaultTemplate(spec);
}

function defaultSecret(obj: Obj): void {
  set(obj, 'type', 'Opaque');
  const sd = objIn(obj, 'stringData');
  if (sd) {
    const data = objIn(obj, 'data') ?? {};
    for (const [k, v] of Object.entries(sd)) if (typeof v === 'string') data[k] = Buffer.from(v, 'utf8').toString('base64');
    obj.data = data;
  }
  delete obj.stringData;
}

/** Fills in Kubernetes' defaults for `obj` of kind `res`, in place. Namespace defaulting is the registry's. */
export function applyDefaults(res: ResourceInfo, obj: Obj): void {
  dropNulls(obj);
  const spec = objIn(obj, 'spec');
  switch (res.kind) {
    case 'Pod':
      if (spec) defaultPodSpec(spec);
      break;
    case 'Service':
      if (spec) defaultService(spec);
      break;
    case 'Deployment':
      if (spec) defaultDeployment(spec);
      break;
    case 'ReplicaSet':
      if (spec) {
        set(spec, 'replicas', 1);
        defaultTemplate(spec);
      }
      break;
    case 'Secret':
      defaultSecret(obj);
      break;
    case 'Namespace': {
      const s = spec ?? {};
      set(s, 'finalizers', ['kubernetes']);
      obj.spec = s;
      const status = objIn(obj, 'status') ?? {};
      set(status, 'phase', 'Active');
      obj.status = status;
      break;
    }
    case 'Event':
      set(obj, 'type', 'Normal');
      setIfZero(obj, 'count', 1);
      break;
    case 'Endpoints':
      for (const s of listAt(obj.subsets)) for (const p of listAt(isObj(s) ? s.ports : [])) if (isObj(p) && !p.protocol) p.protocol = 'TCP';
      break;
    case 'EndpointSlice':
      // Kubernetes defaults a slice port's name to "" (kubectl describe dereferences it).
      for (const p of listAt(obj.ports)) {
        if (!isObj(p)) continue;
        if (!p.protocol) p.protocol = 'TCP';
        if (p.name === undefined) p.name = '';
      }
      break;
    case 'RoleBinding':
    case 'ClusterRoleBinding':
      defaultBindingSubjects(obj);
      break;
    case 'StatefulSet':
    case 'DaemonSet':
    case 'Job':
    case 'CronJob':
    case 'PersistentVolumeClaim':
    case 'PersistentVolume':
    case 'StorageClass':
      defaultWorkloadKind(res.kind, obj);
      break;
    case 'CustomResourceDefinition':
    case 'HorizontalPodAutoscaler':
    case 'PriorityClass':
    case 'NetworkPolicy':
      defaultPolicyKind(res.kind, obj);
      break;
    default:
      break;
  }
}

/**
 * Update-time defaulting, after applyDefaults and before validateObject(res, obj, old): keeps what the
 * server allocated when the new object omits it (a `kubectl replace` of a manifest without
 * `clusterIP`), and drops type-dependent Service fields the user left behind when changing type, as
 * Kubernetes' Service registry does.
 */
export function prepareUpdate(res: ResourceInfo, obj: Obj, old: Obj): void {
  if (res.kind === 'Secret') set(obj, 'type', old.type ?? 'Opaque');
  if (res.kind !== 'Service') return;
  const spec = objIn(obj, 'spec');
  const oldSpec = objIn(old, 'spec');
  if (!spec || !oldSpec) return;
  const type = spec.type ?? 'ClusterIP';
  const oldType = oldSpec.type ?? 'ClusterIP';
  if (type !== 'ExternalName' && oldType !== 'ExternalName') {
    if (!spec.clusterIP && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
    if (listAt(spec.clusterIPs).length === 0 && listAt(oldSpec.clusterIPs).length > 0) spec.clusterIPs = [...listAt(oldSpec.clusterIPs)];
  }
  const external = (t: unknown) => t === 'NodePort' || t === 'LoadBalancer';
  const ports = listAt(spec.ports);
  const oldPorts = listAt(oldSpec.ports);
  if (external(type) && external(oldType)) {
    // Same port, same protocol, no nodePort given: keep the allocated one.
    for (const p of ports) {
      if (!isObj(p) || p.nodePort) continue;
      const prev = oldPorts.find((o) => isObj(o) && o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (prev && isObj(prev) && prev.nodePort) p.nodePort = prev.nodePort;
    }
    if (!spec.healthCheckNodePort && oldSpec.healthCheckNodePort && spec.externalTrafficPolicy === 'Local' && type === 'LoadBalancer') {
      spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
    }
  }
  if (!external(type) && external(oldType)) {
    for (const p of ports) {
      if (!isObj(p) || !p.nodePort) continue;
      const prev = oldPorts.find((o) => isObj(o) && o.nodePort === p.nodePort);
      if (prev) delete p.nodePort;
    }
    if (spec.externalTrafficPolicy === oldSpec.externalTrafficPolicy) delete spec.externalTrafficPolicy;
    if (spec.healthCheckNodePort === oldSpec.healthCheckNodePort) delete spec.healthCheckNodePort;
    if (spec.allocateLoadBalancerNodePorts === oldSpec.allocateLoadBalancerNodePorts) delete spec.allocateLoadBalancerNodePorts;
  }
  if (type === 'ExternalName' && oldType !== 'ExternalName') {
    // The cluster IP is released: drop what the user carried over from the old object.
    if (spec.clusterIP === oldSpec.clusterIP) delete spec.clusterIP;
    if (semanticArrayEqual(spec.clusterIPs, oldSpec.clusterIPs)) delete spec.clusterIPs;
    for (const f of ['ipFamilies', 'ipFamilyPolicy', 'internalTrafficPolicy']) if (semanticArrayEqual(spec[f], oldSpec[f])) delete spec[f];
  }
}

function semanticArrayEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
