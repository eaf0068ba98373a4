// ajv validators for the served kinds, compiled lazily (the first write of a kind pays for it, not
// server start-up) and cached. ajv sees a "closed" copy of the schemas, where every typed object
// refuses properties it does not declare, so unknown fields come back as `additionalProperties`
// errors while the served OpenAPI stays as open as Kubernetes' own.

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { ResourceInfo } from '../resources.js';
import { REF_PREFIX, type Schema } from './builders.js';
import { allSchemas, schemaName } from './index.js';

const DOC_ID = 'https://kubelite.invalid/openapi/v3/components';

const X_KEYWORDS = [
  'x-kubernetes-group-version-kind',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-list-type',
  'x-kubernetes-map-type',
  'x-kubernetes-patch-merge-key',
  'x-kubernetes-patch-strategy',
  'x-kubernetes-preserve-unknown-fields',
];

export const INT32_MIN = -(2 ** 31);
export const INT32_MAX = 2 ** 31 - 1;

let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

/** A copy in which each object with declared properties rejects undeclared ones. */
export function closeSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'properties' && v && typeof v === 'object') {
      out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, closeSchema(s)]));
    } else if (k === 'enum' || k === 'required' || k.startsWith('x-kubernetes-')) {
      out[k] = v;
    } else {
      out[k] = closeSchema(v);
    }
  }
  const s = node as Schema;
  // Integer widths are types in Kubernetes (Go's int32/int64): `replicas: 1e12` is refused at decoding.
  // JSON numbers past 2^53 are not exact in JavaScript, so int64 stops at the safe-integer bound.
  if (s.type === 'integer' && s.format === 'int32') {
    out.minimum = INT32_MIN;
    out.maximum = INT32_MAX;
  } else if (s.type === 'integer' && s.format === 'int64') {
    out.minimum = -Number.MAX_SAFE_INTEGER;
    out.maximum = Number.MAX_SAFE_INTEGER;
  }
  if (s.properties && s.additionalProperties === undefined && s['x-kubernetes-preserve-unknown-fields'] !== true) {
    out.additionalProperties = false;
  }
  return out;
}

function instance(): Ajv {
  if (!ajv) {
    ajv = new Ajv({
      allErrors: true,
      strict: false,
      validateFormats: false,
      validateSchema: false,
      logger: false,
      // ajv's code optimiser doubles compile time (~0.2 s -> ~0.5 s for all kinds) for no measurable
      // gain at our object sizes.
      code: { optimize: false },
    });
    ajv.addVocabulary(X_KEYWORDS);
    ajv.addSchema({ $id: DOC_ID, components: { schemas: closeSchema(allSchemas()) } });
  }
  return ajv;
}

/** The compiled validator of a kind (cached). */
export function validatorFor(res: ResourceInfo): ValidateFunction {
  const name = schemaName(res);
  let v = validators.get(name);
  if (!v) {
    v = instance().compile({ $ref: `${DOC_ID}${REF_PREFIX}${name}` });
    validators.set(name, v);
  }
  return v;
}

/** Schema errors of `obj` as a kind `res` (empty when valid). */
export function schemaErrors(res: ResourceInfo, obj: unknown): ErrorObject[] {
  const v = validatorFor(res);
  return v(obj) ? [] : [...(v.errors ?? [])];
}

/** Resolves `$ref`/`allOf` wrappers to the schema node that describes a value. */
export function resolveSchema(node: Schema | undefined): Schema | undefined {
  let cur = node;
  for (let i = 0; cur && i < 16; i++) {
    if (typeof cur.$ref === 'string') cur = allSchemas()[cur.$ref.slice(REF_PREFIX.length)];
    else if (Array.isArray(cur.allOf) && cur.allOf.length === 1) cur = cur.allOf[0] as Schema;
    else return cur;
  }
  return cur;
}
