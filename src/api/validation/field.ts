// Field errors in Kubernetes' shape (apimachinery's field.Error): a `reason` code, a Kubernetes field
// path (`spec.ports[0].port`), and a message rendered as `Invalid value: 70000: must be ...`, which
// causeLine() turns into the line kubectl prints.

import type { StatusCause } from '../types.js';
import { isQuantity, parseQuantity } from '../quantity.js';

export type FieldReason =
  | 'FieldValueInvalid'
  | 'FieldValueRequired'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueNotFound'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueTypeInvalid';

export type Causes = StatusCause[];

// ---------- paths ----------

export function child(path: string, ...names: string[]): string {
  let out = path;
  for (const n of names) out = out ? `${out}.${n}` : n;
  return out;
}

export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

export function key(path: string, k: string): string {
  return `${path}[${k}]`;
}

// ---------- values as Kubernetes prints them (Go's %q / %d / %#v) ----------

function isStringMap(v: object): v is Record<string, string> {
  return !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return `[]string{${v.map((x) => JSON.stringify(x)).join(', ')}}`;
  if (typeof v === 'object' && isStringMap(v)) {
    const keys = Object.keys(v).sort();
    return `map[string]string{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(v[k])}`).join(', ')}}`;
  }
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

// ---------- constructors ----------

function cause(reason: FieldReason, field: string, message: string): StatusCause {
  return { reason, message, field };
}

export function invalid(field: string, value: unknown, detail: string): StatusCause {
  return cause('FieldValueInvalid', field, `Invalid value: ${formatValue(value)}${detail ? `: ${detail}` : ''}`);
}

export function required(field: string, detail = ''): StatusCause {
  return cause('FieldValueRequired', field, detail ? `Required value: ${detail}` : 'Required value');
}

export function notSupported(field: string, value: unknown, supported: readonly string[]): StatusCause {
  const list = supported.map((s) => JSON.stringify(s)).join(', ');
  return cause('FieldValueNotSupported', field, `Unsupported value: ${formatValue(value)}${list ? `: supported values: ${list}` : ''}`);
}

export function duplicate(field: string, value: unknown): StatusCause {
  return cause('FieldValueDuplicate', field, `Duplicate value: ${formatValue(value)}`);
}

export function forbidden(field: string, detail: string): StatusCause {
  return cause('FieldValueForbidden', field, `Forbidden: ${detail}`);
}

export function notFound(field: string, value: unknown): StatusCause {
  return cause('FieldValueNotFound', field, `Not found: ${formatValue(value)}`);
}

export function tooLong(field: string, max: number): StatusCause {
  return cause('FieldValueTooLong', field, `Too long: may not be more than ${max} bytes`);
}

export function tooMany(field: string, actual: number, max: number): StatusCause {
  return cause('FieldValueTooMany', field, `Too many: ${actual}: must have at most ${max} items`);
}

export function typeInvalid(field: string, value: unknown, detail: string): StatusCause {
  return cause('FieldValueTypeInvalid', field, `Invalid value: ${formatValue(value)}: ${detail}`);
}

// ---------- small shared rules ----------

/** One cause per message of a names.ts check. */
export function each(field: string, value: unknown, msgs: string[]): Causes {
  return msgs.map((m) => invalid(field, value, m));
}

export function nonNegative(field: string, v: number | undefined): Causes {
  return v !== undefined && v < 0 ? [invalid(field, v, 'must be greater than or equal to 0')] : [];
}

export function portNum(field: string, v: number): Causes {
  return Number.isInteger(v) && v >= 1 && v <= 65535 ? [] : [invalid(field, v, 'must be between 1 and 65535, inclusive')];
}

// ---------- defensive accessors (semantic rules run on objects that passed the type schema, but
// may still lack optional parts) ----------

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function objAt(v: unknown): Obj {
  return isObj(v) ? v : {};
}

export function listAt<T = Obj>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

export function strAt(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export function numAt(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

export function strMapAt(v: unknown): Record<string, string> {
  return isObj(v) ? (v as Record<string, string>) : {};
}

const QUANTITY_REGEX_MSG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/** A resource quantity (`100m`, `1Gi`, or a number) that is not negative. */
export function quantityCauses(path: string, value: unknown): Causes {
  if (typeof value === 'number') return value < 0 ? [invalid(path, value, 'must be greater than or equal to 0')] : [];
  if (typeof value !== 'string' || !isQuantity(value)) return [invalid(path, value, QUANTITY_REGEX_MSG)];
  return parseQuantity(value) < 0 ? [invalid(path, value, 'must be greater than or equal to 0')] : [];
}
