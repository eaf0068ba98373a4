// A custom resource version's structural schema at work, as the apiextensions server applies it:
//  1. nulls in fields that are not nullable are dropped, then `default`s fill absent fields
//     (objects that exist only: a default never creates its parent);
//  2. fields the schema does not declare are reported as unknown (the registry prunes them, warns,
//     or refuses them per fieldValidation), except under x-kubernetes-preserve-unknown-fields and in
//     the apiVersion/kind/metadata of the object and of embedded resources;
//  3. ajv checks types, enums, bounds, patterns and required fields; its errors become causes with
//     Kubernetes' field paths and messages (`spec.replicas in body must be of type integer`).
// Pure, apart from ajv's compiled validator being cached per schema object.

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { JSONSchemaProps, StatusCause } from '../types.js';
import { formatValue, invalid, notSupported, required, tooMany, typeInvalid } from '../validation/field.js';

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function fieldPath(parent: string, key: string, asMapKey: boolean): string {
  if (asMapKey) return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}

const EMBEDDED_KEYS = new Set(['apiVersion', 'kind', 'metadata']);

// ---------------------------------------------------------------- defaults and pruning

function walk(value: unknown, schema: JSONSchemaProps | undefined, path: string, unknown: string[], embedded: boolean): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    const items = isObj(schema.items) ? (schema.items as JSONSchemaProps) : undefined;
    for (let i = 0; i < value.length; i++) {
      if (value[i] === null && items && !items.nullable) continue;
      walk(value[i], items, `${path}[${i}]`, unknown, !!items?.['x-kubernetes-embedded-resource']);
    }
    return;
  }
  if (!isObj(value)) return;
  const props = schema.properties;
  const additional = isObj(schema.additionalProperties) ? (schema.additionalProperties as JSONSchemaProps) : undefined;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true || schema.additionalProperties === true;
  // Nulls where the schema does not allow them are dropped before defaulting (as Kubernetes does).
  for (const [k, v] of Object.entries(value)) {
    const s = props?.[k] ?? additional;
    if (v === null && s && !s.nullable) delete value[k];
  }
  if (props) {
    for (const [k, s] of Object.entries(props)) {
      if (value[k] === undefined && s.default !== undefined) value[k] = structuredClone(s.default);
    }
  }
  for (const [k, v] of Object.entries(value)) {
    if (embedded && EMBEDDED_KEYS.has(k)) continue;
    const s = props?.[k];
    if (s) {
      walk(v, s, fieldPath(path, k, false), unknown, !!s['x-kubernetes-embedded-resource']);
    } else if (additional) {
      walk(v, additional, fieldPath(path, k, true), unknown, !!additional['x-kubernetes-embedded-resource']);
    } else if (!preserve) {
      unknown.push(fieldPath(path, k, false));
    }
  }
}

/**
 * Applies defaults to `obj` in place (and drops non-nullable nulls); returns the paths of fields the
 * schema does not declare (`spec.foo`, `spec.items[0].bar`), for the caller to prune.
 */
export function defaultAndFindUnknown(obj: Record<string, unknown>, schema: JSONSchemaProps): string[] {
  const unknown: string[] = [];
  // The object itself is an embedded resource: apiVersion, kind and metadata are the server's.
  walk(obj, schema, '', unknown, true);
  return unknown;
}

// ---------------------------------------------------------------- ajv

/** OpenAPI v3.0 (as CRDs write it) to what ajv's draft-07 understands. */
export function toAjvSchema(node: unknown, root = true): unknown {
  if (Array.isArray(node)) return node.map((n) => toAjvSchema(n, false));
  if (!isObj(node)) return node;
  const n = node as JSONSchemaProps;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(n)) {
    if (k === 'default' || k === 'example' || k === 'description' || k.startsWith('x-kubernetes-') || k === 'format') continue;
    if (k === 'properties' && isObj(v)) {
      const props: Record<string, unknown> = {};
      for (const [pk, pv] of Object.entries(v)) {
        if (root && (pk === 'metadata' || pk === 'apiVersion' || pk === 'kind')) continue;
        props[pk] = toAjvSchema(pv, false);
      }
      out.properties = props;
    } else if (k === 'required' && Array.isArray(v) && root) {
      out.required = v.filter((x) => x !== 'metadata' && x !== 'apiVersion' && x !== 'kind');
    } else if (k === 'enum' || k === 'required' || k === 'pattern') {
      out[k] = v;
    } else if (k === 'additionalProperties' && typeof v === 'boolean') {
      out[k] = v;
    } else {
      out[k] = toAjvSchema(v, false);
    }
  }
  // OpenAPI 3.0's boolean exclusive bounds are draft-07's numeric ones.
  if (n.exclusiveMaximum === true && typeof n.maximum === 'number') {
    out.exclusiveMaximum = n.maximum;
    delete out.maximum;
  } else delete out.exclusiveMaximum;
  if (n.exclusiveMinimum === true && typeof n.minimum === 'number') {
    out.exclusiveMinimum = n.minimum;
    delete out.minimum;
  } else delete out.exclusiveMinimum;
  if (n['x-kubernetes-int-or-string'] === true && !n.anyOf && !n.type) out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  // ajv's `nullable` wants a type beside it.
  if (n.nullable === true && !n.type) delete out.nullable;
  return out;
}

let ajv: Ajv | undefined;
const compiled = new WeakMap<object, ValidateFunction>();

function instance(): Ajv {
  ajv ??= new Ajv({ allErrors: true, strict: false, validateFormats: false, validateSchema: false, logger: false, code: { optimize: false } });
  return ajv;
}

/** The compiled validator of one version's schema (cached for as long as the schema object lives). */
export function compileCustomSchema(schema: JSONSchemaProps): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = instance().compile(toAjvSchema(schema) as object);
    compiled.set(schema, v);
  }
  return v;
}

function pointerToPath(pointer: string): string {
  if (!pointer) return '';
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out = /^\d+$/.test(seg) && out ? `${out}[${seg}]` : out ? `${out}.${seg}` : seg;
  }
  return out;
}

function valueAt(obj: unknown, pointer: string): unknown {
  let cur = obj;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
  }
  return cur;
}

function causeOf(e: ErrorObject, obj: unknown): StatusCause | undefined {
  const path = pointerToPath(e.instancePath);
  const value = valueAt(obj, e.instancePath);
  const p = e.params as Record<string, unknown>;
  const inBody = (what: string) => invalid(path, value, `${path || '<root>'} in body ${what}`);
  switch (e.keyword) {
    case 'required':
      return required(path ? `${path}.${String(p.missingProperty)}` : String(p.missingProperty));
    case 'type': {
      // Kubernetes names the type it found, not the value.
      const found = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
      return typeInvalid(path, found, `${path || '<root>'} in body must be of type ${String(p.type)}: ${formatValue(found)}`);
    }
    case 'enum':
      return notSupported(path, value, ((p.allowedValues as unknown[]) ?? []).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))));
    case 'maximum':
      return inBody(`should be less than or equal to ${String(p.limit)}`);
    case 'exclusiveMaximum':
      return inBody(`should be less than ${String(p.limit)}`);
    case 'minimum':
      return inBody(`should be greater than or equal to ${String(p.limit)}`);
    case 'exclusiveMinimum':
      return inBody(`should be greater than ${String(p.limit)}`);
    case 'maxLength':
      return tooLongChars(path, Number(p.limit));
    case 'minLength':
      return inBody(`should be at least ${String(p.limit)} chars long`);
    case 'pattern':
      return inBody(`should match '${String(p.pattern)}'`);
    case 'maxItems':
      return tooMany(path, Array.isArray(value) ? value.length : 0, Number(p.limit));
    case 'minItems':
      return inBody(`should have at least ${String(p.limit)} items`);
    case 'multipleOf':
      return inBody(`should be a multiple of ${String(p.multipleOf)}`);
    case 'maxProperties':
      return inBody(`should have at most ${String(p.limit)} properties`);
    case 'minProperties':
      return inBody(`should have at least ${String(p.limit)} properties`);
    case 'anyOf':
    case 'oneOf':
    case 'allOf':
    case 'not':
      return inBody(`must validate ${e.keyword === 'not' ? 'not' : `${e.keyword === 'allOf' ? 'all' : e.keyword === 'anyOf' ? 'at least one' : 'exactly one'} of the schemas`}`);
    case 'if':
    case 'additionalProperties':
      return undefined;
    default:
      return inBody(e.message ?? 'is invalid');
  }
}

function tooLongChars(path: string, max: number): StatusCause {
  return { reason: 'FieldValueTooLong', field: path, message: `Too long: may not be more than ${max} bytes` };
}

/** Schema violations of a custom object (metadata, apiVersion and kind are checked elsewhere). */
export function customSchemaCauses(schema: JSONSchemaProps, obj: unknown): StatusCause[] {
  const validate = compileCustomSchema(schema);
  if (validate(obj)) return [];
  const out: StatusCause[] = [];
  // Errors under a failed anyOf/oneOf are noise next to the junctor's own error.
  const junctors = (validate.errors ?? []).filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath);
  for (const e of validate.errors ?? []) {
    if (e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && junctors.includes(e.instancePath)) continue;
    const c = causeOf(e, obj);
    if (c) out.push(c);
  }
  return out;
}
