import test from 'ava';
import { applyStrategicMergePatch, LAST_APPLIED_ANNOTATION, readRecords, serverSideApply } from '../../../../src/api/patch/index.js';
import { StatusError } from '../../../../src/api/errors.js';
import { R } from '../../../../src/api/resources.js';
import type { KObject } from '../../../../src/api/types.js';

type Obj = Record<string, unknown>;
const D = (spec: Obj, meta: Obj = {}): KObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'default', ...meta }, spec });
const tmpl = (containers: Obj[], extra: Obj = {}): Obj => ({ selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { containers, ...extra } } });
const c = (name: string, extra: Obj = {}): Obj => ({ name, image: `${name}:1`, ...extra });
const apply = (live: KObject | undefined, applied: KObject, fieldManager = 'kubectl', force = false) => serverSideApply(R.deployments, live, applied, { fieldManager, force });
const spec = (o: KObject) => o.spec as { replicas?: number; minReadySeconds?: number; template: { spec: { containers: Obj[] } } };
const containers = (o: KObject) => spec(o).template.spec.containers;

test('create: the applied object plus the manager record, without status', (t) => {
  const applied = { ...D({ replicas: 2, ...tmpl([c('web')]) }), status: { replicas: 9 } } as KObject;
  const out = apply(undefined, applied);
  t.is(spec(out).replicas, 2);
  const records = readRecords(out);
  t.deepEqual(Object.keys(records), ['kubectl']);
  t.is(records.kubectl.status, undefined);
  t.deepEqual(records.kubectl.spec, applied.spec);
  t.is(applied.metadata.annotations, undefined, 'input not mutated');
});

test('apply A, someone labels it, apply B dropping a field A set: the field goes, the label stays', (t) => {
  let live = apply(undefined, D({ replicas: 2, minReadySeconds: 5, ...tmpl([c('web', { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] })]) }, { labels: { app: 'd' } }));
  live = applyStrategicMergePatch(R.deployments, live, { metadata: { labels: { team: 'x' }, resourceVersion: '7' }, spec: { revisionHistoryLimit: 10 } });
  const out = apply(live, D({ replicas: 2, ...tmpl([c('web', { env: [{ name: 'A', value: '9' }] })]) }, { labels: { app: 'd' } }));
  t.is(spec(out).minReadySeconds, undefined);
  t.is((out.spec as Obj).revisionHistoryLimit, 10);
  t.deepEqual(out.metadata.labels, { app: 'd', team: 'x' });
  t.deepEqual(containers(out)[0].env, [{ name: 'A', value: '9' }]);
  t.is(out.metadata.resourceVersion, '7', 'not in the applied config: left as it was');
});

test('re-applying the same configuration changes nothing', (t) => {
  const cfg = D({ replicas: 2, ...tmpl([c('web', { ports: [{ containerPort: 80 }] })]) });
  let live = apply(undefined, cfg);
  live = applyStrategicMergePatch(R.deployments, live, { spec: { template: { spec: { containers: [{ name: 'web', imagePullPolicy: 'IfNotPresent' }] } } } });
  t.deepEqual(apply(live, cfg), live);
});

test('with several managers, re-applying an unchanged configuration is still a no-op', (t) => {
  const alice = D({ replicas: 2, ...tmpl([c('web')]) });
  let live = apply(undefined, alice, 'zed');
  live = apply(live, D({}, { labels: { a: '1' } }), 'bob');
  live = apply(live, alice, 'alice');
  t.deepEqual(apply(live, alice, 'alice'), live);
  t.deepEqual(apply(live, alice, 'zed'), live);
});

test('a resourceVersion in the applied configuration is carried as a precondition but not remembered', (t) => {
  const live = { ...apply(undefined, D({ replicas: 1, ...tmpl([c('web')]) })), metadata: { name: 'd', namespace: 'default', resourceVersion: '5' } } as KObject;
  const out = apply(live, D({ replicas: 2, ...tmpl([c('web')]) }, { resourceVersion: '4' }));
  t.is(out.metadata.resourceVersion, '4');
  t.is((readRecords(out).kubectl.metadata as Obj).resourceVersion, undefined);
});

test('another manager changing a field someone applied is a 409 naming manager and field', (t) => {
  const live = apply(undefined, D({ replicas: 3, ...tmpl([c('web')]) }), 'alice');
  const err = t.throws(() => apply(live, D({ replicas: 5 }), 'bob'), { instanceOf: StatusError }) as StatusError;
  t.is(err.code, 409);
  t.is(err.reason, 'Conflict');
  t.is(err.message, 'Apply failed with 1 conflict: conflict with "alice" using apps/v1: .spec.replicas');
  t.deepEqual(err.status.details?.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "alice" using apps/v1', field: '.spec.replicas' }]);
});

test('conflicts in list elements name the element by its merge key', (t) => {
  const live = apply(undefined, D({ replicas: 3, ...tmpl([c('web'), c('side')]) }), 'alice');
  const err = t.throws(() => apply(live, D({ replicas: 4, ...tmpl([{ name: 'side', image: 'side:2' }]) }), 'bob')) as StatusError;
  t.is(err.message, 'Apply failed with 2 conflicts: conflicts with "alice" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name="side"].image');
});

test('applying the same value another manager applied is shared ownership, not a conflict', (t) => {
  const live = apply(undefined, D({ replicas: 3, ...tmpl([c('web')]) }, { labels: { tier: 'web' } }), 'alice');
  const out = apply(live, D({}, { labels: { tier: 'web', owner: 'bob' } }), 'bob');
  t.deepEqual(out.metadata.labels, { tier: 'web', owner: 'bob' });
  // alice dropping the shared label leaves it: bob still applies it.
  const out2 = apply(out, D({ replicas: 3, ...tmpl([c('web')]) }), 'alice');
  t.deepEqual(out2.metadata.labels, { tier: 'web', owner: 'bob' });
});

test('force takes a field over; the former manager dropping it then leaves it alone', (t) => {
  let live = apply(undefined, D({ replicas: 3, ...tmpl([c('web')]) }), 'alice');
  live = apply(live, D({ replicas: 5 }), 'bob', true);
  t.is(spec(live).replicas, 5);
  t.is((readRecords(live).alice.spec as Obj).replicas, undefined, 'alice no longer holds .spec.replicas');
  const out = apply(live, D({ ...tmpl([c('web')]) }), 'alice');
  t.is(spec(out).replicas, 5);
  // and alice setting it again now conflicts with bob
  const err = t.throws(() => apply(out, D({ replicas: 3, ...tmpl([c('web')]) }), 'alice')) as StatusError;
  t.regex(err.message, /conflict with "bob" using apps\/v1: \.spec\.replicas/);
});

test('a value changed by a plain update is no longer owned by the manager that applied it', (t) => {
  let live = apply(undefined, D({ replicas: 3, ...tmpl([c('web')]) }), 'alice');
  live = applyStrategicMergePatch(R.deployments, live, { spec: { replicas: 7 } }); // kubectl scale
  const out = apply(live, D({ replicas: 4 }), 'bob');
  t.is(spec(out).replicas, 4);
});

test('dropping a container another manager also applies keeps the container, minus the fields only we set', (t) => {
  let live = apply(undefined, D({ ...tmpl([c('web'), c('side', { args: ['x'] })]) }), 'alice');
  live = apply(live, D({ template: { spec: { containers: [{ name: 'side', env: [{ name: 'E', value: '1' }] }] } } }), 'bob');
  t.deepEqual(containers(live).map((x) => x.name), ['web', 'side']);
  const out = apply(live, D({ ...tmpl([c('web')]) }), 'alice');
  t.deepEqual(containers(out), [c('web'), { name: 'side', env: [{ name: 'E', value: '1' }] }]);
});

test('a manager dropping a container nobody else applies deletes it', (t) => {
  const live = apply(undefined, D({ ...tmpl([c('web'), c('side')]) }), 'alice');
  t.deepEqual(containers(apply(live, D({ ...tmpl([c('web')]) }), 'alice')), [c('web')]);
});

test('finalizers are a set: each manager removes only its own', (t) => {
  let live = apply(undefined, D({ ...tmpl([c('web')]) }, { finalizers: ['a.io/x'] }), 'alice');
  live = apply(live, D({}, { finalizers: ['b.io/y'] }), 'bob');
  t.deepEqual(live.metadata.finalizers, ['a.io/x', 'b.io/y']);
  const out = apply(live, D({ ...tmpl([c('web')]) }), 'alice');
  t.deepEqual(out.metadata.finalizers, ['b.io/y']);
});

test('records of all managers live in one annotation that never records itself', (t) => {
  let live = apply(undefined, D({ replicas: 1, ...tmpl([c('web')]) }), 'alice');
  live = apply(live, { ...D({}, { labels: { x: '1' } }) }, 'bob');
  live = apply(live, D({ replicas: 1, ...tmpl([c('web')]) }, { annotations: { [LAST_APPLIED_ANNOTATION]: '{"forged":{}}', note: 'n' } }), 'alice');
  const records = readRecords(live);
  t.deepEqual(Object.keys(records).sort(), ['alice', 'bob']);
  t.deepEqual((records.alice.metadata as Obj).annotations, { note: 'n' });
  t.is(live.metadata.annotations?.note, 'n');
});

test('an unreadable record annotation is treated as no records', (t) => {
  const live = D({ replicas: 3, ...tmpl([c('web')]) }, { annotations: { [LAST_APPLIED_ANNOTATION]: '{not json' } });
  const out = apply(live, D({ replicas: 4 }), 'bob');
  t.is(spec(out).replicas, 4);
  t.deepEqual(Object.keys(readRecords(out)), ['bob']);
});

test('a field manager is required', (t) => {
  const err = t.throws(() => apply(undefined, D({}), '')) as StatusError;
  t.is(err.code, 400);
});

test('the first server-side apply to an object created imperatively deletes nothing', (t) => {
  const live = D({ replicas: 3, minReadySeconds: 2, ...tmpl([c('web'), c('side')]) }, { labels: { a: '1' } });
  const out = apply(live, D({ replicas: 4, ...tmpl([c('web', { image: 'web:2' })]) }));
  t.is(spec(out).replicas, 4);
  t.is(spec(out).minReadySeconds, 2);
  t.deepEqual(out.metadata.labels, { a: '1' });
  t.deepEqual(containers(out), [c('web', { image: 'web:2' }), c('side')]);
});

test("other managers' list elements keep their live position; new ones go last", (t) => {
  let live = apply(undefined, D({ ...tmpl([c('web'), c('side')]) }), 'alice');
  live = apply(live, D({ template: { spec: { containers: [{ name: 'side', image: 'side:1' }] } } }), 'bob');
  const out = apply(live, D({ ...tmpl([c('web'), c('extra')]) }), 'alice');
  t.deepEqual(containers(out).map((x) => x.name), ['web', 'side', 'extra']);
  t.deepEqual(containers(out)[1], c('side'));
});

test('Service: fields the server allocated survive re-applies; a dropped port goes', (t) => {
  const svc = (ports: Obj[]): KObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' }, spec: { type: 'NodePort', selector: { app: 'x' }, ports } });
  const ssa = (live: KObject | undefined, applied: KObject) => serverSideApply(R.services, live, applied, { fieldManager: 'kubectl', force: false });
  let live = ssa(undefined, svc([{ name: 'http', port: 80, targetPort: 8080 }, { name: 'https', port: 443 }]));
  live = applyStrategicMergePatch(R.services, live, {
    spec: { clusterIP: '10.96.0.7', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 443, nodePort: 30443, protocol: 'TCP' }] },
  });
  const out = ssa(live, svc([{ name: 'http', port: 80, targetPort: 8081 }]));
  const s = out.spec as { clusterIP: string; ports: Obj[] };
  t.is(s.clusterIP, '10.96.0.7');
  t.deepEqual(s.ports, [{ name: 'http', port: 80, targetPort: 8081, nodePort: 30080, protocol: 'TCP' }]);
});

test('server-side apply of a Secret remembers its keys but no values; dropping a stringData key deletes it from data', (t) => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const S = (fields: Obj): KObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, ...fields }) as KObject;
  const created = serverSideApply(R.secrets, undefined, S({ data: { a: b64('one') }, stringData: { b: 'two' } }), { fieldManager: 'kubectl', force: false });
  const annotation = created.metadata.annotations![LAST_APPLIED_ANNOTATION];
  t.false(annotation.includes(b64('one')) || annotation.includes('two') || annotation.includes(b64('two')), annotation);
  t.deepEqual(readRecords(created).kubectl.data, { a: '', b: '' });
  // As stored: stringData folded into data.
  const live = { ...created, data: { a: b64('one'), b: b64('two') } } as KObject;
  delete (live as Obj).stringData;
  const out = serverSideApply(R.secrets, live, S({ data: { a: b64('one') } }), { fieldManager: 'kubectl', force: false }) as KObject & { data: Obj };
  t.deepEqual(out.data, { a: b64('one') });
});
