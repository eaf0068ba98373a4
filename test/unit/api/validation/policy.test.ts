// Validation and defaults of the policy kinds, through validateObject as the registry calls it:
// HorizontalPodAutoscaler (v2 and v1), PodDisruptionBudget, PriorityClass, NetworkPolicy — each bad
// value named by its field path with Kubernetes' words.

import test from 'ava';
import type { KObject } from '../../../../src/api/types.js';
import { R } from '../../../../src/api/resources.js';
import { applyDefaults, validateObject } from '../../../../src/api/validation/index.js';

function check(res: (typeof R)[keyof typeof R], obj: KObject, old?: KObject): string[] {
  applyDefaults(res, obj as never);
  if (old) applyDefaults(res, old as never);
  return validateObject(res, obj, old).causes.map((c) => `${c.field}: ${c.message}`);
}

const hpa = (spec: Record<string, unknown>): KObject => ({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5, ...spec } } as KObject);

test('HPA v2: defaults (minReplicas 1, an 80% CPU target); a valid object passes', (t) => {
  const h = hpa({});
  t.deepEqual(check(R.horizontalpodautoscalers, h), []);
  t.like(h.spec as object, { minReplicas: 1, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }] });
});

test('HPA v2: replicas bounds, the target reference, metric sources and behaviors are checked with their paths', (t) => {
  const causes = check(
    R.horizontalpodautoscalers,
    hpa({
      minReplicas: 4,
      maxReplicas: 3,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deploy/ment', name: '' },
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 0 } } },
        { type: 'Resource', resource: { name: 'memory', target: { type: 'Value', value: '1Gi' } } },
        { type: 'Pods', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 5 } } },
      ],
      behavior: { scaleDown: { stabilizationWindowSeconds: 7200, policies: [{ type: 'Pods', value: 0, periodSeconds: 3600 }] } },
    }),
  );
  for (const expected of [
    'spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`',
    "spec.scaleTargetRef.kind: Invalid value: \"Deploy/ment\": may not contain '/' or '%'",
    'spec.scaleTargetRef.name: Required value',
    'spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0',
    'spec.metrics[1].resource.target.type: Invalid value: "Value": must be either Utilization or AverageValue',
    'spec.behavior.scaleDown.stabilizationWindowSeconds: Invalid value: 7200: must be less than or equal to 3600 and greater than or equal to 0',
    'spec.behavior.scaleDown.policies[0].value: Invalid value: 0: must be greater than zero',
  ]) t.true(causes.includes(expected), `${expected}\n-- in --\n${causes.join('\n')}`);
  t.true(causes.some((c) => c.startsWith('spec.metrics[2].resource: Forbidden: must populate the given metric source only')), causes.join('\n'));
});

test('HPA v1: targetCPUUtilizationPercentage must be positive', (t) => {
  const v1: KObject = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 2, targetCPUUtilizationPercentage: 0 } } as KObject;
  t.true(check(R.horizontalpodautoscalersV1, v1).includes('spec.targetCPUUtilizationPercentage: Invalid value: 0: must be greater than 0'));
});

const pdb = (spec: Record<string, unknown>): KObject => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default' }, spec } as KObject);

test('PDB: one of minAvailable / maxUnavailable, as an integer or a percentage; a valid selector', (t) => {
  t.deepEqual(check(R.poddisruptionbudgets, pdb({ minAvailable: '50%', selector: { matchLabels: { app: 'web' } } })), []);
  const both = check(R.poddisruptionbudgets, pdb({ minAvailable: 1, maxUnavailable: 1 }));
  t.true(both.some((c) => c.startsWith('spec: Invalid value') && c.endsWith('minAvailable and maxUnavailable cannot be both set')), both.join('\n'));
  const bad = check(R.poddisruptionbudgets, pdb({ maxUnavailable: '150%', selector: { matchExpressions: [{ key: 'app', operator: 'Maybe' }] } }));
  t.true(bad.some((c) => c.startsWith('spec.maxUnavailable: Invalid value: "150%"')), bad.join('\n'));
  t.true(bad.some((c) => c.startsWith('spec.selector.matchExpressions[0].operator')), bad.join('\n'));
});

const pc = (name: string, value: number, extra: Record<string, unknown> = {}): KObject => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, ...extra } as KObject);

test('PriorityClass: system- names reserved, a user value at most 1e9, value and preemptionPolicy immutable', (t) => {
  const ok = pc('high', 1000);
  t.deepEqual(check(R.priorityclasses, ok), []);
  t.is((ok as unknown as { preemptionPolicy: string }).preemptionPolicy, 'PreemptLowerPriority');
  t.deepEqual(check(R.priorityclasses, pc('system-mine', 1)), ["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only"]);
  t.deepEqual(check(R.priorityclasses, pc('huge', 1_000_000_001)), ['value: Forbidden: maximum allowed value of a user defined priority is 1000000000']);
  t.deepEqual(check(R.priorityclasses, pc('system-node-critical', 5)), ['value: Forbidden: the value of system-node-critical is 2000001000 and may not be changed']);
  const changed = check(R.priorityclasses, pc('high', 2000, { preemptionPolicy: 'Never' }), pc('high', 1000));
  t.true(changed.includes('value: Forbidden: may not be changed in an update.'));
  t.true(changed.includes('preemptionPolicy: Invalid value: "Never": field is immutable'));
});

const netpol = (spec: Record<string, unknown>): KObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny', namespace: 'default' }, spec: { podSelector: {}, ...spec } } as KObject);

test('NetworkPolicy: ports, peers, ipBlocks and policy types are checked with their paths', (t) => {
  t.deepEqual(check(R.networkpolicies, netpol({ ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 80, endPort: 90 }] }] })), []);
  const causes = check(
    R.networkpolicies,
    netpol({
      ingress: [{ from: [{}, { ipBlock: { cidr: '10.0.0.0/33' }, podSelector: {} }], ports: [{ port: 'http', endPort: 90 }, { port: 70000 }] }],
      policyTypes: ['Ingress', 'Sideways'],
    }),
  );
  for (const prefix of [
    'spec.ingress[0].from[0]: Required value: must specify a peer',
    'spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock and another peer',
    'spec.ingress[0].from[1].ipBlock.cidr: Invalid value: "10.0.0.0/33"',
    'spec.ingress[0].ports[0].port: Required value: must be specified when endPort is specified',
    'spec.ingress[0].ports[1].port: Invalid value: 70000',
    'spec.policyTypes[1]: Unsupported value: "Sideways"',
  ]) t.true(causes.some((c) => c.startsWith(prefix)), `${prefix}\n-- in --\n${causes.join('\n')}`);
});
