// CustomResourceDefinition validation and defaults, through validateObject as the registry calls it:
// the name, group, versions and storage version, non-structural schemas, printer columns' JSONPath,
// conversion, and what an update may not change.

import test from 'ava';
import type { KObject } from '../../../../src/api/types.js';
import { R } from '../../../../src/api/resources.js';
import { applyDefaults, validateObject } from '../../../../src/api/validation/index.js';
import { jsonPathError } from '../../../../src/api/validation/crd.js';

function check(obj: KObject, old?: KObject): string[] {
  applyDefaults(R.customresourcedefinitions, obj as never);
  if (old) applyDefaults(R.customresourcedefinitions, old as never);
  return validateObject(R.customresourcedefinitions, obj, old).causes.map((c) => `${c.field}: ${c.message}`);
}

const schema = { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } };

function crd(o: { name?: string; group?: string; versions?: unknown[]; scope?: string; plural?: string; conversion?: unknown } = {}): KObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: o.name ?? 'widgets.example.com' },
    spec: {
      group: o.group ?? 'example.com',
      scope: o.scope ?? 'Namespaced',
      names: { plural: o.plural ?? 'widgets', kind: 'Widget' },
      versions: o.versions ?? [{ name: 'v1', served: true, storage: true, schema, additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }] }],
      ...(o.conversion ? { conversion: o.conversion } : {}),
    },
  } as KObject;
}

test('a valid definition passes and gets listKind, singular and conversion None', (t) => {
  const c = crd();
  t.deepEqual(check(c), []);
  t.like(c.spec as object, { names: { plural: 'widgets', kind: 'Widget', listKind: 'WidgetList', singular: 'widget' }, conversion: { strategy: 'None' } });
});

test('the name must be plural.group; a group needs a dot', (t) => {
  t.true(check(crd({ name: 'gadgets.example.com' })).includes('metadata.name: Invalid value: "gadgets.example.com": must be spec.names.plural+"."+spec.group'));
  const causes = check(crd({ name: 'widgets.local', group: 'local' }));
  t.true(causes.includes('spec.group: Invalid value: "local": should be a domain with at least one dot'), causes.join('\n'));
});

test('exactly one storage version, unique version names', (t) => {
  const two = check(crd({ versions: [{ name: 'v1', served: true, storage: true, schema }, { name: 'v2', served: true, storage: true, schema }] }));
  t.true(two.some((c) => c.startsWith('spec.versions: Invalid value') && c.endsWith('must have exactly one version marked as storage version')), two.join('\n'));
  const dup = check(crd({ versions: [{ name: 'v1', served: true, storage: true, schema }, { name: 'v1', served: true, storage: false, schema }] }));
  t.true(dup.includes('spec.versions[1].name: Duplicate value: "v1"'), dup.join('\n'));
});

test('a non-structural schema and a bad printer column are refused with their paths', (t) => {
  const causes = check(crd({ versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { properties: {} } } } }, additionalPrinterColumns: [{ name: 'X', type: 'integer', jsonPath: '.spec[' }] }] }));
  t.true(causes.includes('spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields'), causes.join('\n'));
  t.true(causes.some((c) => c.startsWith('spec.versions[0].additionalPrinterColumns[0].jsonPath: Invalid value: ".spec["')), causes.join('\n'));
});

test('only conversion None is supported', (t) => {
  const causes = check(crd({ conversion: { strategy: 'Webhook' } }));
  t.true(causes.includes('spec.conversion.strategy: Unsupported value: "Webhook": supported values: "None"'), causes.join('\n'));
});

test('an update may not change the group or the plural, nor the scope once Established', (t) => {
  const old = crd();
  (old as { status?: unknown }).status = { conditions: [{ type: 'Established', status: 'True' }] };
  const next = crd({ scope: 'Cluster' });
  const causes = check(next, old);
  t.true(causes.includes('spec.scope: Invalid value: "Cluster": field is immutable'), causes.join('\n'));
  const plural = check(crd({ name: 'gizmos.example.com', plural: 'gizmos' }), crd());
  t.true(plural.includes('spec.names.plural: Invalid value: "gizmos": field is immutable'), plural.join('\n'));
});

test('jsonPathError: simple paths pass, broken ones say why', (t) => {
  t.is(jsonPathError('.spec.replicas'), undefined);
  t.is(jsonPathError('.status.conditions[0].type'), undefined);
  t.is(jsonPathError('.spec['), 'must be a valid JSON path: unterminated array');
  t.is(jsonPathError('.spec]'), 'must be a valid JSON path: unexpected closing bracket');
  t.is(jsonPathError('spec.size'), 'must be a JSON path starting with "."');
});
