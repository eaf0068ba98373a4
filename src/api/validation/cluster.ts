// Node, Namespace and Event rules: the basics Kubernetes checks on them.

import { isQualifiedName, isValidCIDR, isValidLabelValue } from '../names.js';
import { type Causes, child, duplicate, each, index, invalid, listAt, nonNegative, notSupported, numAt, objAt, required, strAt } from './field.js';

const TAINT_EFFECTS = ['NoExecute', 'NoSchedule', 'PreferNoSchedule'];
const EVENT_TYPES = ['Normal', 'Warning'];
const STANDARD_FINALIZERS = ['kubernetes', 'orphan', 'foregroundDeletion'];

export function validateNode(obj: Record<string, unknown>): Causes {
  const spec = objAt(obj.spec);
  const out: Causes = [];
  const cidr = strAt(spec.podCIDR);
  if (cidr) out.push(...each('spec.podCIDR', cidr, isValidCIDR(cidr)));
  listAt<unknown>(spec.podCIDRs).forEach((c, i) => {
    if (typeof c === 'string') out.push(...each(index('spec.podCIDRs', i), c, isValidCIDR(c)));
  });
  const seen = new Set<string>();
  listAt(spec.taints).forEach((t, i) => {
    const p = index('spec.taints', i);
    const k = strAt(t.key);
    if (!k) out.push(required(child(p, 'key')));
    else out.push(...each(child(p, 'key'), k, isQualifiedName(k)));
    const v = strAt(t.value);
    if (v) out.push(...each(child(p, 'value'), v, isValidLabelValue(v)));
    const effect = strAt(t.effect);
    if (!effect) out.push(required(child(p, 'effect')));
    else if (!TAINT_EFFECTS.includes(effect)) out.push(notSupported(child(p, 'effect'), effect, TAINT_EFFECTS));
    const dk = `${k}:${effect}`;
    if (seen.has(dk)) out.push(duplicate(p, `${k}:${effect}`));
    seen.add(dk);
  });
  return out;
}

export function validateNamespace(obj: Record<string, unknown>): Causes {
  const out: Causes = [];
  listAt<unknown>(objAt(obj.spec).finalizers).forEach((f, i) => {
    if (typeof f !== 'string') return;
    const p = index('spec.finalizers', i);
    out.push(...each(p, f, isQualifiedName(f)));
    if (!STANDARD_FINALIZERS.includes(f) && !f.includes('/')) out.push(invalid(p, f, 'name is neither a standard finalizer name nor is it fully qualified'));
  });
  return out;
}

export function validateEvent(obj: Record<string, unknown>): Causes {
  const out: Causes = [];
  const involved = objAt(obj.involvedObject);
  const ns = strAt(objAt(obj.metadata).namespace);
  const ins = strAt(involved.namespace);
  if (ins && ns && ins !== ns) out.push(invalid('involvedObject.namespace', ins, 'does not match event.namespace'));
  const type = strAt(obj.type);
  if (type && !EVENT_TYPES.includes(type)) out.push(notSupported('type', type, EVENT_TYPES));
  out.push(...nonNegative('count', numAt(obj.count)));
  return out;
}
