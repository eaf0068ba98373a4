// Runs a kind's structural schema and turns ajv's errors into Kubernetes causes: JSON pointers become
// field paths (`/spec/ports/0/port` → `spec.ports[0].port`, map keys as `labels[app]`), and fields the
// schema does not declare are collected apart as unknown fields.

import type { ErrorObject } from 'ajv';
import type { ResourceInfo } from '../resources.js';
import { INT32_MAX, INT32_MIN, resolveSchema, schemaErrors } from '../schema/compile.js';
import { schemaFor, type Schema } from '../schema/index.js';
import { type Causes, child, invalid, notSupported, required, typeInvalid } from './field.js';

export interface SchemaResult {
  causes: Causes;
  unknownFields: string[];
  /** Some value has the wrong JSON type: the semantic rules cannot safely run. */
  typeErrors: boolean;
  /** The causes of those type errors (wrong JSON type, an integer out of its Go width). */
  typeCauses: Causes;
}

function unescapePointer(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

interface Located {
  path: string;
  value: unknown;
  schema: Schema | undefined;
}

/** Walks the data and the (open) schema along a JSON pointer to build the Kubernetes field path. */
function locate(root: Schema, data: unknown, pointer: string): Located {
  let schema: Schema | undefined = root;
  let value: unknown = data;
  let path = '';
  const segs = pointer === '' ? [] : pointer.split('/').slice(1).map(unescapePointer);
  for (const seg of segs) {
    const s = resolveSchema(schema);
    const props = s?.properties as Record<string, Schema> | undefined;
    if (Array.isArray(value)) {
      path = `${path}[${seg}]`;
      schema = s?.items as Schema | undefined;
      value = value[Number(seg)];
      continue;
    }
    if (props && Object.prototype.hasOwnProperty.call(props, seg)) {
      path = child(path, seg);
      schema = props[seg];
    } else if (s && typeof s.additionalProperties === 'object') {
      path = `${path}[${seg}]`;
      schema = s.additionalProperties as Schema;
    } else {
      path = child(path, seg);
      schema = undefined;
    }
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[seg] : undefined;
  }
  return { path, value, schema: resolveSchema(schema) };
}

function typeNames(s: Schema | undefined): string {
  if (!s) return 'the declared type';
  if (typeof s.type === 'string') return s.type;
  if (Array.isArray(s.anyOf)) {
    const types = new Set((s.anyOf as Schema[]).map((x) => String(x.type)));
    if (types.has('number')) types.delete('integer');
    return [...types].join(' or ');
  }
  return 'the declared type';
}

function describeValue(v: unknown): unknown {
  // Large subtrees make unreadable messages; name their type instead, as Kubernetes' CRD errors do.
  if (v && typeof v === 'object') return Array.isArray(v) ? 'array' : 'object';
  return v;
}

export function checkSchema(res: ResourceInfo, obj: unknown): SchemaResult {
  const errors: ErrorObject[] = schemaErrors(res, obj);
  const typeError = (c: Causes[number]) => {
    result.typeErrors = true;
    result.causes.push(c);
    result.typeCauses.push(c);
  };
  const result: SchemaResult = { causes: [], unknownFields: [], typeErrors: false, typeCauses: [] };
  if (errors.length === 0) return result;
  const root = schemaFor(res);
  // Type errors inside an anyOf (int-or-string) are reported once, by the anyOf itself.
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  for (const e of errors) {
    switch (e.keyword) {
      case 'additionalProperties': {
        const at = locate(root, obj, e.instancePath);
        result.unknownFields.push(child(at.path, String((e.params as { additionalProperty: string }).additionalProperty)));
        break;
      }
      case 'required': {
        const at = locate(root, obj, e.instancePath);
        result.causes.push(required(child(at.path, String((e.params as { missingProperty: string }).missingProperty))));
        break;
      }
      case 'enum': {
        const at = locate(root, obj, e.instancePath);
        const allowed = ((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map(String).filter((v) => v !== '');
        result.causes.push(notSupported(at.path, at.value, allowed));
        break;
      }
      case 'type': {
        if (anyOfPaths.has(e.instancePath)) break;
        const at = locate(root, obj, e.instancePath);
        typeError(typeInvalid(at.path, describeValue(at.value), `must be of type ${String((e.params as { type: unknown }).type)}`));
        break;
      }
      case 'anyOf': {
        const at = locate(root, obj, e.instancePath);
        typeError(typeInvalid(at.path, describeValue(at.value), `must be of type ${typeNames(at.schema)}`));
        break;
      }
      case 'minimum':
      case 'maximum': {
        // Only integer widths carry bounds in these schemas: a value Go could not decode.
        const at = locate(root, obj, e.instancePath);
        const wide = at.schema?.format === 'int64';
        typeError(invalid(at.path, at.value, wide ? `must be an integer between ${-Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}` : `must be a 32-bit integer (between ${INT32_MIN} and ${INT32_MAX})`));
        break;
      }
      default: {
        const at = locate(root, obj, e.instancePath);
        result.causes.push(typeInvalid(at.path, describeValue(at.value), e.message ?? 'is invalid'));
        break;
      }
    }
  }
  return result;
}
