import test from 'ava';
import { applyStrategicMergePatch, threeWayMergePatch, twoWayMergePatch } from '../../../../src/api/patch/index.js';
import { byKind, R } from '../../../../src/api/resources.js';
import type { KObject } from '../../../../src/api/types.js';

// The expected patches are byte-for-byte (modulo key order) what kubectl v1.32 `apply` sent to a
// stub API server for the same last-applied / live / manifest triples, with kubectl's own
// last-applied annotation removed from the patch.

type Obj = Record<string, unknown>;
const P = (spec: Obj, meta: Obj = {}): KObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', ...meta }, spec });
const D = (podSpec: Obj, extra: Obj = {}, meta: Obj = {}): KObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'd', namespace: 'default', ...meta },
  spec: { replicas: 1, selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: podSpec }, ...extra },
});
const S = (spec: Obj): KObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' }, spec });
const c = (name: string, extra: Obj = {}): Obj => ({ name, image: `${name}:1`, ...extra });

// [name, last applied, live, new manifest, the patch kubectl sends]
const kubectlPatches: [string, Obj, KObject, KObject, Obj][] = [
  ['nothing changed (live has defaults)', P({ containers: [c('a')] }), P({ containers: [c('a', { imagePullPolicy: 'Always' })] }), P({ containers: [c('a')] }), {}],
  [
    'image change',
    P({ containers: [c('a')] }),
    P({ containers: [c('a', { imagePullPolicy: 'Always' })] }),
    P({ containers: [c('a', { image: 'a:2' })] }),
    { spec: { '$setElementOrder/containers': [{ name: 'a' }], containers: [{ image: 'a:2', name: 'a' }] } },
  ],
  [
    'a container dropped from the manifest',
    P({ containers: [c('a'), c('b')] }),
    P({ containers: [c('a'), c('b')] }),
    P({ containers: [c('a')] }),
    { spec: { '$setElementOrder/containers': [{ name: 'a' }], containers: [{ $patch: 'delete', name: 'b' }] } },
  ],
  [
    'a container added',
    P({ containers: [c('a')] }),
    P({ containers: [c('a')] }),
    P({ containers: [c('a'), c('b')] }),
    { spec: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }], containers: [{ image: 'b:1', name: 'b' }] } },
  ],
  ['containers reordered', P({ containers: [c('a'), c('b')] }), P({ containers: [c('a'), c('b')] }), P({ containers: [c('b'), c('a')] }), { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }] } }],
  [
    'a label dropped, one set by someone else kept',
    P({ containers: [c('a')] }, { labels: { x: '1', y: '2' } }),
    P({ containers: [c('a')] }, { labels: { x: '1', y: '2', other: 'o' } }),
    P({ containers: [c('a')] }, { labels: { x: '1' } }),
    { metadata: { labels: { y: null } } },
  ],
  ['all labels dropped', P({ containers: [c('a')] }, { labels: { x: '1' } }), P({ containers: [c('a')] }, { labels: { x: '1', other: 'o' } }), P({ containers: [c('a')] }), { metadata: { labels: null } }],
  [
    'env: one dropped, one changed, an injected one untouched',
    P({ containers: [c('a', { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] })] }),
    P({ containers: [c('a', { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }, { name: 'INJ', value: 'x' }] })] }),
    P({ containers: [c('a', { env: [{ name: 'A', value: '9' }] })] }),
    {
      spec: {
        '$setElementOrder/containers': [{ name: 'a' }],
        containers: [{ '$setElementOrder/env': [{ name: 'A' }], env: [{ name: 'A', value: '9' }, { $patch: 'delete', name: 'B' }], name: 'a' }],
      },
    },
  ],
  [
    'finalizers: set additions and deletions',
    P({ containers: [c('a')] }, { finalizers: ['x', 'y'] }),
    P({ containers: [c('a')] }, { finalizers: ['x', 'y', 'z'] }),
    P({ containers: [c('a')] }, { finalizers: ['w', 'x'] }),
    { metadata: { '$deleteFromPrimitiveList/finalizers': ['y'], '$setElementOrder/finalizers': ['w', 'x'], finalizers: ['w'] } },
  ],
  [
    'Deployment strategy switched to Recreate ($retainKeys)',
    D({ containers: [c('a')] }, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } }),
    D({ containers: [c('a')] }, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '25%' } } }),
    D({ containers: [c('a')] }, { strategy: { type: 'Recreate' } }),
    { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' } } },
  ],
  [
    'replicas and a volume source change',
    D({ containers: [c('a')], volumes: [{ name: 'v', emptyDir: {} }] }),
    D({ containers: [c('a')], volumes: [{ name: 'v', emptyDir: {} }] }, { replicas: 5 }),
    D({ containers: [c('a')], volumes: [{ name: 'v', configMap: { name: 'cm' } }] }, { replicas: 2 }),
    {
      spec: {
        replicas: 2,
        template: { spec: { '$setElementOrder/volumes': [{ name: 'v' }], volumes: [{ $retainKeys: ['configMap', 'name'], configMap: { name: 'cm' }, emptyDir: null, name: 'v' }] } },
      },
    },
  ],
  [
    'a field dropped inside a volume',
    D({ containers: [c('a')], volumes: [{ name: 'v', configMap: { name: 'cm', defaultMode: 420 } }] }),
    D({ containers: [c('a')], volumes: [{ name: 'v', configMap: { name: 'cm', defaultMode: 420 } }] }),
    D({ containers: [c('a')], volumes: [{ name: 'v', configMap: { name: 'cm' } }] }),
    { spec: { template: { spec: { '$setElementOrder/volumes': [{ name: 'v' }], volumes: [{ $retainKeys: ['configMap', 'name'], configMap: { defaultMode: null }, name: 'v' }] } } } },
  ],
  [
    'Service ports by port, selector changed',
    S({ ports: [{ port: 80, name: 'http' }, { port: 443, name: 'https' }], selector: { app: 'x' } }),
    S({ ports: [{ port: 80, name: 'http', protocol: 'TCP', targetPort: 80 }, { port: 443, name: 'https', protocol: 'TCP', targetPort: 443 }], selector: { app: 'x' }, clusterIP: '10.0.0.1' }),
    S({ ports: [{ port: 80, name: 'web' }], selector: { app: 'y' } }),
    { spec: { '$setElementOrder/ports': [{ port: 80 }], ports: [{ name: 'web', port: 80 }, { $patch: 'delete', port: 443 }], selector: { app: 'y' } } },
  ],
  [
    'no last-applied configuration: additions only',
    {},
    P({ containers: [c('a')] }, { labels: { a: '1' } }),
    P({ containers: [c('a', { image: 'x' })] }, { labels: { b: '2' } }),
    { metadata: { labels: { b: '2' } }, spec: { '$setElementOrder/containers': [{ name: 'a' }], containers: [{ image: 'x', name: 'a' }] } },
  ],
  [
    'atomic args replaced whole',
    P({ containers: [c('a', { args: ['1'] })] }),
    P({ containers: [c('a', { args: ['1'] })] }),
    P({ containers: [c('a', { args: ['1', '2'] })] }),
    { spec: { '$setElementOrder/containers': [{ name: 'a' }], containers: [{ args: ['1', '2'], name: 'a' }] } },
  ],
  [
    'atomic tolerations dropped',
    P({ containers: [c('a')], tolerations: [{ key: 'a', operator: 'Exists' }] }),
    P({ containers: [c('a')], tolerations: [{ key: 'a', operator: 'Exists' }, { key: 'node', operator: 'Exists' }] }),
    P({ containers: [c('a')] }),
    { spec: { tolerations: null } },
  ],
  [
    'a field dropped from a container',
    P({ containers: [c('a', { command: ['sh'], workingDir: '/x' })] }),
    P({ containers: [c('a', { command: ['sh'], workingDir: '/x' })] }),
    P({ containers: [c('a', { command: ['sh'] })] }),
    { spec: { '$setElementOrder/containers': [{ name: 'a' }], containers: [{ name: 'a', workingDir: null }] } },
  ],
  [
    'container ports: one dropped, one added',
    P({ containers: [c('a', { ports: [{ containerPort: 80 }, { containerPort: 81 }] })] }),
    P({ containers: [c('a', { ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 81, protocol: 'TCP' }] })] }),
    P({ containers: [c('a', { ports: [{ containerPort: 81 }, { containerPort: 82 }] })] }),
    {
      spec: {
        '$setElementOrder/containers': [{ name: 'a' }],
        containers: [{ '$setElementOrder/ports': [{ containerPort: 81 }, { containerPort: 82 }], name: 'a', ports: [{ containerPort: 82 }, { $patch: 'delete', containerPort: 80 }] }],
      },
    },
  ],
  ['an empty list added', P({ containers: [c('a')] }), P({ containers: [c('a')] }), P({ containers: [c('a')], volumes: [] }), { spec: { volumes: [] } }],
  [
    'several containers and all finalizers dropped',
    P({ containers: [c('a'), c('b'), c('c')] }, { finalizers: ['f1', 'f2'] }),
    P({ containers: [c('a'), c('b'), c('c')] }, { finalizers: ['f1', 'f2'] }),
    P({ containers: [c('c')] }),
    { metadata: { finalizers: null }, spec: { '$setElementOrder/containers': [{ name: 'c' }], containers: [{ $patch: 'delete', name: 'a' }, { $patch: 'delete', name: 'b' }] } },
  ],
];

for (const [name, original, live, manifest, want] of kubectlPatches) {
  test(`three-way patch as kubectl apply computes it: ${name}`, (t) => {
    const res = byKind(manifest.apiVersion, manifest.kind);
    const before = JSON.stringify([original, live, manifest]);
    t.deepEqual(threeWayMergePatch(res, original, manifest, live), want);
    t.is(JSON.stringify([original, live, manifest]), before);
  });
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Client-side `kubectl apply` against a server that applies SMP: the sequence kubectl runs. */
function kubectlApply(live: KObject | undefined, manifest: KObject): { obj: KObject; patch?: unknown } {
  const res = byKind(manifest.apiVersion, manifest.kind);
  const modified = structuredClone(manifest);
  modified.metadata.annotations = { ...(modified.metadata.annotations ?? {}), [LAST_APPLIED]: JSON.stringify(manifest) };
  if (!live) return { obj: modified };
  const annotation = live.metadata.annotations?.[LAST_APPLIED];
  const original = annotation ? JSON.parse(annotation) : {};
  const patch = threeWayMergePatch(res, original, modified, live);
  return { obj: applyStrategicMergePatch(res, live, patch), patch };
}

test('apply A, someone labels it, apply B dropping a field of A: the field goes, the label stays', (t) => {
  const a = D({ containers: [c('web', { env: [{ name: 'MODE', value: 'a' }, { name: 'DEBUG', value: '1' }] })] }, { minReadySeconds: 5 }, { labels: { app: 'd' } });
  let live = kubectlApply(undefined, a).obj;
  // kubectl label deploy d team=x
  live = applyStrategicMergePatch(R.deployments, live, { metadata: { labels: { team: 'x' } } });
  // the controller-ish defaulting a server would do
  live = applyStrategicMergePatch(R.deployments, live, { spec: { revisionHistoryLimit: 10 } });

  const b = D({ containers: [c('web', { env: [{ name: 'MODE', value: 'b' }] })] }, {}, { labels: { app: 'd' } });
  const { obj } = kubectlApply(live, b);
  const spec = obj.spec as { minReadySeconds?: number; revisionHistoryLimit?: number; template: { spec: { containers: { env: unknown[] }[] } } };
  t.is(spec.minReadySeconds, undefined, 'dropped by the manifest');
  t.is(spec.revisionHistoryLimit, 10, 'set by someone else, kept');
  t.deepEqual(obj.metadata.labels, { app: 'd', team: 'x' });
  t.deepEqual(spec.template.spec.containers[0].env, [{ name: 'MODE', value: 'b' }]);
  t.deepEqual(JSON.parse(obj.metadata.annotations![LAST_APPLIED]), b);
});

test('re-applying the same manifest sends only the unchanged annotation ("unchanged")', (t) => {
  const a = P({ containers: [c('a', { ports: [{ containerPort: 80 }] })] }, { labels: { x: '1' } });
  let live = kubectlApply(undefined, a).obj;
  // server defaulting
  live = applyStrategicMergePatch(R.pods, live, { spec: { containers: [{ name: 'a', imagePullPolicy: 'IfNotPresent', ports: [{ containerPort: 80, protocol: 'TCP' }] }], restartPolicy: 'Always' } });
  const { patch, obj } = kubectlApply(live, a);
  t.deepEqual(patch, {});
  t.deepEqual(obj, live);
});

test('apply removes a container it no longer lists and keeps the order of the manifest', (t) => {
  let live = kubectlApply(undefined, P({ containers: [c('a'), c('b'), c('c')] })).obj;
  live = kubectlApply(live, P({ containers: [c('c'), c('a')] })).obj;
  t.deepEqual((live.spec as { containers: { name: string }[] }).containers.map((x) => x.name), ['c', 'a']);
});

test('apply adding a new Service port keeps the clusterIP and nodePorts the server allocated', (t) => {
  const s1 = S({ type: 'NodePort', selector: { app: 'x' }, ports: [{ port: 80, targetPort: 8080 }] });
  let live = kubectlApply(undefined, s1).obj;
  live = applyStrategicMergePatch(R.services, live, { spec: { clusterIP: '10.96.0.10', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] } });
  const s2 = S({ type: 'NodePort', selector: { app: 'x' }, ports: [{ port: 80, targetPort: 8080 }, { port: 443, targetPort: 8443 }] });
  const spec = kubectlApply(live, s2).obj.spec as { clusterIP: string; ports: unknown[] };
  t.is(spec.clusterIP, '10.96.0.10');
  t.deepEqual(spec.ports, [{ port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }, { port: 443, targetPort: 8443 }]);
});

test('two-way patch (kubectl edit): changes, deletions and list directives', (t) => {
  const before = P({ containers: [c('a'), c('b', { env: [{ name: 'X', value: '1' }] })] }, { labels: { a: '1', b: '2' } });
  const after = P({ containers: [c('b', { env: [{ name: 'X', value: '2' }] })] }, { labels: { a: '1' } });
  const patch = twoWayMergePatch(R.pods, before, after);
  t.deepEqual(patch, {
    metadata: { labels: { b: null } },
    spec: {
      '$setElementOrder/containers': [{ name: 'b' }],
      containers: [{ name: 'b', '$setElementOrder/env': [{ name: 'X' }], env: [{ name: 'X', value: '2' }] }, { $patch: 'delete', name: 'a' }],
    },
  });
  t.deepEqual(applyStrategicMergePatch(R.pods, before, patch), after);
});
