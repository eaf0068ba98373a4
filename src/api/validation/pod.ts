// PodSpec rules (pkg/apis/core/validation ValidatePodSpec and friends), shared by Pods and the pod
// templates of Deployments and ReplicaSets. Paths are built from the caller's prefix so a template's
// errors read `spec.template.spec.containers[0].image`.

import {
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isQualifiedName,
  isValidIP,
  isValidLabelValue,
  isValidPortName,
} from '../names.js';
import { isQuantity, parseQuantity } from '../quantity.js';
import {
  type Causes,
  child,
  duplicate,
  each,
  forbidden,
  index,
  invalid,
  isObj,
  key,
  listAt,
  nonNegative,
  notFound,
  notSupported,
  numAt,
  type Obj,
  objAt,
  portNum,
  quantityCauses,
  required,
  strAt,
} from './field.js';
import { validateLabels, validateLabelSelector, validateTemplateMeta } from './meta.js';
import { present, relativePath, validateVolumes } from './pod-volumes.js';

export interface PodSpecOptions {
  /** A pod template (Deployment/ReplicaSet): images may be filled in later, so they are not required. */
  template?: boolean;
}

const MAX_DNS_NAMESERVERS = 3;
const MAX_DNS_SEARCHES = 32;

const FIELD_REF_PATHS = [
  'metadata.annotations',
  'metadata.labels',
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];

const RESOURCE_FIELD_REFS = [
  'limits.cpu',
  'limits.ephemeral-storage',
  'limits.memory',
  'requests.cpu',
  'requests.ephemeral-storage',
  'requests.memory',
];

const HTTP_HEADER_NAME_RE = /^[-!#$%&'*+.^_|~0-9A-Za-z`]+$/;

// ---------- small helpers ----------

function portNumOrName(path: string, port: unknown): Causes {
  if (typeof port === 'number') return portNum(path, port);
  if (typeof port === 'string') return each(path, port, isValidPortName(port));
  return [required(path)];
}

// ---------- containers ----------

function validateEnv(env: unknown, path: string): Causes {
  const out: Causes = [];
  listAt(env).forEach((e, i) => {
    const p = index(path, i);
    const name = strAt(e.name);
    if (!name) out.push(required(child(p, 'name')));
    else out.push(...each(child(p, 'name'), name, isEnvVarName(name)));
    if (!isObj(e.valueFrom)) return;
    const vf = e.valueFrom;
    const vp = child(p, 'valueFrom');
    const sources = present(vf, ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef', 'fileKeyRef']);
    if (sources.length === 0) out.push(invalid(vp, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    else if (sources.length > 1) out.push(invalid(vp, '', 'may not have more than one field specified at a time'));
    if (strAt(e.value) !== '') out.push(invalid(vp, '', 'may not be specified when `value` is not empty'));
    if (isObj(vf.fieldRef)) {
      const fr = vf.fieldRef;
      const apiVersion = strAt(fr.apiVersion);
      if (!apiVersion) out.push(required(child(vp, 'fieldRef', 'apiVersion')));
      else if (apiVersion !== 'v1') out.push(notSupported(child(vp, 'fieldRef', 'apiVersion'), apiVersion, ['v1']));
      const fp = strAt(fr.fieldPath);
      const subscript = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fp);
      if (!fp) out.push(required(child(vp, 'fieldRef', 'fieldPath')));
      else if (subscript) out.push(...each(child(vp, 'fieldRef', 'fieldPath'), subscript[2], isQualifiedName(subscript[2].toLowerCase())));
      else if (!FIELD_REF_PATHS.includes(fp)) out.push(notSupported(child(vp, 'fieldRef', 'fieldPath'), fp, FIELD_REF_PATHS));
    }
    if (isObj(vf.resourceFieldRef)) {
      const rf = vf.resourceFieldRef;
      const r = strAt(rf.resource);
      if (!r) out.push(required(child(vp, 'resourceFieldRef', 'resource')));
      else if (!RESOURCE_FIELD_REFS.includes(r) && !/^(limits|requests)\.hugepages-/.test(r)) {
        out.push(notSupported(child(vp, 'resourceFieldRef', 'resource'), r, RESOURCE_FIELD_REFS));
      }
      if (rf.divisor !== undefined) out.push(...quantityCauses(child(vp, 'resourceFieldRef', 'divisor'), rf.divisor));
    }
    for (const k of ['configMapKeyRef', 'secretKeyRef'] as const) {
      if (!isObj(vf[k])) continue;
      const ref = vf[k];
      if (!strAt(ref.name)) out.push(required(child(vp, k, 'name')));
      const refKey = strAt(ref.key);
      if (!refKey) out.push(required(child(vp, k, 'key')));
      else out.push(...each(child(vp, k, 'key'), refKey, isConfigMapKey(refKey)));
    }
  });
  return out;
}

function validateEnvFrom(envFrom: unknown, path: string): Causes {
  const out: Causes = [];
  listAt(envFrom).forEach((e, i) => {
    const p = index(path, i);
    const prefix = strAt(e.prefix);
    if (prefix) out.push(...each(child(p, 'prefix'), prefix, isEnvVarName(prefix)));
    const sources = present(e, ['configMapRef', 'secretRef']);
    if (sources.length === 0) out.push(invalid(p, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (sources.length > 1) out.push(invalid(p, '', 'may not have more than one field specified at a time'));
    for (const s of sources) {
      const name = strAt(objAt(e[s]).name);
      if (!name) out.push(required(child(p, s, 'name')));
      else out.push(...each(child(p, s, 'name'), name, isDNS1123Subdomain(name)));
    }
  });
  return out;
}

function isStandardContainerResource(name: string): boolean {
  return name === 'cpu' || name === 'memory' || name === 'ephemeral-storage' || name.startsWith('hugepages-');
}

function validateResources(res: unknown, path: string): Causes {
  const out: Causes = [];
  const r = objAt(res);
  const limits = objAt(r.limits);
  const requests = objAt(r.requests);
  for (const [part, m] of [
    ['limits', limits],
    ['requests', requests],
  ] as const) {
    for (const [name, q] of Object.entries(m)) {
      const p = key(child(path, part), name);
      if (name.includes('/')) out.push(...each(p, name, isQualifiedName(name)));
      else if (!isStandardContainerResource(name)) out.push(invalid(p, name, 'must be a standard resource for containers'));
      out.push(...quantityCauses(p, q));
    }
  }
  for (const [name, q] of Object.entries(requests)) {
    const limit = limits[name];
    if (limit === undefined || !validQuantity(q) || !validQuantity(limit)) continue;
    if (parseQuantity(q as string | number) > parseQuantity(limit as string | number)) {
      out.push(invalid(key(child(path, 'requests'), name), String(q), `must be less than or equal to ${name} limit of ${String(limit)}`));
    }
  }
  return out;
}

function validQuantity(q: unknown): boolean {
  return typeof q === 'number' ? Number.isFinite(q) : typeof q === 'string' && isQuantity(q);
}

function validateVolumeMounts(mounts: unknown, path: string, volumes: Set<string>): Causes {
  const out: Causes = [];
  const seen = new Set<string>();
  listAt(mounts).forEach((m, i) => {
    const p = index(path, i);
    const name = strAt(m.name);
    if (!name) out.push(required(child(p, 'name')));
    else if (!volumes.has(name)) out.push(notFound(child(p, 'name'), name));
    const mp = strAt(m.mountPath);
    if (!mp) out.push(required(child(p, 'mountPath')));
    else {
      if (seen.has(mp)) out.push(invalid(child(p, 'mountPath'), mp, 'must be unique'));
      seen.add(mp);
    }
    const sub = strAt(m.subPath);
    if (sub) out.push(...relativePath(child(p, 'subPath'), sub));
    const subExpr = strAt(m.subPathExpr);
    if (subExpr) {
      if (sub) out.push(invalid(child(p, 'subPathExpr'), subExpr, 'subPathExpr and subPath are mutually exclusive'));
      out.push(...relativePath(child(p, 'subPathExpr'), subExpr));
    }
  });
  return out;
}

function validateHTTPGet(h: Obj, path: string): Causes {
  const out: Causes = [];
  if (!strAt(h.path)) out.push(required(child(path, 'path')));
  out.push(...portNumOrName(child(path, 'port'), h.port));
  listAt(h.httpHeaders).forEach((hd, i) => {
    const n = strAt(hd.name);
    if (!HTTP_HEADER_NAME_RE.test(n)) out.push(invalid(child(index(child(path, 'httpHeaders'), i), 'name'), n, 'a valid HTTP header must consist of alphanumeric characters or \'-\''));
  });
  return out;
}

/** exec/httpGet/tcpSocket(/grpc/sleep): exactly one handler, each checked. */
function validateHandler(h: Obj, path: string, kinds: readonly string[]): Causes {
  const out: Causes = [];
  const set = present(h, kinds);
  if (set.length === 0) out.push(required(path, 'must specify a handler type'));
  for (const k of set.slice(1)) out.push(forbidden(child(path, k), 'may not specify more than 1 handler type'));
  if (isObj(h.exec) && listAt(h.exec.command).length === 0) out.push(required(child(path, 'exec', 'command')));
  if (isObj(h.httpGet)) out.push(...validateHTTPGet(h.httpGet, child(path, 'httpGet')));
  if (isObj(h.tcpSocket)) out.push(...portNumOrName(child(path, 'tcpSocket', 'port'), h.tcpSocket.port));
  if (isObj(h.grpc)) out.push(...portNum(child(path, 'grpc', 'port'), numAt(h.grpc.port) ?? 0));
  if (isObj(h.sleep)) out.push(...nonNegative(child(path, 'sleep', 'seconds'), numAt(h.sleep.seconds)));
  return out;
}

function validateProbe(probe: Obj, path: string, opts: { mustSucceedOnce: boolean; portNames: Set<string> }): Causes {
  const out = validateHandler(probe, path, ['exec', 'httpGet', 'tcpSocket', 'grpc']);
  out.push(...nonNegative(child(path, 'initialDelaySeconds'), numAt(probe.initialDelaySeconds)));
  for (const f of ['timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    const v = numAt(probe[f]);
    if (v === undefined) continue;
    if (v < 0) out.push(invalid(child(path, f), v, 'must be greater than or equal to 0'));
    else if (v === 0) out.push(invalid(child(path, f), v, 'must be greater than or equal to 1'));
  }
  const tgp = numAt(probe.terminationGracePeriodSeconds);
  if (tgp !== undefined && tgp <= 0) out.push(invalid(child(path, 'terminationGracePeriodSeconds'), tgp, 'must be greater than 0'));
  const st = numAt(probe.successThreshold);
  if (opts.mustSucceedOnce && st !== undefined && st !== 1) out.push(invalid(child(path, 'successThreshold'), st, 'must be 1'));
  // A named port that no container port carries can never be probed: refuse it up front.
  for (const h of ['httpGet', 'tcpSocket'] as const) {
    const port = objAt(probe[h]).port;
    if (typeof port === 'string' && isValidPortName(port).length === 0 && !opts.portNames.has(port)) {
      out.push(invalid(child(path, h, 'port'), port, 'must match the name of a port of this container'));
    }
  }
  return out;
}

interface ContainerContext {
  volumes: Set<string>;
  names: Set<string>;
  init: boolean;
  template: boolean;
  hostNetwork: boolean;
  hostPorts: Map<string, string>;
}

function validateContainerPorts(ports: unknown, path: string, ctx: ContainerContext): { causes: Causes; names: Set<string> } {
  const out: Causes = [];
  const names = new Set<string>();
  listAt(ports).forEach((port, i) => {
    const p = index(path, i);
    const name = strAt(port.name);
    if (name) {
      out.push(...each(child(p, 'name'), name, isValidPortName(name)));
      if (names.has(name)) out.push(duplicate(child(p, 'name'), name));
      names.add(name);
    }
    const cp = numAt(port.containerPort) ?? 0;
    if (cp === 0) out.push(required(child(p, 'containerPort')));
    else out.push(...portNum(child(p, 'containerPort'), cp));
    const hp = numAt(port.hostPort) ?? 0;
    if (hp !== 0) out.push(...portNum(child(p, 'hostPort'), hp));
    const proto = strAt(port.protocol);
    if (!proto) out.push(required(child(p, 'protocol')));
    else if (!['SCTP', 'TCP', 'UDP'].includes(proto)) out.push(notSupported(child(p, 'protocol'), proto, ['SCTP', 'TCP', 'UDP']));
    const hostIP = strAt(port.hostIP);
    if (hostIP) out.push(...each(child(p, 'hostIP'), hostIP, isValidIP(hostIP)));
    if (ctx.hostNetwork && hp !== 0 && hp !== cp) out.push(invalid(child(p, 'hostPort'), hp, 'must match `containerPort` when `hostNetwork` is true'));
    if (hp !== 0) {
      const k = `${hp}/${proto || 'TCP'}`;
      if (ctx.hostPorts.has(k)) out.push(duplicate(child(p, 'hostPort'), k));
      else ctx.hostPorts.set(k, p);
    }
  });
  return { causes: out, names };
}

function validateContainer(c: Obj, path: string, ctx: ContainerContext): Causes {
  const out: Causes = [];
  const name = strAt(c.name);
  if (!name) out.push(required(child(path, 'name')));
  else {
    out.push(...each(child(path, 'name'), name, isDNS1123Label(name)));
    if (ctx.names.has(name)) out.push(duplicate(child(path, 'name'), name));
    ctx.names.add(name);
  }
  const image = strAt(c.image);
  if (!image) {
    if (!ctx.template) out.push(required(child(path, 'image')));
  } else if (image.trim() !== image) {
    out.push(invalid(child(path, 'image'), image, 'must not have leading or trailing whitespace'));
  }
  const ports = validateContainerPorts(c.ports, child(path, 'ports'), ctx);
  out.push(...ports.causes);
  out.push(...validateEnv(c.env, child(path, 'env')));
  out.push(...validateEnvFrom(c.envFrom, child(path, 'envFrom')));
  out.push(...validateResources(c.resources, child(path, 'resources')));
  out.push(...validateVolumeMounts(c.volumeMounts, child(path, 'volumeMounts'), ctx.volumes));

  const restartPolicy = c.restartPolicy;
  const sidecar = ctx.init && restartPolicy === 'Always';
  if (restartPolicy !== undefined) {
    if (!ctx.init) out.push(forbidden(child(path, 'restartPolicy'), 'may not be set for non-init containers'));
    else if (restartPolicy !== 'Always') out.push(notSupported(child(path, 'restartPolicy'), restartPolicy, ['Always']));
  }
  const probes: [string, boolean][] = [
    ['livenessProbe', true],
    ['readinessProbe', false],
    ['startupProbe', true],
  ];
  for (const [p, mustSucceedOnce] of probes) {
    if (!isObj(c[p])) continue;
    if (ctx.init && !sidecar) {
      out.push(forbidden(child(path, p), 'may not be set for init containers without restartPolicy=Always'));
      continue;
    }
    out.push(...validateProbe(c[p] as Obj, child(path, p), { mustSucceedOnce, portNames: ports.names }));
  }
  if (isObj(c.lifecycle)) {
    if (ctx.init && !sidecar) out.push(forbidden(child(path, 'lifecycle'), 'may not be set for init containers without restartPolicy=Always'));
    else {
      for (const hook of ['postStart', 'preStop'] as const) {
        const h = c.lifecycle[hook];
        if (isObj(h)) out.push(...validateHandler(h, child(path, 'lifecycle', hook), ['exec', 'httpGet', 'tcpSocket', 'sleep']));
      }
    }
  }
  return out;
}

// ---------- pod-level ----------

function validateDNS(spec: Obj, path: string): Causes {
  const out: Causes = [];
  const policy = strAt(spec.dnsPolicy);
  const cfg = spec.dnsConfig;
  if (policy === 'None') {
    if (!isObj(cfg)) out.push(required(child(path, 'dnsConfig'), 'must provide `dnsConfig` when `dnsPolicy` is None'));
    else if (listAt(cfg.nameservers).length === 0) {
      out.push(required(child(path, 'dnsConfig', 'nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None'));
    }
  }
  if (!isObj(cfg)) return out;
  const ns = listAt<unknown>(cfg.nameservers);
  if (ns.length > MAX_DNS_NAMESERVERS) out.push(invalid(child(path, 'dnsConfig', 'nameservers'), ns, `must not have more than ${MAX_DNS_NAMESERVERS} nameservers`));
  ns.forEach((n, i) => {
    if (typeof n === 'string') out.push(...each(index(child(path, 'dnsConfig', 'nameservers'), i), n, isValidIP(n)));
  });
  const searches = listAt<unknown>(cfg.searches);
  if (searches.length > MAX_DNS_SEARCHES) out.push(invalid(child(path, 'dnsConfig', 'searches'), searches, `must not have more than ${MAX_DNS_SEARCHES} search paths`));
  searches.forEach((s, i) => {
    if (typeof s !== 'string') return;
    // A trailing dot marks a fully-qualified search domain, which resolv.conf accepts.
    const bare = s.endsWith('.') ? s.slice(0, -1) : s;
    out.push(...each(index(child(path, 'dnsConfig', 'searches'), i), s, isDNS1123Subdomain(bare)));
  });
  listAt(cfg.options).forEach((o, i) => {
    if (!strAt(o.name)) out.push(required(child(index(child(path, 'dnsConfig', 'options'), i), 'name'), 'Option.Name must not be empty'));
  });
  return out;
}

function validateTolerations(tols: unknown, path: string): Causes {
  const out: Causes = [];
  listAt(tols).forEach((t, i) => {
    const p = index(path, i);
    const k = strAt(t.key);
    const op = strAt(t.operator) || 'Equal';
    const value = strAt(t.value);
    if (k) out.push(...each(child(p, 'key'), k, isQualifiedName(k)));
    if (!k && op !== 'Exists') {
      out.push(invalid(child(p, 'operator'), op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (op === 'Exists' && value) out.push(invalid(child(p, 'operator'), t, 'value must be empty when `operator` is \'Exists\''));
    if (op === 'Equal') out.push(...each(child(p, 'value'), value, isValidLabelValue(value)));
    if (t.tolerationSeconds !== undefined && strAt(t.effect) !== 'NoExecute') {
      out.push(invalid(child(p, 'effect'), strAt(t.effect), "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
  });
  return out;
}

function validateNodeSelectorTerm(term: Obj, path: string): Causes {
  const out: Causes = [];
  for (const part of ['matchExpressions', 'matchFields'] as const) {
    listAt(term[part]).forEach((req, j) => {
      const p = index(child(path, part), j);
      const op = strAt(req.operator);
      const values = listAt<unknown>(req.values);
      if (part === 'matchExpressions') out.push(...each(child(p, 'key'), strAt(req.key), isQualifiedName(strAt(req.key))));
      if ((op === 'In' || op === 'NotIn') && values.length === 0) out.push(required(child(p, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0) {
        out.push(forbidden(child(p, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      }
      if ((op === 'Gt' || op === 'Lt') && (values.length !== 1 || !/^-?\d+$/.test(String(values[0])))) {
        out.push(required(child(p, 'values'), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
      }
    });
  }
  return out;
}

function validateAffinity(aff: unknown, path: string): Causes {
  const out: Causes = [];
  const a = objAt(aff);
  const na = objAt(a.nodeAffinity);
  if (isObj(na.requiredDuringSchedulingIgnoredDuringExecution)) {
    const p = child(path, 'nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms');
    const terms = listAt(na.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms);
    if (terms.length === 0) out.push(required(p, 'must have at least one node selector term'));
    terms.forEach((t, i) => out.push(...validateNodeSelectorTerm(t, index(p, i))));
  }
  listAt(na.preferredDuringSchedulingIgnoredDuringExecution).forEach((pref, i) => {
    const p = index(child(path, 'nodeAffinity', 'preferredDuringSchedulingIgnoredDuringExecution'), i);
    const w = numAt(pref.weight) ?? 0;
    if (w < 1 || w > 100) out.push(invalid(child(p, 'weight'), w, 'must be in the range 1-100'));
    out.push(...validateNodeSelectorTerm(objAt(pref.preference), child(p, 'preference')));
  });
  for (const kind of ['podAffinity', 'podAntiAffinity'] as const) {
    const pa = objAt(a[kind]);
    listAt(pa.requiredDuringSchedulingIgnoredDuringExecution).forEach((term, i) => {
      const p = index(child(path, kind, 'requiredDuringSchedulingIgnoredDuringExecution'), i);
      out.push(...validatePodAffinityTerm(term, p));
    });
    listAt(pa.preferredDuringSchedulingIgnoredDuringExecution).forEach((w, i) => {
      const p = index(child(path, kind, 'preferredDuringSchedulingIgnoredDuringExecution'), i);
      const weight = numAt(w.weight) ?? 0;
      if (weight < 1 || weight > 100) out.push(invalid(child(p, 'weight'), weight, 'must be in the range 1-100'));
      out.push(...validatePodAffinityTerm(objAt(w.podAffinityTerm), child(p, 'podAffinityTerm')));
    });
  }
  return out;
}

function validatePodAffinityTerm(term: Obj, path: string): Causes {
  const out: Causes = [];
  const tk = strAt(term.topologyKey);
  if (!tk) out.push(required(child(path, 'topologyKey'), 'can not be empty'));
  else out.push(...each(child(path, 'topologyKey'), tk, isQualifiedName(tk)));
  if (isObj(term.labelSelector)) out.push(...validateLabelSelector(term.labelSelector, child(path, 'labelSelector')));
  if (isObj(term.namespaceSelector)) out.push(...validateLabelSelector(term.namespaceSelector, child(path, 'namespaceSelector')));
  listAt<unknown>(term.namespaces).forEach((n, i) => {
    if (typeof n === 'string') out.push(...each(index(child(path, 'namespaces'), i), n, isDNS1123Label(n)));
  });
  return out;
}

function validateTopologySpread(list: unknown, path: string): Causes {
  const out: Causes = [];
  const seen = new Set<string>();
  listAt(list).forEach((c, i) => {
    const p = index(path, i);
    const skew = numAt(c.maxSkew) ?? 0;
    if (skew <= 0) out.push(invalid(child(p, 'maxSkew'), skew, 'must be greater than zero'));
    const tk = strAt(c.topologyKey);
    if (!tk) out.push(required(child(p, 'topologyKey'), 'can not be empty'));
    else out.push(...each(child(p, 'topologyKey'), tk, isQualifiedName(tk)));
    const md = numAt(c.minDomains);
    if (md !== undefined && md <= 0) out.push(invalid(child(p, 'minDomains'), md, 'must be greater than 0'));
    const k = `${tk}/${strAt(c.whenUnsatisfiable)}`;
    if (seen.has(k)) out.push(duplicate(p, `{${tk}, ${strAt(c.whenUnsatisfiable)}}`));
    seen.add(k);
    if (isObj(c.labelSelector)) out.push(...validateLabelSelector(c.labelSelector, child(p, 'labelSelector')));
  });
  return out;
}

/** ValidatePodSpec: `path` is where the spec sits (`spec`, `spec.template.spec`). */
export function validatePodSpec(specIn: unknown, path: string, opts: PodSpecOptions = {}): Causes {
  const spec = objAt(specIn);
  const out: Causes = [];
  const vols = validateVolumes(spec.volumes, child(path, 'volumes'));
  out.push(...vols.causes);

  const ctxBase = { volumes: vols.names, names: new Set<string>(), template: !!opts.template, hostNetwork: spec.hostNetwork === true };
  const initPorts = new Map<string, string>();
  listAt(spec.initContainers).forEach((c, i) => {
    out.push(...validateContainer(c, index(child(path, 'initContainers'), i), { ...ctxBase, init: true, hostPorts: initPorts }));
  });
  const containers = listAt(spec.containers);
  if (containers.length === 0) out.push(required(child(path, 'containers')));
  const hostPorts = new Map<string, string>();
  containers.forEach((c, i) => {
    out.push(...validateContainer(c, index(child(path, 'containers'), i), { ...ctxBase, init: false, hostPorts }));
  });

  const restartPolicy = strAt(spec.restartPolicy);
  if (!restartPolicy) out.push(required(child(path, 'restartPolicy')));
  else if (!['Always', 'Never', 'OnFailure'].includes(restartPolicy)) out.push(notSupported(child(path, 'restartPolicy'), restartPolicy, ['Always', 'Never', 'OnFailure']));
  const dnsPolicy = strAt(spec.dnsPolicy);
  const dnsPolicies = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'];
  if (!dnsPolicy) out.push(required(child(path, 'dnsPolicy')));
  else if (!dnsPolicies.includes(dnsPolicy)) out.push(notSupported(child(path, 'dnsPolicy'), dnsPolicy, dnsPolicies));
  out.push(...validateDNS(spec, path));

  for (const f of ['hostname', 'subdomain'] as const) {
    const v = strAt(spec[f]);
    if (v) out.push(...each(child(path, f), v, isDNS1123Label(v)));
  }
  for (const f of ['serviceAccountName', 'nodeName', 'schedulerName', 'priorityClassName', 'runtimeClassName'] as const) {
    const v = strAt(spec[f]);
    if (v) out.push(...each(child(path, f), v, isDNS1123Subdomain(v)));
  }
  const ads = numAt(spec.activeDeadlineSeconds);
  if (ads !== undefined && (ads < 1 || ads > 2147483647)) out.push(invalid(child(path, 'activeDeadlineSeconds'), ads, 'must be between 1 and 2147483647, inclusive'));
  out.push(...nonNegative(child(path, 'terminationGracePeriodSeconds'), numAt(spec.terminationGracePeriodSeconds)));
  out.push(...validateLabels(spec.nodeSelector, child(path, 'nodeSelector')));
  out.push(...validateTolerations(spec.tolerations, child(path, 'tolerations')));
  listAt(spec.imagePullSecrets).forEach((s, i) => {
    if (!strAt(s.name)) out.push(required(child(index(child(path, 'imagePullSecrets'), i), 'name')));
  });
  listAt(spec.hostAliases).forEach((h, i) => {
    const p = index(child(path, 'hostAliases'), i);
    out.push(...each(child(p, 'ip'), strAt(h.ip), isValidIP(strAt(h.ip))));
    listAt<unknown>(h.hostnames).forEach((n, j) => {
      if (typeof n === 'string') out.push(...each(index(child(p, 'hostnames'), j), n, isDNS1123Subdomain(n)));
    });
  });
  if (spec.affinity !== undefined) out.push(...validateAffinity(spec.affinity, child(path, 'affinity')));
  out.push(...validateTopologySpread(spec.topologySpreadConstraints, child(path, 'topologySpreadConstraints')));
  return out;
}

/** A PodTemplateSpec: template labels/annotations plus its spec (images optional). */
export function validatePodTemplateSpec(template: unknown, path: string): Causes {
  const t = objAt(template);
  return [...validateTemplateMeta(t.metadata, child(path, 'metadata')), ...validatePodSpec(t.spec, child(path, 'spec'), { template: true })];
}
