// `kubelite apply` of Secrets: no values in the last-applied annotation, and three-way merges that
// still delete the keys a manifest drops (the key names are remembered instead of the values).

import test from 'ava';
import { R } from '../../../../src/api/resources.js';
import type { KObject } from '../../../../src/api/types.js';
import { annotateForApply, LAST_APPLIED, LAST_APPLIED_SECRET_KEYS, lastApplied } from '../../../../cli/commands/apply.js';
import { applyStrategicMergePatch, threeWayMergePatch } from '../../../../src/api/patch/index.js';
import { applyDefaults } from '../../../../src/api/validation/index.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const secret = (fields: Record<string, unknown>): KObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, type: 'Opaque', ...fields }) as KObject;

/** What the server stores for a create: defaults fold stringData into data. */
function stored(obj: KObject): KObject {
  const out = JSON.parse(JSON.stringify(obj)) as KObject;
  applyDefaults(R.secrets, out);
  return out;
}

test('a Secret\'s last-applied annotation holds no values, only the shape; the key names are kept apart', (t) => {
  const a = annotateForApply(R.secrets, secret({ data: { user: b64('admin') }, stringData: { password: 'hunter2' } }));
  const annotation = a.metadata.annotations![LAST_APPLIED];
  t.false(annotation.includes('hunter2'));
  t.false(annotation.includes(b64('hunter2')));
  t.false(annotation.includes(b64('admin')));
  t.false(/"data"|"stringData"/.test(annotation), annotation);
  t.is(a.metadata.annotations![LAST_APPLIED_SECRET_KEYS], 'password,user');
  // What is sent: stringData folded into data, so the live object and the manifest compare equal.
  t.deepEqual((a as KObject & { data: Record<string, string> }).data, { user: b64('admin'), password: b64('hunter2') });
  t.is((a as KObject & { stringData?: unknown }).stringData, undefined);
});

test('three-way merge of a Secret: a key dropped from the manifest (data or stringData) is deleted; unchanged is a no-op', (t) => {
  const first = annotateForApply(R.secrets, secret({ data: { a: b64('1') }, stringData: { b: '2', c: '3' } }));
  const live = stored(first);
  // Re-applying the same manifest changes nothing.
  const again = annotateForApply(R.secrets, secret({ data: { a: b64('1') }, stringData: { b: '2', c: '3' } }));
  t.deepEqual(threeWayMergePatch(R.secrets, lastApplied(R.secrets, live), again, live), {});
  // Dropping b (a stringData key) and changing c: b is gone from data, c updated, a kept.
  const next = annotateForApply(R.secrets, secret({ data: { a: b64('1') }, stringData: { c: '33' } }));
  const patch = threeWayMergePatch(R.secrets, lastApplied(R.secrets, live), next, live);
  const out = applyStrategicMergePatch(R.secrets, live, patch) as KObject & { data: Record<string, string> };
  t.deepEqual(out.data, { a: b64('1'), c: b64('33') });
  t.false(out.metadata.annotations![LAST_APPLIED].includes(b64('33')));
  t.is(out.metadata.annotations![LAST_APPLIED_SECRET_KEYS], 'a,c');
});

test('a Secret applied before (values in the annotation) is handled and its annotation cleaned', (t) => {
  const oldConfig = secret({ data: { a: b64('1'), b: b64('2') } });
  const live = { ...oldConfig, metadata: { ...oldConfig.metadata, annotations: { [LAST_APPLIED]: JSON.stringify(oldConfig) } } } as KObject;
  const next = annotateForApply(R.secrets, secret({ data: { a: b64('1') } }));
  const out = applyStrategicMergePatch(R.secrets, live, threeWayMergePatch(R.secrets, lastApplied(R.secrets, live), next, live)) as KObject & { data: Record<string, string> };
  t.deepEqual(out.data, { a: b64('1') });
  t.false(out.metadata.annotations![LAST_APPLIED].includes(b64('1')));
});

test('other kinds keep the whole configuration in the annotation', (t) => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { k: 'v' } } as KObject;
  const a = annotateForApply(R.configmaps, cm);
  const recorded = JSON.parse(a.metadata.annotations![LAST_APPLIED]);
  t.deepEqual(recorded.data, { k: 'v' });
  t.is(recorded.metadata.name, 'c');
  t.false(LAST_APPLIED_SECRET_KEYS in (a.metadata.annotations ?? {}));
});
