import test from 'ava';
import { R, type ResourceInfo } from '../../../../src/api/resources.js';
import type { KObject, StatusCause } from '../../../../src/api/types.js';
import { applyDefaults, prepareUpdate, semanticEqual, validateObject } from '../../../../src/api/validation/index.js';

type Any = Record<string, any>;

/** Defaults both, then validates `next` as an update of `old`. */
function update(res: ResourceInfo, old: Any, change: (o: Any) => void): StatusCause[] {
  applyDefaults(res, old);
  const next = structuredClone(old);
  change(next);
  applyDefaults(res, next);
  prepareUpdate(res, next, old);
  return validateObject(res, next as KObject, old as KObject).causes;
}

const pod = (): KObject & Any => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', uid: 'u1' },
  spec: {
    nodeName: 'host-1',
    containers: [{ name: 'web', image: 'nginx:1.25', env: [{ name: 'A', value: '1' }] }],
    tolerations: [{ key: 'a', operator: 'Exists' }],
  },
});

const deployment = (): KObject & Any => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default' },
  spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web', v: '1' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } } },
});

const service = (): KObject & Any => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'default' },
  spec: { clusterIP: '10.96.0.20', selector: { app: 'web' }, ports: [{ port: 80 }] },
});

test('Pod: images, labels, activeDeadlineSeconds and added tolerations may change', (t) => {
  t.deepEqual(
    update(R.pods, pod(), (p) => {
      p.spec.containers[0].image = 'nginx:1.26';
      p.metadata.labels = { app: 'web' };
      p.spec.activeDeadlineSeconds = 60;
      p.spec.tolerations.push({ key: 'b', operator: 'Exists' });
      p.status = { phase: 'Running' };
    }),
    [],
  );
});

test('Pod: any other spec change is forbidden, naming the first difference', (t) => {
  const causes = update(R.pods, pod(), (p) => (p.spec.containers[0].env[0].value = '2'));
  t.is(causes.length, 1);
  t.is(causes[0].field, 'spec');
  t.is(causes[0].reason, 'FieldValueForbidden');
  t.true(causes[0].message!.startsWith('Forbidden: pod updates may not change fields other than `spec.containers[*].image`'));
  t.true(causes[0].message!.endsWith('(first difference at spec.containers[0].env[0].value)'));
  t.is(update(R.pods, pod(), (p) => (p.spec.nodeName = 'host-2'))[0].field, 'spec');
  t.is(update(R.pods, pod(), (p) => (p.spec.tolerations = []))[0].field, 'spec', 'tolerations may only be added');
  t.is(update(R.pods, pod(), (p) => p.spec.containers.push({ name: 'b', image: 'x:1' }))[0].field, 'spec');
});

test('Pod: activeDeadlineSeconds may only shrink', (t) => {
  const old = pod();
  old.spec.activeDeadlineSeconds = 60;
  const causes = update(R.pods, old, (p) => (p.spec.activeDeadlineSeconds = 120));
  t.deepEqual(causes, [{ reason: 'FieldValueInvalid', field: 'spec.activeDeadlineSeconds', message: 'Invalid value: 120: must be less than or equal to previous value' }]);
  t.deepEqual(update(R.pods, pod(), (p) => (p.spec.activeDeadlineSeconds = 30)), []);
});

test('name and namespace are immutable', (t) => {
  t.deepEqual(update(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default' } }, (o) => (o.metadata.name = 'b')), [
    { reason: 'FieldValueInvalid', field: 'metadata.name', message: 'Invalid value: "b": field is immutable' },
  ]);
});

test('Deployment and ReplicaSet selectors are immutable; the rest of the spec is not', (t) => {
  t.deepEqual(
    update(R.deployments, deployment(), (d) => {
      d.spec.replicas = 5;
      d.spec.template.metadata.labels.v = '2';
      d.spec.template.spec.containers[0].image = 'nginx:1.26';
    }),
    [],
  );
  const causes = update(R.deployments, deployment(), (d) => {
    d.spec.selector.matchLabels.v = '1';
  });
  t.deepEqual(causes, [{ reason: 'FieldValueInvalid', field: 'spec.selector', message: 'Invalid value: {"matchLabels":{"app":"web","v":"1"}}: field is immutable' }]);
  const rs = deployment();
  rs.kind = 'ReplicaSet';
  t.true(update(R.replicasets, rs, (d) => (d.spec.selector = { matchLabels: { app: 'other' } })).some((c) => c.field === 'spec.selector' && c.message!.endsWith('field is immutable')));
  // Semantically equal selectors (absent vs empty lists) are not changes.
  t.deepEqual(update(R.deployments, deployment(), (d) => (d.spec.selector.matchExpressions = [])), []);
});

test('Service clusterIP is immutable once set, except to and from ExternalName', (t) => {
  t.deepEqual(update(R.services, service(), (s) => Object.assign(s.spec, { clusterIP: '10.96.0.21', clusterIPs: ['10.96.0.21'] })), [
    { reason: 'FieldValueInvalid', field: 'spec.clusterIP', message: 'Invalid value: "10.96.0.21": field is immutable' },
    { reason: 'FieldValueInvalid', field: 'spec.clusterIPs[0]', message: 'Invalid value: "10.96.0.21": field is immutable' },
  ]);
  t.deepEqual(update(R.services, service(), (s) => delete s.spec.clusterIP), [], 'an omitted clusterIP keeps the allocated one');
  t.deepEqual(
    update(R.services, service(), (s) => {
      s.spec = { type: 'ExternalName', externalName: 'db.example.test' };
    }),
    [],
  );
  const external: Any = { ...service(), spec: { type: 'ExternalName', externalName: 'db.example.test' } };
  t.deepEqual(
    update(R.services, external, (s) => {
      s.spec = { type: 'ClusterIP', clusterIP: '10.96.0.30', ports: [{ port: 80 }] };
    }),
    [],
  );
});

test('Service: NodePort -> ClusterIP drops the carried-over node ports instead of failing', (t) => {
  const np: Any = { ...service(), spec: { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 80, nodePort: 30080 }] } };
  t.deepEqual(update(R.services, np, (s) => (s.spec.type = 'ClusterIP')), []);
});

test('immutable ConfigMaps and Secrets keep their data; Secret type never changes', (t) => {
  const cm: Any = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { a: '1' }, immutable: true };
  t.deepEqual(update(R.configmaps, cm, (c) => (c.data.a = '2')), [
    { reason: 'FieldValueForbidden', field: 'data', message: 'Forbidden: field is immutable when `immutable` is set' },
  ]);
  t.deepEqual(update(R.configmaps, cm, (c) => (c.immutable = false)), [
    { reason: 'FieldValueForbidden', field: 'immutable', message: 'Forbidden: field is immutable when `immutable` is set' },
  ]);
  t.deepEqual(update(R.configmaps, cm, (c) => (c.metadata.labels = { a: 'b' })), []);
  const mutable: Any = { ...cm, immutable: undefined };
  delete mutable.immutable;
  t.deepEqual(update(R.configmaps, mutable, (c) => (c.data.a = '2')), []);

  const secret: Any = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, type: 'Opaque', data: { a: 'YQ==' }, immutable: true };
  t.is(update(R.secrets, secret, (s) => (s.data.a = 'Yg=='))[0]?.field, 'data');
  const plain: Any = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, data: { a: 'YQ==' } };
  t.deepEqual(update(R.secrets, plain, (s) => (s.type = 'example.com/custom')), [
    { reason: 'FieldValueInvalid', field: 'type', message: 'Invalid value: "example.com/custom": field is immutable' },
  ]);
});

test('EndpointSlice addressType and IngressClass controller are immutable', (t) => {
  const es: Any = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'e', namespace: 'default' }, addressType: 'IPv4', endpoints: [] };
  t.is(update(R.endpointslices, es, (e) => (e.addressType = 'FQDN'))[0]?.field, 'addressType');
  const ic: Any = { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'k' }, spec: { controller: 'kubelite.io/a' } };
  t.is(update(R.ingressclasses, ic, (i) => (i.spec.controller = 'kubelite.io/b'))[0]?.field, 'spec.controller');
});

test('Node podCIDR may be set once', (t) => {
  const n: Any = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: {} };
  t.deepEqual(update(R.nodes, n, (x) => (x.spec.podCIDR = '10.244.1.0/24')), []);
  n.spec.podCIDR = '10.244.1.0/24';
  t.is(update(R.nodes, n, (x) => (x.spec.podCIDR = '10.244.2.0/24'))[0]?.field, 'spec.podCIDR');
});

test('semanticEqual treats absent, null, [] and {} alike', (t) => {
  t.true(semanticEqual({ a: [] }, {}));
  t.true(semanticEqual({ a: null, b: { c: {} } }, { b: undefined }));
  t.false(semanticEqual({ a: [1] }, { a: [] }));
  t.false(semanticEqual({ a: 0 }, {}));
});
