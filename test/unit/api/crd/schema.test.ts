// A custom resource version's schema at work: defaults (never creating a parent), non-nullable nulls
// dropped, unknown fields found (not under preserve-unknown-fields, not in embedded resources' meta),
// and ajv's errors as causes with Kubernetes' field paths and messages. Also the structural checks of
// a definition's schema, and the printer columns.

import test from 'ava';
import type { JSONSchemaProps, KObject } from '../../../../src/api/types.js';
import { customSchemaCauses, defaultAndFindUnknown, toAjvSchema } from '../../../../src/api/crd/schema.js';
import { structuralCauses } from '../../../../src/api/crd/structural.js';
import { cellFor, customPrinter } from '../../../../src/api/crd/columns.js';

const SCHEMA: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['cronSpec'],
      properties: {
        cronSpec: { type: 'string', pattern: '^\\S+ \\S+$' },
        replicas: { type: 'integer', minimum: 0, maximum: 10, default: 1 },
        mode: { type: 'string', enum: ['fast', 'slow'] },
        note: { type: 'string', nullable: true },
        tags: { type: 'array', maxItems: 2, items: { type: 'string' } },
        limits: { type: 'object', additionalProperties: { type: 'integer' } },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        template: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object', properties: { image: { type: 'string' } } } } },
        port: { 'x-kubernetes-int-or-string': true },
        nested: { type: 'object', properties: { deep: { type: 'object', properties: { value: { type: 'string', default: 'd' } } } } },
        ratio: { type: 'number', maximum: 1, exclusiveMaximum: true },
      },
    },
    status: { type: 'object', properties: { ready: { type: 'boolean' } } },
  },
};

const obj = (spec: Record<string, unknown>, rest: Record<string, unknown> = {}): Record<string, unknown> => ({ apiVersion: 'x.io/v1', kind: 'CronTab', metadata: { name: 'a', labels: { x: 'y' } }, spec, ...rest });

test('defaults fill absent fields of objects that exist, never a parent; nulls go unless nullable', (t) => {
  const o = obj({ cronSpec: '* *', mode: null, note: null, nested: {} });
  const unknown = defaultAndFindUnknown(o, SCHEMA);
  t.deepEqual(unknown, []);
  t.is((o.spec as Record<string, unknown>).replicas, 1);
  t.false('mode' in (o.spec as object));
  t.is((o.spec as Record<string, unknown>).note, null);
  // nested exists, deep does not: no default is created for deep.value.
  t.deepEqual((o.spec as Record<string, unknown>).nested, {});
  const with0 = obj({ cronSpec: '* *', replicas: 0 });
  defaultAndFindUnknown(with0, SCHEMA);
  t.is((with0.spec as Record<string, unknown>).replicas, 0);
});

test('unknown fields are found with their paths; preserve-unknown-fields, map values and embedded meta are not unknown', (t) => {
  const o = obj(
    { cronSpec: '* *', colour: 'red', limits: { cpu: 1 }, extra: { anything: { goes: true } }, template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { image: 'x', bogus: 1 } } },
    { status: { ready: true, phase: 'x' }, stray: 1 },
  );
  t.deepEqual(defaultAndFindUnknown(o, SCHEMA).sort(), ['spec.colour', 'spec.template.spec.bogus', 'status.phase', 'stray']);
});

test('schema violations are causes with field paths and Kubernetes\' messages', (t) => {
  const o = obj({ replicas: 11, mode: 'medium', tags: ['a', 'b', 'c'], cronSpec: 'nospace', limits: { cpu: 'x' }, ratio: 1 });
  const causes = customSchemaCauses(SCHEMA, o);
  const byField = Object.fromEntries(causes.map((c) => [c.field, c]));
  t.like(byField['spec.replicas'], { reason: 'FieldValueInvalid', message: 'Invalid value: 11: spec.replicas in body should be less than or equal to 10' });
  t.like(byField['spec.mode'], { reason: 'FieldValueNotSupported', message: 'Unsupported value: "medium": supported values: "fast", "slow"' });
  t.like(byField['spec.tags'], { reason: 'FieldValueTooMany' });
  t.like(byField['spec.cronSpec'], { reason: 'FieldValueInvalid', message: 'Invalid value: "nospace": spec.cronSpec in body should match \'^\\S+ \\S+$\'' });
  t.like(byField['spec.limits.cpu'], { reason: 'FieldValueTypeInvalid', message: 'Invalid value: "string": spec.limits.cpu in body must be of type integer: "string"' });
  t.like(byField['spec.ratio'], { message: 'Invalid value: 1: spec.ratio in body should be less than 1' });
  t.is(causes.length, 6);
  t.deepEqual(customSchemaCauses(SCHEMA, obj({})), [{ reason: 'FieldValueRequired', field: 'spec.cronSpec', message: 'Required value' }]);
});

test('int-or-string accepts both and nothing else; a valid object has no causes', (t) => {
  t.deepEqual(customSchemaCauses(SCHEMA, obj({ cronSpec: '* *', port: 80 })), []);
  t.deepEqual(customSchemaCauses(SCHEMA, obj({ cronSpec: '* *', port: 'http' })), []);
  const causes = customSchemaCauses(SCHEMA, obj({ cronSpec: '* *', port: true }));
  t.is(causes.length, 1);
  t.is(causes[0].field, 'spec.port');
});

test('toAjvSchema: OpenAPI 3.0 keywords become draft-07, apiVersion/kind/metadata are left to the server', (t) => {
  const out = toAjvSchema({ type: 'object', required: ['metadata', 'spec'], properties: { metadata: { type: 'object' }, spec: { type: 'number', minimum: 0, exclusiveMinimum: true, default: 2, description: 'd', 'x-kubernetes-list-type': 'atomic' } } });
  t.deepEqual(out, { type: 'object', required: ['spec'], properties: { spec: { type: 'number', exclusiveMinimum: 0 } } });
});

test('structural: a schema is refused with each non-structural place named', (t) => {
  t.deepEqual(structuralCauses(SCHEMA, 'spec.versions[0].schema.openAPIV3Schema').causes, []);
  const bad = {
    type: 'object',
    properties: {
      spec: { properties: { a: { type: 'string' } } },
      list: { type: 'array' },
      map: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'string' } },
      metadata: { type: 'object', properties: { labels: { type: 'object' } } },
      one: { type: 'string', default: 5 },
      u: { type: 'array', items: { type: 'string' }, uniqueItems: true },
    },
  };
  const { causes } = structuralCauses(bad, 'schema');
  const fields = causes.map((c) => `${c.field}: ${c.message}`);
  t.true(fields.includes('schema.properties[spec].type: Required value: must not be empty for specified object fields'), fields.join('\n'));
  t.true(fields.includes('schema.properties[list].items: Required value: must be specified'));
  t.true(fields.includes('schema.properties[map].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive'));
  t.true(fields.includes('schema.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified'));
  t.true(fields.some((f) => f.startsWith('schema.properties[one].default: Invalid value: 5')));
  t.true(fields.includes('schema.properties[u].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));
  t.like(structuralCauses({ type: 'string' }, 'root').causes[0], { field: 'root.type', reason: 'FieldValueNotSupported' });
});

test('structural: CEL rules are accepted with a warning that they are not enforced', (t) => {
  const r = structuralCauses({ type: 'object', 'x-kubernetes-validations': [{ rule: 'self.a > 0' }], properties: { a: { type: 'integer' } } }, 's');
  t.deepEqual(r.causes, []);
  t.deepEqual(r.warnings, ['s.x-kubernetes-validations: CEL validation rules are stored but not enforced by kubelite']);
});

test('printer columns: NAME first, typed cells from JSONPath, AGE when none are given', (t) => {
  const now = Date.parse('2024-06-01T12:00:00Z');
  const o = { apiVersion: 'x.io/v1', kind: 'CronTab', metadata: { name: 'nightly', creationTimestamp: '2024-06-01T11:58:00Z' }, spec: { cronSpec: '0 3 * * *', replicas: 2.7, tags: ['a', 'b'], ok: true } } as unknown as KObject;
  const p = customPrinter([
    { name: 'Spec', type: 'string', jsonPath: '.spec.cronSpec' },
    { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
    { name: 'Tags', type: 'string', jsonPath: '.spec.tags', priority: 1 },
    { name: 'First', type: 'string', jsonPath: '.spec.tags[0]' },
    { name: 'Ok', type: 'boolean', jsonPath: '.spec.ok' },
    { name: 'Missing', type: 'string', jsonPath: '.status.phase' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ]);
  t.deepEqual(p.columns.map((c) => [c.name, c.priority]), [['Name', 0], ['Spec', 0], ['Replicas', 0], ['Tags', 1], ['First', 0], ['Ok', 0], ['Missing', 0], ['Age', 0]]);
  t.deepEqual(p.cells(o, now), ['nightly', '0 3 * * *', 2, '[a b]', 'a', true, null, '2m']);
  const plain = customPrinter(undefined);
  t.deepEqual(plain.columns.map((c) => c.name), ['Name', 'Age']);
  t.is(cellFor('integer', 'three', now), null);
  t.is(cellFor('date', 'yesterday', now), '<invalid>');
  t.is(cellFor('string', { b: 1, a: [true] }, now), 'map[a:[true] b:1]');
});
