// /openapi/v2: the Swagger 2.0 document kubectl and Helm fall back to for kinds the v3 documents lack,
// as JSON and as gnostic protobuf (decoded back here with the server's own protobuf reader).

import test from 'ava';
import { RESOURCES } from '../../../src/api/resources.js';
import { schemaName } from '../../../src/api/schema/index.js';
import { groupVersionDocument } from '../../../src/server/openapi.js';
import { encodeDocument, negotiateV2, openapiV2Document, toSwagger2 } from '../../../src/server/openapi-v2.js';
import { readFields, type RawField } from '../../../src/server/protobuf.js';

const schemasOf = (gv: string) => (groupVersionDocument(gv).components as { schemas: Record<string, Record<string, unknown>> }).schemas;
const str = (f: RawField | undefined) => (f ? (f.value as Buffer).toString('utf8') : undefined);

test('negotiation: protobuf when asked first (kubectl, Helm), JSON for application/json or */*, 406 otherwise', (t) => {
  t.is(negotiateV2('application/com.github.proto-openapi.spec.v2@v1.0+protobuf'), 'protobuf');
  t.is(negotiateV2('application/com.github.proto-openapi.spec.v2.v1.0+protobuf, application/json'), 'protobuf');
  t.is(negotiateV2('application/json'), 'json');
  t.is(negotiateV2(undefined), 'json');
  t.is(negotiateV2('*/*'), 'json');
  t.is(negotiateV2('text/html'), undefined);
});

test('every served kind has a definition with its group-version-kind; refs point at #/definitions', (t) => {
  const doc = openapiV2Document(schemasOf) as { swagger: string; definitions: Record<string, Record<string, unknown>> };
  t.is(doc.swagger, '2.0');
  for (const r of RESOURCES) {
    const def = doc.definitions[schemaName(r)];
    t.truthy(def, r.kind);
    t.deepEqual(def['x-kubernetes-group-version-kind'], [{ group: r.group, version: r.version, kind: r.kind }]);
  }
  const text = JSON.stringify(doc);
  t.false(text.includes('#/components/schemas/'));
  // No schema uses anyOf (a property may be called that: JSONSchemaProps has one).
  const usesAnyOf = (node: unknown): boolean => {
    if (Array.isArray(node)) return node.some(usesAnyOf);
    if (!node || typeof node !== 'object') return false;
    return Object.entries(node).some(([k, v]) => k === 'anyOf' || (k === 'properties' && v && typeof v === 'object' ? Object.values(v).some(usesAnyOf) : usesAnyOf(v)));
  };
  t.false(Object.values(doc.definitions).some(usesAnyOf));
  t.deepEqual(toSwagger2({ allOf: [{ $ref: '#/components/schemas/X' }], description: 'd' }), { description: 'd', $ref: '#/definitions/X' });
  t.deepEqual(toSwagger2({ 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] }), { 'x-kubernetes-int-or-string': true, type: 'string', format: 'int-or-string' });
});

test('the protobuf form decodes to the same document: swagger, info, every definition, its GVK extension', (t) => {
  const doc = openapiV2Document(schemasOf) as { definitions: Record<string, Record<string, unknown>> };
  const fields = readFields(encodeDocument(doc));
  t.is(str(fields.find((f) => f.no === 1)), '2.0');
  const info = readFields(fields.find((f) => f.no === 2)!.value as Buffer);
  t.is(str(info.find((f) => f.no === 1)), 'Kubernetes');
  const defs = readFields(fields.find((f) => f.no === 9)!.value as Buffer).map((f) => readFields(f.value as Buffer));
  t.deepEqual(defs.map((d) => str(d.find((f) => f.no === 1))), Object.keys(doc.definitions));
  const deployment = defs.find((d) => str(d.find((f) => f.no === 1)) === 'io.k8s.api.apps.v1.Deployment')!;
  const schema = readFields(deployment.find((f) => f.no === 2)!.value as Buffer);
  t.is(str(readFields(schema.find((f) => f.no === 22)!.value as Buffer)[0]), 'object');
  const ext = schema.filter((f) => f.no === 31).map((f) => readFields(f.value as Buffer));
  const gvk = ext.find((e) => str(e.find((f) => f.no === 1)) === 'x-kubernetes-group-version-kind')!;
  const yaml = str(readFields(gvk.find((f) => f.no === 2)!.value as Buffer).find((f) => f.no === 2));
  t.deepEqual(JSON.parse(yaml!), [{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
});
