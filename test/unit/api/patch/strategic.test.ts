import test from 'ava';
import { applyPatch, applyStrategicMergePatch } from '../../../../src/api/patch/index.js';
import { StatusError } from '../../../../src/api/errors.js';
import { byKind, R } from '../../../../src/api/resources.js';
import type { KObject } from '../../../../src/api/types.js';

// Expected results were checked against the real implementation: kubectl v1.32
// `kubectl patch --local -f target.json --type strategic -p PATCH -o json` (apimachinery's
// strategicpatch) gives the same object for every successful case below.

type Obj = Record<string, unknown>;
const pod = (spec: Obj, meta: Obj = {}, status?: Obj): Obj => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', ...meta }, spec, ...(status ? { status } : {}) });
const deploy = (podSpec: Obj, extra: Obj = {}): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'd' },
  spec: { replicas: 1, selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: podSpec }, ...extra },
});
const svc = (spec: Obj): Obj => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec });
const node = (spec: Obj, status?: Obj): Obj => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec, ...(status ? { status } : {}) });
const c = (name: string, extra: Obj = {}): Obj => ({ name, image: `${name}:1`, ...extra });

interface Case {
  name: string;
  target: Obj;
  patch: unknown;
  want?: Obj;
  error?: RegExp;
}

// <cases>
const cases: Case[] = [
  {
    name: 'containers merge by name: a new one goes first (kubectl patch behaviour)',
    target: pod({ containers: [c('a'), c('b')] }),
    patch: { spec: { containers: [c('c')] } },
    want: pod({ containers: [c('c'), c('a'), c('b')] }),
  },
  {
    name: 'a container is updated in place by name',
    target: pod({ containers: [c('a'), c('b'), c('c')] }),
    patch: { spec: { containers: [{ name: 'b', image: 'b:2' }] } },
    want: pod({ containers: [c('a'), c('b', { image: 'b:2' }), c('c')] }),
  },
  {
    name: 'update and add in one patch',
    target: pod({ containers: [c('a'), c('b')] }),
    patch: { spec: { containers: [{ name: 'b', image: 'b:2' }, c('z')] } },
    want: pod({ containers: [c('a'), c('b', { image: 'b:2' }), c('z')] }),
  },
  {
    name: 'patched elements take the patch order, the others keep theirs',
    target: pod({ containers: [c('a'), c('b'), c('c'), c('d')] }),
    patch: { spec: { containers: [{ name: 'd', image: 'd2' }, { name: 'b', image: 'b2' }] } },
    want: pod({ containers: [c('a'), c('c'), c('d', { image: 'd2' }), c('b', { image: 'b2' })] }),
  },
  {
    name: 'an env var changes by name without losing the others',
    target: pod({ containers: [c('a', { env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }, { name: 'Z', value: '3' }] })] }),
    patch: { spec: { containers: [{ name: 'a', env: [{ name: 'Y', value: 'new' }] }] } },
    want: pod({ containers: [c('a', { env: [{ name: 'X', value: '1' }, { name: 'Y', value: 'new' }, { name: 'Z', value: '3' }] })] }),
  },
  {
    name: 'null inside a merged element deletes that field',
    target: pod({ containers: [c('a', { env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] })] }),
    patch: { spec: { containers: [{ name: 'a', env: [{ name: 'X', value: 'v', valueFrom: null }] }] } },
    want: pod({ containers: [c('a', { env: [{ name: 'X', value: 'v' }] })] }),
  },
  {
    name: '$patch: delete removes one container',
    target: pod({ containers: [c('a'), c('b'), c('c')] }),
    patch: { spec: { containers: [{ $patch: 'delete', name: 'b' }] } },
    want: pod({ containers: [c('a'), c('c')] }),
  },
  {
    name: '$patch: delete of a missing element is a no-op',
    target: pod({ containers: [c('a')] }),
    patch: { spec: { containers: [{ $patch: 'delete', name: 'zz' }] } },
    want: pod({ containers: [c('a')] }),
  },
  {
    name: '$patch: replace in a list replaces the list',
    target: pod({ containers: [c('a'), c('b')] }),
    patch: { spec: { containers: [c('q'), { $patch: 'replace' }] } },
    want: pod({ containers: [c('q')] }),
  },
  {
    name: '$patch: replace in a map replaces the map',
    target: pod({ containers: [c('a')], nodeSelector: { x: '1', y: '2' } }),
    patch: { spec: { nodeSelector: { z: '3', $patch: 'replace' } } },
    want: pod({ containers: [c('a')], nodeSelector: { z: '3' } }),
  },
  {
    name: '$patch: delete in a map leaves it empty',
    target: pod({ containers: [c('a')], nodeSelector: { a: '1' } }),
    patch: { spec: { nodeSelector: { $patch: 'delete' } } },
    want: pod({ containers: [c('a')], nodeSelector: {} }),
  },
  {
    name: 'null deletes a label, others stay',
    target: pod({ containers: [c('a')] }, { labels: { a: '1', b: '2' } }),
    patch: { metadata: { labels: { a: null, c: '3' } } },
    want: pod({ containers: [c('a')] }, { labels: { b: '2', c: '3' } }),
  },
  {
    name: 'null for a key that does not exist is ignored',
    target: pod({ containers: [c('a')] }, { labels: { a: '1' } }),
    patch: { metadata: { labels: { zz: null } } },
    want: pod({ containers: [c('a')] }, { labels: { a: '1' } }),
  },
  {
    name: 'nulls inside a newly added map are dropped, not stored',
    target: pod({ containers: [c('a')] }),
    patch: { spec: { nodeSelector: { a: 'b', c: null } } },
    want: pod({ containers: [c('a')], nodeSelector: { a: 'b' } }),
  },
  {
    name: 'container ports merge by containerPort',
    target: pod({ containers: [c('a', { ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443, name: 'https' }] })] }),
    patch: { spec: { containers: [{ name: 'a', ports: [{ containerPort: 443, name: 'tls' }, { containerPort: 8080 }] }] } },
    want: pod({ containers: [c('a', { ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443, name: 'tls' }, { containerPort: 8080 }] })] }),
  },
  {
    name: 'volumeMounts merge by mountPath',
    target: pod({ containers: [c('a', { volumeMounts: [{ name: 'v', mountPath: '/a' }, { name: 'w', mountPath: '/b' }] })] }),
    patch: { spec: { containers: [{ name: 'a', volumeMounts: [{ mountPath: '/b', readOnly: true }] }] } },
    want: pod({ containers: [c('a', { volumeMounts: [{ name: 'v', mountPath: '/a' }, { name: 'w', mountPath: '/b', readOnly: true }] })] }),
  },
  {
    name: 'envFrom is atomic',
    target: pod({ containers: [c('a', { envFrom: [{ configMapRef: { name: 'x' } }] })] }),
    patch: { spec: { containers: [{ name: 'a', envFrom: [{ secretRef: { name: 'y' } }] }] } },
    want: pod({ containers: [c('a', { envFrom: [{ secretRef: { name: 'y' } }] })] }),
  },
  {
    name: 'tolerations are atomic',
    target: pod({ containers: [c('a')], tolerations: [{ key: 'a', operator: 'Exists' }] }),
    patch: { spec: { tolerations: [{ key: 'b', operator: 'Exists' }] } },
    want: pod({ containers: [c('a')], tolerations: [{ key: 'b', operator: 'Exists' }] }),
  },
  {
    name: 'args are atomic',
    target: pod({ containers: [c('a', { args: ['1', '2'] })] }),
    patch: { spec: { containers: [{ name: 'a', args: ['3'] }] } },
    want: pod({ containers: [c('a', { args: ['3'] })] }),
  },
  {
    name: '$setElementOrder alone reorders',
    target: pod({ containers: [c('a'), c('b'), c('c')] }),
    patch: { spec: { '$setElementOrder/containers': [{ name: 'c' }, { name: 'a' }, { name: 'b' }] } },
    want: pod({ containers: [c('c'), c('a'), c('b')] }),
  },
  {
    name: '$setElementOrder with a change and a new element',
    target: pod({ containers: [c('a'), c('b')] }),
    patch: { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'n' }, { name: 'a' }], containers: [{ name: 'b', image: 'b:2' }, c('n')] } },
    want: pod({ containers: [c('b', { image: 'b:2' }), c('n'), c('a')] }),
  },
  {
    name: '$setElementOrder naming some elements weaves in the rest by live position',
    target: pod({ containers: [c('a'), c('b'), c('c'), c('d')] }),
    patch: { spec: { '$setElementOrder/containers': [{ name: 'd' }, { name: 'b' }] } },
    want: pod({ containers: [c('a'), c('c'), c('d'), c('b')] }),
  },
  {
    name: '$setElementOrder with a delete (what kubectl apply sends)',
    target: pod({ containers: [c('a'), c('b'), c('c')] }),
    patch: { spec: { '$setElementOrder/containers': [{ name: 'c' }, { name: 'a' }], containers: [{ $patch: 'delete', name: 'b' }] } },
    want: pod({ containers: [c('c'), c('a')] }),
  },
  {
    name: '$setElementOrder that contradicts the patch list is rejected',
    target: pod({ containers: [c('a'), c('b')] }),
    patch: { spec: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }], containers: [{ name: 'b', image: 'x' }, { name: 'a', image: 'y' }] } },
    error: /does not match the \$setElementOrder\/containers list/,
  },
  {
    name: 'finalizers merge as a set',
    target: pod({ containers: [c('a')] }, { finalizers: ['x', 'y'] }),
    patch: { metadata: { finalizers: ['z', 'x'] } },
    want: pod({ containers: [c('a')] }, { finalizers: ['z', 'x', 'y'] }),
  },
  {
    name: 'primitive set order: patch order first, server-only after',
    target: pod({ containers: [c('a')] }, { finalizers: ['a', 'b', 'c'] }),
    patch: { metadata: { finalizers: ['c', 'd', 'a'] } },
    want: pod({ containers: [c('a')] }, { finalizers: ['b', 'c', 'd', 'a'] }),
  },
  {
    name: '$deleteFromPrimitiveList removes finalizers',
    target: pod({ containers: [c('a')] }, { finalizers: ['x', 'y', 'z'] }),
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['y'] } },
    want: pod({ containers: [c('a')] }, { finalizers: ['x', 'z'] }),
  },
  {
    name: '$deleteFromPrimitiveList with additions and an order',
    target: pod({ containers: [c('a')] }, { finalizers: ['x', 'y', 'z'] }),
    patch: { metadata: { '$setElementOrder/finalizers': ['w', 'z', 'x'], finalizers: ['w'], '$deleteFromPrimitiveList/finalizers': ['y'] } },
    want: pod({ containers: [c('a')] }, { finalizers: ['w', 'z', 'x'] }),
  },
  {
    name: '$deleteFromPrimitiveList on a missing list is a no-op',
    target: pod({ containers: [c('a')] }),
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['y'] } },
    want: pod({ containers: [c('a')] }),
  },
  {
    name: 'ownerReferences merge by uid',
    target: pod({ containers: [c('a')] }, { ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'a', uid: '1' }] }),
    patch: { metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'b', uid: '2' }, { uid: '1', controller: true }] } },
    want: pod({ containers: [c('a')] }, { ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'b', uid: '2' }, { apiVersion: 'v1', kind: 'X', name: 'a', uid: '1', controller: true }] }),
  },
  {
    name: '$retainKeys in a volume clears the old source',
    target: pod({ containers: [c('a')], volumes: [{ name: 'v', emptyDir: {} }, { name: 'w', hostPath: { path: '/x' } }] }),
    patch: { spec: { volumes: [{ name: 'v', $retainKeys: ['configMap', 'name'], configMap: { name: 'cm' } }] } },
    want: pod({ containers: [c('a')], volumes: [{ name: 'v', configMap: { name: 'cm' } }, { name: 'w', hostPath: { path: '/x' } }] }),
  },
  {
    name: '$retainKeys must list every field the patch sets',
    target: pod({ containers: [c('a')], volumes: [{ name: 'v', emptyDir: {} }] }),
    patch: { spec: { volumes: [{ name: 'v', $retainKeys: ['name'], configMap: { name: 'cm' } }] } },
    error: /"configMap" is in the patch but not in its \$retainKeys list/,
  },
  {
    name: 'Deployment strategy with $retainKeys drops rollingUpdate',
    target: deploy({ containers: [c('a')] }, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } }),
    patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
    want: deploy({ containers: [c('a')] }, { strategy: { type: 'Recreate' } }),
  },
  {
    name: 'Deployment strategy without $retainKeys merges',
    target: deploy({ containers: [c('a')] }, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } }),
    patch: { spec: { strategy: { type: 'Recreate' } } },
    want: deploy({ containers: [c('a')] }, { strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 1 } } }),
  },
  {
    name: 'Deployment pod template containers and env merge by name',
    target: deploy({ containers: [c('a', { env: [{ name: 'A', value: '1' }] })] }),
    patch: { spec: { template: { spec: { containers: [{ name: 'a', env: [{ name: 'B', value: '2' }] }] } } } },
    want: deploy({ containers: [c('a', { env: [{ name: 'B', value: '2' }, { name: 'A', value: '1' }] })] }),
  },
  {
    name: 'kubectl rollout restart annotates the pod template',
    target: deploy({ containers: [c('a')] }),
    patch: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2025-01-01T00:00:00Z' } } } } },
    want: {
      ...deploy({ containers: [c('a')] }),
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'd' } },
        template: { metadata: { labels: { app: 'd' }, annotations: { 'kubectl.kubernetes.io/restartedAt': '2025-01-01T00:00:00Z' } }, spec: { containers: [c('a')] } },
      },
    },
  },
  {
    name: 'Service ports merge by port',
    target: svc({ ports: [{ port: 80, targetPort: 8080, name: 'http' }, { port: 443, name: 'https' }] }),
    patch: { spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 53, protocol: 'UDP', name: 'dns' }] } },
    want: svc({ ports: [{ port: 80, targetPort: 9090, name: 'http' }, { port: 53, protocol: 'UDP', name: 'dns' }, { port: 443, name: 'https' }] }),
  },
  {
    name: 'Service externalIPs are atomic',
    target: svc({ externalIPs: ['203.0.113.11'] }),
    patch: { spec: { externalIPs: ['2.2.2.2'] } },
    want: svc({ externalIPs: ['2.2.2.2'] }),
  },
  {
    name: 'status conditions merge by type',
    target: pod({ containers: [c('a')] }, {}, { conditions: [{ type: 'Ready', status: 'False' }, { type: 'Initialized', status: 'True' }] }),
    patch: { status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }] } },
    want: pod({ containers: [c('a')] }, {}, { conditions: [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }, { type: 'Initialized', status: 'True' }] }),
  },
  {
    name: 'containerStatuses are atomic',
    target: pod({ containers: [c('a')] }, {}, { containerStatuses: [{ name: 'a', ready: false }, { name: 'b', ready: true }] }),
    patch: { status: { containerStatuses: [{ name: 'a', ready: true }] } },
    want: pod({ containers: [c('a')] }, {}, { containerStatuses: [{ name: 'a', ready: true }] }),
  },
  {
    name: 'Node taints are atomic',
    target: node({ taints: [{ key: 'a', effect: 'NoSchedule' }] }),
    patch: { spec: { taints: [{ key: 'b', effect: 'NoSchedule' }] } },
    want: node({ taints: [{ key: 'b', effect: 'NoSchedule' }] }),
  },
  {
    name: 'Node addresses merge by type',
    target: node({}, { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: 'n' }] }),
    patch: { status: { addresses: [{ type: 'InternalIP', address: '10.0.0.2' }] } },
    want: node({}, { addresses: [{ type: 'InternalIP', address: '10.0.0.2' }, { type: 'Hostname', address: 'n' }] }),
  },
  {
    name: 'Node podCIDRs merge as a set',
    target: node({ podCIDRs: ['10.0.0.0/24'] }),
    patch: { spec: { podCIDRs: ['10.1.0.0/24'] } },
    want: node({ podCIDRs: ['10.1.0.0/24', '10.0.0.0/24'] }),
  },
  {
    name: 'Namespace spec.finalizers are atomic',
    target: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' }, spec: { finalizers: ['kubernetes'] } },
    patch: { spec: { finalizers: ['other'] } },
    want: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' }, spec: { finalizers: ['other'] } },
  },
  {
    name: 'ConfigMap data merges like a map',
    target: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1', b: '2' } },
    patch: { data: { a: null, c: '3' } },
    want: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { b: '2', c: '3' } },
  },
  {
    name: 'a value of another type replaces',
    target: pod({ containers: [c('a')], nodeSelector: { a: 'b' } }),
    patch: { spec: { nodeSelector: 'x' } },
    want: pod({ containers: [c('a')], nodeSelector: 'x' }),
  },
  {
    name: 'a new merged list drops its delete directives',
    target: pod({ containers: [c('a')] }),
    patch: { spec: { initContainers: [{ name: 'i', image: 'i' }, { $patch: 'delete', name: 'q' }] } },
    want: pod({ containers: [c('a')], initContainers: [{ name: 'i', image: 'i' }] }),
  },
  {
    name: 'a list element without its merge key is rejected',
    target: pod({ containers: [c('a')] }),
    patch: { spec: { containers: [{ image: 'x' }] } },
    error: /lacks the merge key "name"/,
  },
  {
    name: 'an unknown $patch value is rejected',
    target: pod({ containers: [c('a')] }),
    patch: { spec: { containers: [{ name: 'a', $patch: 'frob' }] } },
    error: /unknown "\$patch" directive "frob"/,
  },
  {
    name: 'lists of lists are rejected',
    target: pod({ containers: [c('a')] }, { finalizers: ['a'] }),
    patch: { metadata: { finalizers: [['x']] } },
    error: /lists of lists/,
  },
  {
    name: 'a merged list mixing maps and primitives is rejected',
    target: pod({ containers: [c('a')] }),
    patch: { spec: { containers: [{ name: 'x', image: 'x' }, 'y'] } },
    error: /only maps or only primitive values/,
  },
];
// </cases>

for (const k of cases) {
  test(`SMP: ${k.name}`, (t) => {
    const target = k.target as KObject;
    const res = byKind(target.apiVersion, target.kind);
    const before = JSON.stringify([k.target, k.patch]);
    if (k.error) {
      const err = t.throws(() => applyStrategicMergePatch(res, target, k.patch), { instanceOf: StatusError }) as StatusError;
      t.is(err.code, 400);
      t.regex(err.message, k.error);
    } else {
      const out = applyStrategicMergePatch(res, target, k.patch);
      t.deepEqual(out, k.want as KObject);
      // Lists are ordered: deepEqual already compares arrays in order; this names the failure.
      t.is(JSON.stringify(listNames(out)), JSON.stringify(listNames(k.want as KObject)));
    }
    t.is(JSON.stringify([k.target, k.patch]), before, 'inputs must not be mutated');
  });
}

function listNames(o: KObject): unknown {
  const spec = o.spec as { containers?: { name: string }[] } | undefined;
  return spec?.containers?.map((x) => x.name);
}

test('SMP: unknown directives are a 400', (t) => {
  const err = t.throws(() => applyStrategicMergePatch(R.pods, pod({ containers: [c('a')] }) as KObject, { spec: { $foo: 1 } })) as StatusError;
  t.is(err.code, 400);
  t.regex(err.message, /unknown directive "\$foo"/);
});

test('SMP: {"$patch": "merge"} is accepted as the default it names', (t) => {
  const out = applyStrategicMergePatch(R.pods, pod({ containers: [c('a')], nodeSelector: { a: '1' } }) as KObject, { spec: { nodeSelector: { $patch: 'merge', b: '2' } } });
  t.deepEqual((out.spec as Obj).nodeSelector, { a: '1', b: '2' });
});

test('SMP: the whole object cannot be deleted', (t) => {
  const err = t.throws(() => applyStrategicMergePatch(R.pods, pod({ containers: [] }) as KObject, { $patch: 'delete' })) as StatusError;
  t.is(err.code, 400);
});

test('SMP: a patch must be an object', (t) => {
  for (const patch of [null, [], 'x', 3]) {
    const err = t.throws(() => applyStrategicMergePatch(R.pods, pod({ containers: [] }) as KObject, patch)) as StatusError;
    t.is(err.code, 400);
  }
});

test('SMP: kinds without a strategy table replace their lists (merge-patch semantics) but keep ObjectMeta rules', (t) => {
  const res = { group: 'example.com', kind: 'Widget' };
  const target = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', finalizers: ['a'] }, spec: { items: [{ name: 'x', v: 1 }] } } as KObject;
  const out = applyStrategicMergePatch(res, target, { metadata: { finalizers: ['b'] }, spec: { items: [{ name: 'x', w: 2 }] } });
  t.deepEqual((out.spec as Obj).items, [{ name: 'x', w: 2 }]);
  t.deepEqual(out.metadata.finalizers, ['b', 'a']);
});

test('SMP: the result shares no structure with the patch', (t) => {
  const env = [{ name: 'A', value: '1' }];
  const patch = { spec: { containers: [c('n', { env })] } };
  const out = applyStrategicMergePatch(R.pods, pod({ containers: [c('a')] }) as KObject, patch);
  ((out.spec as { containers: { env?: { value: string }[] }[] }).containers[0].env as { value: string }[])[0].value = 'changed';
  t.is(env[0].value, '1');
});

test('SMP through applyPatch: kubectl label', (t) => {
  const out = applyPatch(R.pods, pod({ containers: [c('a')] }, { labels: { a: '1' } }) as KObject, 'strategic', { metadata: { labels: { tier: 'web' } } });
  t.deepEqual(out.metadata.labels, { a: '1', tier: 'web' });
});
