// GET /openapi/v2: the Swagger 2.0 document, for the clients that still read it. kubectl (and Helm,
// which validates with kubectl's code) fall back to it for a kind the OpenAPI v3 documents do not
// have, and ask for it as protobuf (gnostic's openapi_v2.Document); with a 404 every manifest naming a
// kind we do not serve failed with "failed to download openapi" / "error validating data: the server
// could not find the requested resource" instead of the REST mapper's `no matches for kind "X" in
// version "Y"`. Built once from the same component schemas as the v3 documents (so `kubectl explain`
// and validation agree with them), served as JSON for `application/json` and as protobuf for
// `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`.

import crypto from 'node:crypto';
import type express from 'express';
import type { ResourceCatalog } from '../api/catalog.js';
import { builtinCatalog } from './paths.js';
import { REF_PREFIX, type Schema } from '../api/schema/index.js';
import { KUBE_VERSION } from './discovery.js';
import { errors } from '../api/errors.js';

export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
const V2_REF = '#/definitions/';

// ---------------------------------------------------------------- v3 components -> Swagger 2.0

/** One v3 component schema as Swagger 2.0 has it: refs to #/definitions, no anyOf (int-or-string and quantities are strings with a format). */
export function toSwagger2(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toSwagger2);
  if (!node || typeof node !== 'object') return node;
  const s = node as Schema;
  const out: Schema = {};
  // A described reference is wrapped in allOf in v3; Kubernetes' v2 documents put the $ref beside its description.
  const allOf = s.allOf as Schema[] | undefined;
  const ref = (s.$ref as string | undefined) ?? (allOf?.length === 1 && typeof allOf[0].$ref === 'string' ? (allOf[0].$ref as string) : undefined);
  for (const [k, v] of Object.entries(s)) {
    if (k === '$ref' || k === 'nullable' || k === 'oneOf') continue;
    if (k === 'allOf' && ref) continue;
    if (k === 'anyOf') {
      out.type = 'string';
      if (s['x-kubernetes-int-or-string']) out.format = 'int-or-string';
      continue;
    }
    if (k === 'enum' || k === 'required' || k.startsWith('x-kubernetes-')) out[k] = v;
    else if (k === 'properties' && v && typeof v === 'object') out[k] = Object.fromEntries(Object.entries(v).map(([p, x]) => [p, toSwagger2(x)]));
    else out[k] = toSwagger2(v);
  }
  if (ref) out.$ref = ref.startsWith(REF_PREFIX) ? V2_REF + ref.slice(REF_PREFIX.length) : ref;
  return out;
}

/** The rendered document per catalog, until the catalog changes (a CRD comes or goes). */
const cache = new WeakMap<ResourceCatalog, { generation: number; json: string; proto: Buffer; etag: string }>();

/** The whole document (definitions of every served group-version; paths are left to v3). */
export function openapiV2Document(schemasOf: (apiVersion: string) => Record<string, Schema>, catalog: ResourceCatalog = builtinCatalog()): Record<string, unknown> {
  const definitions: Record<string, unknown> = {};
  for (const gv of catalog.groupVersions()) {
    for (const [name, schema] of Object.entries(schemasOf(gv.apiVersion))) definitions[name] ??= toSwagger2(schema);
  }
  const sorted = Object.fromEntries(Object.keys(definitions).sort().map((k) => [k, definitions[k]]));
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: KUBE_VERSION.gitVersion },
    paths: {},
    definitions: sorted,
    securityDefinitions: { BearerToken: { type: 'apiKey', name: 'authorization', in: 'header', description: 'Bearer Token authentication' } },
    security: [{ BearerToken: [] }],
  };
}

// ---------------------------------------------------------------- protobuf (gnostic openapi_v2)

function varint(n: number | bigint): Buffer {
  let v = BigInt(n);
  if (v < 0n) v = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
}

const tag = (no: number, wire: number) => varint((no << 3) | wire);
const bytesField = (no: number, data: Buffer | string) => {
  const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return Buffer.concat([tag(no, 2), varint(b.length), b]);
};
const boolField = (no: number, v: boolean) => Buffer.concat([tag(no, 0), varint(v ? 1 : 0)]);
const intField = (no: number, v: number) => Buffer.concat([tag(no, 0), varint(Math.trunc(v))]);
const doubleField = (no: number, v: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return Buffer.concat([tag(no, 1), b]);
};

/** gnostic's Any: a value written as YAML text (JSON is YAML). */
function anyOf(value: unknown): Buffer {
  return bytesField(2, JSON.stringify(value));
}

function namedAny(name: string, value: unknown): Buffer {
  return Buffer.concat([bytesField(1, name), bytesField(2, anyOf(value))]);
}

function namedSchema(name: string, schema: Schema): Buffer {
  return Buffer.concat([bytesField(1, name), bytesField(2, encodeSchema(schema))]);
}

/** openapi_v2.Schema (field numbers from gnostic's OpenAPIv2.proto). */
export function encodeSchema(s: Schema): Buffer {
  const parts: Buffer[] = [];
  const str = (no: number, v: unknown) => typeof v === 'string' && parts.push(bytesField(no, v));
  str(1, s.$ref);
  str(2, s.format);
  str(3, s.title);
  str(4, s.description);
  if (s.default !== undefined) parts.push(bytesField(5, anyOf(s.default)));
  if (typeof s.maximum === 'number') parts.push(doubleField(7, s.maximum));
  if (typeof s.minimum === 'number') parts.push(doubleField(9, s.minimum));
  if (typeof s.maxLength === 'number') parts.push(intField(11, s.maxLength));
  str(13, s.pattern);
  if (s.uniqueItems === true) parts.push(boolField(16, true));
  for (const r of Array.isArray(s.required) ? (s.required as string[]) : []) parts.push(bytesField(19, r));
  for (const e of Array.isArray(s.enum) ? s.enum : []) parts.push(bytesField(20, anyOf(e)));
  if (s.additionalProperties !== undefined) {
    const ap = s.additionalProperties;
    parts.push(bytesField(21, typeof ap === 'boolean' ? boolField(2, ap) : bytesField(1, encodeSchema(ap as Schema))));
  }
  if (typeof s.type === 'string') parts.push(bytesField(22, bytesField(1, s.type)));
  if (s.items && typeof s.items === 'object') parts.push(bytesField(23, bytesField(1, encodeSchema(s.items as Schema))));
  for (const a of Array.isArray(s.allOf) ? (s.allOf as Schema[]) : []) parts.push(bytesField(24, encodeSchema(a)));
  if (s.properties && typeof s.properties === 'object') {
    const props = Object.entries(s.properties as Record<string, Schema>).map(([k, v]) => bytesField(1, namedSchema(k, v)));
    parts.push(bytesField(25, Buffer.concat(props)));
  }
  if (s.readOnly === true) parts.push(boolField(27, true));
  for (const [k, v] of Object.entries(s)) if (k.startsWith('x-')) parts.push(bytesField(31, namedAny(k, v)));
  return Buffer.concat(parts);
}

/** openapi_v2.Document of a Swagger 2.0 JSON document (the parts kubectl reads: info and definitions). */
export function encodeDocument(doc: Record<string, unknown>): Buffer {
  const info = doc.info as { title: string; version: string };
  const defs = Object.entries(doc.definitions as Record<string, Schema>).map(([k, v]) => bytesField(1, namedSchema(k, v)));
  return Buffer.concat([
    bytesField(1, String(doc.swagger)),
    bytesField(2, Buffer.concat([bytesField(1, info.title), bytesField(2, info.version)])),
    bytesField(8, Buffer.alloc(0)),
    bytesField(9, Buffer.concat(defs)),
  ]);
}

// ---------------------------------------------------------------- route

function rendered(schemasOf: (apiVersion: string) => Record<string, Schema>, catalog: ResourceCatalog) {
  let cached = cache.get(catalog);
  if (!cached || cached.generation !== catalog.generation) {
    const doc = openapiV2Document(schemasOf, catalog);
    const json = JSON.stringify(doc);
    cached = { generation: catalog.generation, json, proto: encodeDocument(doc), etag: `"${crypto.createHash('sha512').update(json).digest('hex').slice(0, 32).toUpperCase()}"` };
    cache.set(catalog, cached);
  }
  return cached;
}

/** Which representation an Accept header asks for, in its order; undefined when it accepts neither. */
export function negotiateV2(accept: string | undefined): 'json' | 'protobuf' | undefined {
  if (!accept) return 'json';
  for (const part of accept.split(',')) {
    const type = part.split(';')[0].trim().toLowerCase();
    if (type === OPENAPI_V2_PROTOBUF || type === 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf') return 'protobuf';
    if (type === 'application/json' || type === '*/*' || type === 'application/*') return 'json';
  }
  return undefined;
}

export function mountOpenAPIV2(app: express.Express, schemasOf: (apiVersion: string) => Record<string, Schema>, catalog: ResourceCatalog = builtinCatalog()): void {
  app.get(['/openapi/v2', '/openapi/v2/', '/swagger.json'], (req, res) => {
    const want = negotiateV2(req.headers.accept);
    if (!want) {
      const st = errors.notAcceptable(`only application/json and ${OPENAPI_V2_PROTOBUF} are served at /openapi/v2`).status;
      return void res.status(406).type('application/json').send(JSON.stringify(st));
    }
    const doc = rendered(schemasOf, catalog);
    res.setHeader('Etag', doc.etag);
    res.setHeader('Vary', 'Accept');
    res.setHeader('Cache-Control', 'no-cache, private');
    // Answered with the media type without '@': Go's mime parser (client-go) refuses the one clients ask for.
    if (want === 'protobuf') res.setHeader('Content-Type', 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf').send(doc.proto);
    else res.type('application/json').send(doc.json);
  });
}
