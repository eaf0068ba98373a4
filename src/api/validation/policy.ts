// HorizontalPodAutoscaler (autoscaling/v2 and v1), PodDisruptionBudget, PriorityClass and
// NetworkPolicy rules, with Kubernetes' messages (pkg/apis/autoscaling/validation,
// pkg/apis/policy/validation, pkg/apis/scheduling/validation, pkg/apis/networking/validation).

import { isPercent, isValidCIDR, isValidPortName } from '../names.js';
import type { LabelSelector } from '../types.js';
import { validateLabelSelector } from './meta.js';
import { type Causes, child, forbidden, index, invalid, isObj, listAt, notSupported, numAt, objAt, portNum, quantityCauses, required, strAt, type Obj } from './field.js';
import { parseQuantity } from '../quantity.js';

// ---------------------------------------------------------------- HorizontalPodAutoscaler

const MAX_PERIOD_SECONDS = 1800;
const MAX_STABILIZATION_WINDOW_SECONDS = 3600;

function validateScaleTargetRef(ref: Obj, path: string): Causes {
  const out: Causes = [];
  if (!strAt(ref.kind)) out.push(required(child(path, 'kind')));
  else if (strAt(ref.kind).includes('/') || strAt(ref.kind).includes('%')) out.push(invalid(child(path, 'kind'), ref.kind, "may not contain '/' or '%'"));
  if (!strAt(ref.name)) out.push(required(child(path, 'name')));
  else if (strAt(ref.name).includes('/') || strAt(ref.name).includes('%')) out.push(invalid(child(path, 'name'), ref.name, "may not contain '/' or '%'"));
  return out;
}

function validateReplicas(spec: Obj): Causes {
  const out: Causes = [];
  const min = numAt(spec.minReplicas);
  const max = numAt(spec.maxReplicas);
  if (min !== undefined && min < 1) out.push(invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (max !== undefined && max < 1) out.push(invalid('spec.maxReplicas', max, 'must be greater than 0'));
  if (max !== undefined && min !== undefined && max < min) out.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  return out;
}

function positiveQuantity(path: string, v: unknown): Causes {
  const bad = quantityCauses(path, v);
  if (bad.length) return bad;
  return parseQuantity(String(v)) <= 0 ? [invalid(path, v, 'must be positive')] : [];
}

function validateTarget(t: Obj, path: string, resourceMetric: boolean): Causes {
  const out: Causes = [];
  const type = strAt(t.type);
  if (!type) return [required(child(path, 'type'), 'must specify a metric target type')];
  if (resourceMetric && type === 'Value') out.push(invalid(child(path, 'type'), type, 'must be either Utilization or AverageValue'));
  if (type === 'Utilization') {
    const u = numAt(t.averageUtilization);
    if (u === undefined) out.push(required(child(path, 'averageUtilization'), 'must set either a target raw value or a target utilization'));
    else if (u <= 0) out.push(invalid(child(path, 'averageUtilization'), u, 'must be greater than 0'));
  }
  if (type === 'AverageValue') {
    if (t.averageValue === undefined) out.push(required(child(path, 'averageValue'), 'must set either a target raw value or a target utilization'));
    else out.push(...positiveQuantity(child(path, 'averageValue'), t.averageValue));
  }
  if (type === 'Value') {
    if (t.value === undefined) out.push(required(child(path, 'value'), 'must set either a target value or averageValue'));
    else out.push(...positiveQuantity(child(path, 'value'), t.value));
  }
  return out;
}

const SOURCE_FIELD: Record<string, string> = { Resource: 'resource', ContainerResource: 'containerResource', Pods: 'pods', Object: 'object', External: 'external' };

function validateMetric(m: Obj, path: string): Causes {
  const type = strAt(m.type);
  const field = SOURCE_FIELD[type];
  if (!field) return type ? [] : [required(child(path, 'type'), 'must specify a metric source type')];
  const out: Causes = [];
  for (const [t, f] of Object.entries(SOURCE_FIELD)) {
    if (f !== field && m[f] !== undefined) out.push(forbidden(child(path, f), `must populate the given metric source only (type ${type}, not ${t})`));
  }
  const src = m[field];
  const sp = child(path, field);
  if (!isObj(src)) return [...out, required(sp, 'must populate information for the given metric source')];
  if (type === 'Resource' || type === 'ContainerResource') {
    if (!strAt(src.name)) out.push(required(child(sp, 'name'), 'must specify a resource name'));
    if (type === 'ContainerResource' && !strAt(src.container)) out.push(required(child(sp, 'container'), 'must specify a container'));
  } else if (!strAt(objAt(src.metric).name)) {
    out.push(required(child(sp, 'metric', 'name'), 'must specify a metric name'));
  }
  if (type === 'Object' && !isObj(src.describedObject)) out.push(required(child(sp, 'describedObject')));
  else if (type === 'Object') out.push(...validateScaleTargetRef(objAt(src.describedObject), child(sp, 'describedObject')));
  if (!isObj(src.target)) out.push(required(child(sp, 'target'), 'must specify a metric target'));
  else out.push(...validateTarget(src.target, child(sp, 'target'), type === 'Resource' || type === 'ContainerResource'));
  return out;
}

function validateRules(r: unknown, path: string): Causes {
  if (!isObj(r)) return [];
  const out: Causes = [];
  const w = numAt(r.stabilizationWindowSeconds);
  if (w !== undefined && (w < 0 || w > MAX_STABILIZATION_WINDOW_SECONDS)) {
    out.push(invalid(child(path, 'stabilizationWindowSeconds'), w, `must be less than or equal to ${MAX_STABILIZATION_WINDOW_SECONDS} and greater than or equal to 0`));
  }
  const policies = listAt(r.policies);
  if (r.policies !== undefined && policies.length === 0) out.push(required(child(path, 'policies'), 'must specify at least one Policy'));
  policies.forEach((p, i) => {
    const pp = index(child(path, 'policies'), i);
    const v = numAt(p.value);
    const period = numAt(p.periodSeconds);
    if (v !== undefined && v <= 0) out.push(invalid(child(pp, 'value'), v, 'must be greater than zero'));
    if (period !== undefined && (period <= 0 || period > MAX_PERIOD_SECONDS)) out.push(invalid(child(pp, 'periodSeconds'), period, `must be greater than zero and less than or equal to ${MAX_PERIOD_SECONDS}`));
  });
  return out;
}

export function validateHPA(o: Obj): Causes {
  const spec = objAt(o.spec);
  const out: Causes = [...validateScaleTargetRef(objAt(spec.scaleTargetRef), 'spec.scaleTargetRef'), ...validateReplicas(spec)];
  if (o.apiVersion === 'autoscaling/v1') {
    const cpu = numAt(spec.targetCPUUtilizationPercentage);
    if (cpu !== undefined && cpu < 1) out.push(invalid('spec.targetCPUUtilizationPercentage', cpu, 'must be greater than 0'));
    return out;
  }
  listAt(spec.metrics).forEach((m, i) => out.push(...validateMetric(m, index('spec.metrics', i))));
  const behavior = objAt(spec.behavior);
  out.push(...validateRules(behavior.scaleUp, 'spec.behavior.scaleUp'), ...validateRules(behavior.scaleDown, 'spec.behavior.scaleDown'));
  return out;
}

// ---------------------------------------------------------------- PodDisruptionBudget

function intOrPercent(path: string, v: unknown): Causes {
  if (v === undefined) return [];
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? [] : [invalid(path, v, 'must be greater than or equal to 0')];
  if (typeof v === 'string') {
    if (isPercent(v).length) return [invalid(path, v, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")];
    return Number(v.slice(0, -1)) > 100 ? [invalid(path, v, 'must not be greater than 100%')] : [];
  }
  return [invalid(path, v, "must be an integer or percentage (e.g '5%')")];
}

export function validatePDB(o: Obj): Causes {
  const spec = objAt(o.spec);
  const out: Causes = [];
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) out.push(invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  out.push(...intOrPercent('spec.minAvailable', spec.minAvailable), ...intOrPercent('spec.maxUnavailable', spec.maxUnavailable));
  out.push(...validateLabelSelector(spec.selector as LabelSelector | undefined, 'spec.selector'));
  return out;
}

// ---------------------------------------------------------------- PriorityClass

export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
export const SYSTEM_PRIORITY_CLASSES: Record<string, number> = { 'system-node-critical': 2_000_001_000, 'system-cluster-critical': 2_000_000_000 };

export function validatePriorityClass(o: Obj, old?: Obj): Causes {
  const out: Causes = [];
  const name = strAt(objAt(o.metadata).name);
  const value = numAt(o.value);
  const system = SYSTEM_PRIORITY_CLASSES[name];
  if (name.startsWith('system-') && system === undefined) out.push(forbidden('metadata.name', "priority class names with 'system-' prefix are reserved for system use only"));
  if (system !== undefined && value !== undefined && value !== system) out.push(forbidden('value', `the value of ${name} is ${system} and may not be changed`));
  if (system === undefined && value !== undefined && value > HIGHEST_USER_DEFINABLE_PRIORITY) out.push(forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  if (old) {
    if (old.value !== undefined && o.value !== old.value) out.push(forbidden('value', 'may not be changed in an update.'));
    if ((old.preemptionPolicy ?? 'PreemptLowerPriority') !== (o.preemptionPolicy ?? 'PreemptLowerPriority')) out.push(invalid('preemptionPolicy', o.preemptionPolicy, 'field is immutable'));
  }
  return out;
}

// ---------------------------------------------------------------- NetworkPolicy

function validatePorts(ports: unknown, path: string): Causes {
  const out: Causes = [];
  listAt(ports).forEach((p, i) => {
    const pp = index(path, i);
    const port = p.port;
    if (typeof port === 'number') out.push(...portNum(child(pp, 'port'), port));
    else if (typeof port === 'string' && isValidPortName(port).length) out.push(invalid(child(pp, 'port'), port, isValidPortName(port).join(', ')));
    const end = numAt(p.endPort);
    if (end !== undefined) {
      if (typeof port !== 'number') out.push(required(child(pp, 'port'), 'must be specified when endPort is specified'));
      else if (end < port) out.push(invalid(child(pp, 'endPort'), end, 'must be greater than or equal to `port`'));
    }
  });
  return out;
}

function validatePeers(peers: unknown, path: string): Causes {
  const out: Causes = [];
  listAt(peers).forEach((peer, i) => {
    const pp = index(path, i);
    const set = ['podSelector', 'namespaceSelector', 'ipBlock'].filter((f) => peer[f] !== undefined);
    if (set.length === 0) out.push(required(pp, 'must specify a peer'));
    if (peer.ipBlock !== undefined && set.length > 1) out.push(forbidden(pp, 'may not specify both ipBlock and another peer'));
    out.push(...validateLabelSelector(peer.podSelector as LabelSelector | undefined, child(pp, 'podSelector')));
    out.push(...validateLabelSelector(peer.namespaceSelector as LabelSelector | undefined, child(pp, 'namespaceSelector')));
    if (isObj(peer.ipBlock)) {
      const cidr = strAt(peer.ipBlock.cidr);
      if (!cidr) out.push(required(child(pp, 'ipBlock', 'cidr')));
      else if (isValidCIDR(cidr).length) out.push(invalid(child(pp, 'ipBlock', 'cidr'), cidr, isValidCIDR(cidr).join(', ')));
      listAt<string>(peer.ipBlock.except).forEach((e, j) => {
        if (isValidCIDR(strAt(e)).length) out.push(invalid(index(child(pp, 'ipBlock', 'except'), j), e, isValidCIDR(strAt(e)).join(', ')));
      });
    }
  });
  return out;
}

export function validateNetworkPolicy(o: Obj): Causes {
  const spec = objAt(o.spec);
  const out: Causes = [...validateLabelSelector(spec.podSelector as LabelSelector | undefined, 'spec.podSelector')];
  listAt(spec.ingress).forEach((r, i) => out.push(...validatePorts(r.ports, child(index('spec.ingress', i), 'ports')), ...validatePeers(r.from, child(index('spec.ingress', i), 'from'))));
  listAt(spec.egress).forEach((r, i) => out.push(...validatePorts(r.ports, child(index('spec.egress', i), 'ports')), ...validatePeers(r.to, child(index('spec.egress', i), 'to'))));
  const types = listAt<string>(spec.policyTypes);
  types.forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress') out.push(notSupported(index('spec.policyTypes', i), t, ['Ingress', 'Egress']));
  });
  if (types.length > 2) out.push(invalid('spec.policyTypes', types, 'may not have more than 2 items'));
  return out;
}
