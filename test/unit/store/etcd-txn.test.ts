// Store writes as etcd transactions, and what a failed compare or a lost answer means: pure.

import test from 'ava';
import type { ITxnResponse } from 'etcd3';
import { R } from '../../../src/api/resources.js';
import type { StatusError } from '../../../src/api/errors.js';
import { EtcdKeys } from '../../../src/store/etcd-config.js';
import { classifyEtcdError, etcdStatusError } from '../../../src/store/etcd-errors.js';
import { decodeObject, decodeSuccess, explainFailure, planTxn, storedJson, wasApplied } from '../../../src/store/etcd-txn.js';
import { configMap } from '../../helpers/store-fixtures.js';

const keys = new EtcdKeys('/k');
const kv = (obj: object, mod: number) => ({ key: Buffer.from('x'), value: Buffer.from(JSON.stringify(obj)), mod_revision: String(mod), create_revision: '1', version: '1', lease: '0' });
const failed = (...kvs: (ReturnType<typeof kv> | undefined)[]): ITxnResponse => ({ header: { revision: '50' } as ITxnResponse['header'], succeeded: false, responses: kvs.map((k) => ({ response_range: { kvs: k ? [k] : [], count: String(k ? 1 : 0), more: false } }) as unknown as ITxnResponse['responses'][number]) });

test('create compares create_revision 0; update and delete compare the expected mod_revision or existence; every txn touches P/meta/rev', (t) => {
  const plan = planTxn(keys, [
    { op: 'create', resource: R.configmaps, object: configMap('default', 'a') },
    { op: 'update', resource: R.configmaps, object: { ...configMap('default', 'b'), metadata: { ...configMap('default', 'b').metadata, resourceVersion: '7' } }, options: { expectedResourceVersion: '7' } },
    { op: 'delete', resource: R.configmaps, namespace: 'default', name: 'c' },
  ]);
  const c = plan.request.compare!;
  t.deepEqual(c.map((x) => [x.key!.toString(), x.target, x.result, x.create_revision ?? x.mod_revision]), [
    ['/k/o//configmaps/default/a', 'Create', 'Equal', 0],
    ['/k/o//configmaps/default/b', 'Mod', 'Equal', 7],
    ['/k/o//configmaps/default/c', 'Create', 'Greater', 0],
  ]);
  t.deepEqual(plan.request.success!.map((o) => Object.keys(o)[0]), ['request_put', 'request_put', 'request_delete_range', 'request_put']);
  t.is(plan.request.success![3]!.request_put!.key!.toString(), '/k/meta/rev');
  t.is(plan.request.failure!.length, 3);
  // Values never carry a resourceVersion: the key's mod_revision is the truth.
  t.false(plan.writes[1]!.value!.includes('resourceVersion'));
});

test('a failed compare is explained by the first op that could not apply', (t) => {
  const plan = planTxn(keys, [
    { op: 'create', resource: R.configmaps, object: configMap('default', 'a') },
    { op: 'update', resource: R.configmaps, object: configMap('default', 'b'), options: { expectedResourceVersion: '7' } },
  ]);
  t.is((explainFailure(plan, failed(kv({}, 3), kv({}, 7))) as StatusError).reason, 'AlreadyExists');
  t.is((explainFailure(plan, failed(undefined, kv({}, 8))) as StatusError).reason, 'Conflict');
  t.is((explainFailure(plan, failed(undefined, undefined)) as StatusError).reason, 'NotFound');
  const bad = planTxn(keys, [{ op: 'update', resource: R.configmaps, object: configMap('default', 'b'), options: { expectedResourceVersion: 'x' } }]);
  t.is(bad.request.compare![0]!.mod_revision, -1);
  t.is((explainFailure(bad, failed(kv({}, 8))) as StatusError).reason, 'Conflict');
});

test('uid preconditions are checked on what was read and compare its mod_revision; a changed object means read again', (t) => {
  const op = { op: 'delete' as const, resource: R.configmaps, namespace: 'default', name: 'a', options: { expectedUid: 'u1' } };
  const key = keys.object('/configmaps', 'default', 'a');
  t.throws(() => planTxn(keys, [op], new Map([[key, kv({ metadata: { uid: 'u2' } }, 4)]])), { message: /UID in precondition: u1, UID in object meta: u2/ });
  t.throws(() => planTxn(keys, [op], new Map([[key, undefined]])), { message: 'configmaps "a" not found' });
  const plan = planTxn(keys, [op], new Map([[key, kv({ metadata: { uid: 'u1' } }, 4)]]));
  t.is(plan.request.compare![0]!.mod_revision, 4);
  t.is(explainFailure(plan, failed(kv({ metadata: { uid: 'u1' } }, 5))), 'retry');
});

test('one object twice in one batch is refused', (t) => {
  t.throws(() => planTxn(keys, [
    { op: 'create', resource: R.configmaps, object: configMap('default', 'a') },
    { op: 'delete', resource: R.configmaps, namespace: 'default', name: 'a' },
  ]), { message: /may not write o\/\/configmaps\/default\/a twice/ });
});

test('success decodes objects at the txn revision; deletes return the last state', (t) => {
  const plan = planTxn(keys, [
    { op: 'create', resource: R.configmaps, object: configMap('default', 'a', { k: 'v' }) },
    { op: 'delete', resource: R.configmaps, namespace: 'default', name: 'b' },
  ]);
  const res = { header: { revision: '9' }, succeeded: true, responses: [{ response_put: {} }, { response_delete_range: { prev_kvs: [kv(configMap('default', 'b', { old: 'yes' }), 3)] } }, { response_put: {} }] } as unknown as ITxnResponse;
  const [a, b] = decodeSuccess(plan, res);
  t.is(a!.metadata.resourceVersion, '9');
  t.deepEqual(a!.data, { k: 'v' });
  t.is(b!.metadata.resourceVersion, '9');
  t.deepEqual(b!.data, { old: 'yes' });
  t.is(decodeObject(storedJson({ ...configMap('x', 'y'), metadata: { name: 'y', resourceVersion: '1' } }), 12).metadata.resourceVersion, '12');
});

test('an attempt with a lost answer counts as applied only when every key holds exactly what it wrote', (t) => {
  const plan = planTxn(keys, [{ op: 'create', resource: R.configmaps, object: configMap('default', 'a', { k: 'v' }) }]);
  const ours = { key: Buffer.from(''), value: Buffer.from(plan.writes[0]!.value!), mod_revision: '5', create_revision: '5', version: '1', lease: '0' };
  t.true(wasApplied(plan, [ours]));
  t.false(wasApplied(plan, [kv(configMap('default', 'a', { k: 'someone else' }), 5)]));
  t.false(wasApplied(plan, [undefined]));
  const del = planTxn(keys, [{ op: 'delete', resource: R.configmaps, namespace: 'default', name: 'a' }]);
  t.false(wasApplied(del, [undefined]), 'a delete cannot be told from someone else\'s');
});

test('etcd errors: never sent -> 503, outcome unknown -> 504, too large -> 413', (t) => {
  const err = (name: string, message: string) => Object.assign(new Error(message), { name });
  t.is(classifyEtcdError(err('GRPCUnavailableError', '14 UNAVAILABLE: No connection established')), 'unsent');
  t.is(classifyEtcdError(err('BrokenCircuitError', 'Execution prevented because the circuit breaker is open')), 'unsent');
  t.is(classifyEtcdError(err('GRPCUnavailableError', '14 UNAVAILABLE: Connection dropped')), 'ambiguous');
  t.is(classifyEtcdError(err('GRPCDeadlineExceededError', '4 DEADLINE_EXCEEDED: Deadline exceeded')), 'ambiguous');
  t.is(classifyEtcdError(err('EtcdError', 'etcdserver: request is too large')), 'too-large');
  t.is(classifyEtcdError(err('EtcdPermissionDeniedError', 'etcdserver: permission denied')), 'final');
  const s503 = etcdStatusError(err('GRPCUnavailableError', 'No connection established'), 'the create of pods', ['http://h:1']);
  t.is(s503.code, 503);
  t.regex(s503.message, /etcd is unavailable \(http:\/\/h:1\): the create of pods was not applied/);
  t.is(etcdStatusError(err('X', 'Deadline exceeded'), 'w', ['h']).code, 504);
  t.is(etcdStatusError(err('X', 'etcdserver: request is too large'), 'w', ['h']).code, 413);
});
