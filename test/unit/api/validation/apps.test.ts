import test from 'ava';
import { R, type ResourceInfo } from '../../../../src/api/resources.js';
import type { KObject } from '../../../../src/api/types.js';
import { applyDefaults, validateObject } from '../../../../src/api/validation/index.js';

type Any = Record<string, any>;

function validDeployment(kind: 'Deployment' | 'ReplicaSet' = 'Deployment'): KObject & Any {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web', tier: 'fe' } },
        spec: { containers: [{ name: 'web', image: 'nginx:1.25', ports: [{ containerPort: 80 }] }] },
      },
    },
  };
}

interface Expect {
  field: string;
  reason: string;
  message?: string;
}

const resOf = (kind: string): ResourceInfo => (kind === 'Deployment' ? R.deployments : R.replicasets);

const common: [string, (d: Any) => void, Expect][] = [
  ['selector missing', (d) => delete d.spec.selector, { field: 'spec.selector', reason: 'FieldValueRequired', message: 'Required value' }],
  ['empty selector', (d) => (d.spec.selector = {}), { field: 'spec.selector', reason: 'FieldValueInvalid' }],
  [
    'selector not matching the template labels',
    (d) => (d.spec.template.metadata.labels = { app: 'x' }),
    {
      field: 'spec.template.metadata.labels',
      reason: 'FieldValueInvalid',
      message: 'Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`',
    },
  ],
  [
    'selector expression without values',
    (d) => (d.spec.selector = { matchExpressions: [{ key: 'app', operator: 'In' }] }),
    {
      field: 'spec.selector.matchExpressions[0].values',
      reason: 'FieldValueRequired',
      message: "Required value: must be specified when `operator` is 'In' or 'NotIn'",
    },
  ],
  [
    'selector expression with an unknown operator',
    (d) => (d.spec.selector = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'app', operator: 'Equals', values: ['web'] }] }),
    { field: 'spec.selector.matchExpressions[0].operator', reason: 'FieldValueInvalid', message: 'Invalid value: "Equals": not a valid selector operator' },
  ],
  [
    'Exists expression with values',
    (d) => (d.spec.selector = { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] }),
    { field: 'spec.selector.matchExpressions[0].values', reason: 'FieldValueForbidden' },
  ],
  [
    'selector with an invalid key',
    (d) => {
      d.spec.selector = { matchLabels: { 'bad key': 'web' } };
      d.spec.template.metadata.labels = { 'bad key': 'web' };
    },
    { field: 'spec.selector.matchLabels', reason: 'FieldValueInvalid' },
  ],
  [
    'negative replicas',
    (d) => (d.spec.replicas = -1),
    { field: 'spec.replicas', reason: 'FieldValueInvalid', message: 'Invalid value: -1: must be greater than or equal to 0' },
  ],
  [
    'template container errors are reported under spec.template.spec',
    (d) => (d.spec.template.spec.containers[0].ports[0].containerPort = 70000),
    { field: 'spec.template.spec.containers[0].ports[0].containerPort', reason: 'FieldValueInvalid', message: 'Invalid value: 70000: must be between 1 and 65535, inclusive' },
  ],
  [
    'template without containers',
    (d) => (d.spec.template.spec.containers = []),
    { field: 'spec.template.spec.containers', reason: 'FieldValueRequired' },
  ],
  [
    'template restartPolicy other than Always',
    (d) => (d.spec.template.spec.restartPolicy = 'Never'),
    { field: 'spec.template.spec.restartPolicy', reason: 'FieldValueNotSupported', message: 'Unsupported value: "Never": supported values: "Always"' },
  ],
  [
    'template labels invalid',
    (d) => {
      d.spec.template.metadata.labels = { app: 'web', v: 'not ok' };
    },
    { field: 'spec.template.metadata.labels', reason: 'FieldValueInvalid' },
  ],
  ['template missing', (d) => delete d.spec.template, { field: 'spec.template', reason: 'FieldValueRequired' }],
];

const deploymentOnly: [string, (d: Any) => void, Expect][] = [
  [
    'strategy type enum',
    (d) => (d.spec.strategy = { type: 'BlueGreen' }),
    { field: 'spec.strategy.type', reason: 'FieldValueNotSupported', message: 'Unsupported value: "BlueGreen": supported values: "Recreate", "RollingUpdate"' },
  ],
  [
    'maxSurge and maxUnavailable both 0',
    (d) => (d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } }),
    { field: 'spec.strategy.rollingUpdate.maxUnavailable', reason: 'FieldValueInvalid', message: 'Invalid value: "0%": may not be 0 when `maxSurge` is 0' },
  ],
  [
    'maxSurge negative',
    (d) => (d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: -1 } }),
    { field: 'spec.strategy.rollingUpdate.maxSurge', reason: 'FieldValueInvalid', message: 'Invalid value: -1: must be greater than or equal to 0' },
  ],
  [
    'maxUnavailable not a percentage',
    (d) => (d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 'half' } }),
    { field: 'spec.strategy.rollingUpdate.maxUnavailable', reason: 'FieldValueInvalid' },
  ],
  [
    'maxUnavailable above 100%',
    (d) => (d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '150%' } }),
    { field: 'spec.strategy.rollingUpdate.maxUnavailable', reason: 'FieldValueInvalid', message: 'Invalid value: "150%": must not be greater than 100%' },
  ],
  [
    'rollingUpdate with Recreate',
    (d) => (d.spec.strategy = { type: 'Recreate', rollingUpdate: { maxSurge: 1 } }),
    { field: 'spec.strategy.rollingUpdate', reason: 'FieldValueForbidden' },
  ],
  [
    'progressDeadlineSeconds not above minReadySeconds',
    (d) => Object.assign(d.spec, { minReadySeconds: 60, progressDeadlineSeconds: 30 }),
    { field: 'spec.progressDeadlineSeconds', reason: 'FieldValueInvalid', message: 'Invalid value: 30: must be greater than minReadySeconds' },
  ],
  [
    'revisionHistoryLimit negative',
    (d) => (d.spec.revisionHistoryLimit = -2),
    { field: 'spec.revisionHistoryLimit', reason: 'FieldValueInvalid' },
  ],
];

test('valid Deployment and ReplicaSet (also with matchExpressions)', (t) => {
  for (const kind of ['Deployment', 'ReplicaSet'] as const) {
    const d = validDeployment(kind);
    applyDefaults(resOf(kind), d);
    t.deepEqual(validateObject(resOf(kind), d), { causes: [], unknownFields: [] }, kind);
    const e = validDeployment(kind);
    e.spec.selector = { matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe', 'be'] }, { key: 'canary', operator: 'DoesNotExist' }] };
    applyDefaults(resOf(kind), e);
    t.deepEqual(validateObject(resOf(kind), e).causes, [], kind);
  }
});

test('pod template images are optional, as Kubernetes allows for templates', (t) => {
  const d = validDeployment();
  delete d.spec.template.spec.containers[0].image;
  applyDefaults(R.deployments, d);
  t.deepEqual(validateObject(R.deployments, d).causes, []);
});

for (const kind of ['Deployment', 'ReplicaSet'] as const) {
  for (const [label, mutate, want] of common) {
    test(`${kind}: ${label}`, (t) => {
      const d = validDeployment(kind);
      mutate(d);
      applyDefaults(resOf(kind), d);
      const { causes } = validateObject(resOf(kind), d);
      const hit = causes.find((c) => c.field === want.field && c.reason === want.reason);
      t.truthy(hit, `want ${want.field} ${want.reason}, got ${JSON.stringify(causes, null, 1)}`);
      if (want.message) t.is(hit?.message, want.message);
    });
  }
}

for (const [label, mutate, want] of deploymentOnly) {
  test(`Deployment: ${label}`, (t) => {
    const d = validDeployment();
    mutate(d);
    applyDefaults(R.deployments, d);
    const { causes } = validateObject(R.deployments, d);
    const hit = causes.find((c) => c.field === want.field && c.reason === want.reason);
    t.truthy(hit, `want ${want.field} ${want.reason}, got ${JSON.stringify(causes, null, 1)}`);
    if (want.message) t.is(hit?.message, want.message);
  });
}
