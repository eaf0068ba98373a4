// Defaulting of CustomResourceDefinitions, HorizontalPodAutoscalers, PriorityClasses and
// NetworkPolicies (pkg/apis/*/v*/defaults.go), applied before validation as for every kind.

import { defaultCRD } from './crd.js';
import { isObj, listAt, type Obj } from './field.js';

/** autoscaling/v2's defaults for a behavior that is set: upstream's GenerateHPAScale{Up,Down}Rules. */
export function defaultScalingRules(rules: unknown, direction: 'up' | 'down'): Obj {
  const r: Obj = isObj(rules) ? { ...rules } : {};
  if (direction === 'up' && r.stabilizationWindowSeconds === undefined) r.stabilizationWindowSeconds = 0;
  if (r.selectPolicy === undefined) r.selectPolicy = 'Max';
  if (r.policies === undefined) {
    r.policies =
      direction === 'up'
        ? [
            { type: 'Pods', value: 4, periodSeconds: 15 },
            { type: 'Percent', value: 100, periodSeconds: 15 },
          ]
        : [{ type: 'Percent', value: 100, periodSeconds: 15 }];
  }
  return r;
}

function defaultHPA(obj: Obj): void {
  const spec = isObj(obj.spec) ? obj.spec : undefined;
  if (!spec) return;
  if (spec.minReplicas === undefined) spec.minReplicas = 1;
  if (obj.apiVersion === 'autoscaling/v1') return;
  if (listAt(spec.metrics).length === 0) spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  if (isObj(spec.behavior)) {
    spec.behavior.scaleUp = defaultScalingRules(spec.behavior.scaleUp, 'up');
    spec.behavior.scaleDown = defaultScalingRules(spec.behavior.scaleDown, 'down');
  }
}

function defaultNetworkPolicy(obj: Obj): void {
  const spec = isObj(obj.spec) ? obj.spec : undefined;
  if (!spec) return;
  for (const rule of [...listAt(spec.ingress), ...listAt(spec.egress)]) for (const p of listAt(rule.ports)) if (isObj(p) && !p.protocol) p.protocol = 'TCP';
  if (spec.policyTypes === undefined) spec.policyTypes = spec.egress !== undefined ? ['Ingress', 'Egress'] : ['Ingress'];
}

export function defaultPolicyKind(kind: string, obj: Obj): void {
  switch (kind) {
    case 'CustomResourceDefinition':
      defaultCRD(obj);
      break;
    case 'HorizontalPodAutoscaler':
      defaultHPA(obj);
      break;
    case 'PriorityClass':
      if (obj.preemptionPolicy === undefined) obj.preemptionPolicy = 'PreemptLowerPriority';
      break;
    case 'NetworkPolicy':
      defaultNetworkPolicy(obj);
      break;
    default:
      break;
  }
}
