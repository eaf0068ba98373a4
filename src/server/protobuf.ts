// Request bodies in Kubernetes' protobuf encoding. kubectl's typed clients (`kubectl create deployment`,
// `create configmap|secret|namespace|service|ingress`, evictions, ...) send
// `application/vnd.kubernetes.protobuf` and never fall back to JSON on a 415, so the server decodes it:
// the `k8s\0` magic, a runtime.Unknown envelope (apiVersion, kind, raw bytes), and the object itself,
// decoded with field tables generated from the descriptors compiled into kubectl (protobuf-fields.ts).
// Responses stay JSON: those clients accept it.

import { jsonDepthProblem } from '../api/nesting.js';
import type { Request } from 'express';
import { errors } from '../api/errors.js';
import type { KObject } from '../api/types.js';
import { readRawBody } from './body.js';
import { PROTO_MESSAGES } from './protobuf-fields.js';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

// ---------------------------------------------------------------- wire format

/** Malformed input: becomes a 400 Status. */
export class ProtoError extends Error {}

export interface RawField {
  no: number;
  /** 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32 */
  wire: number;
  /** varints as bigint (int64 needs all 64 bits), everything else as bytes */
  value: bigint | Buffer;
}

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new ProtoError('truncated varint');
    const b = buf[pos++];
    result |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return [result, pos];
    shift += 7n;
  }
  throw new ProtoError('varint longer than 10 bytes');
}

/** Splits a message into its fields, in wire order. */
export function readFields(buf: Buffer): RawField[] {
  const out: RawField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, p1] = readVarint(buf, pos);
    pos = p1;
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (no === 0) throw new ProtoError('field number 0');
    switch (wire) {
      case 0: {
        const [v, p] = readVarint(buf, pos);
        out.push({ no, wire, value: v });
        pos = p;
        break;
      }
      case 1:
        if (pos + 8 > buf.length) throw new ProtoError('truncated fixed64');
        out.push({ no, wire, value: buf.subarray(pos, pos + 8) });
        pos += 8;
        break;
      case 2: {
        const [len, p] = readVarint(buf, pos);
        const end = p + Number(len);
        if (end > buf.length) throw new ProtoError('truncated length-delimited field');
        out.push({ no, wire, value: buf.subarray(p, end) });
        pos = end;
        break;
      }
      case 5:
        if (pos + 4 > buf.length) throw new ProtoError('truncated fixed32');
        out.push({ no, wire, value: buf.subarray(pos, pos + 4) });
        pos += 4;
        break;
      default:
        throw new ProtoError(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------- field tables

/** Scalar kinds, plus the apimachinery types whose JSON form is not their protobuf shape. */
type Scalar = 's' | 'b' | 'i32' | 'i64' | 'u32' | 'u64' | 'f32' | 'f64' | 'y';
type Special = 't' | 'T' | 'q' | 'x' | 'r' | 'D';

interface FieldSpec {
  json: string;
  /** a scalar/special kind, or a message name (`core.v1.Container`) */
  type: string;
  repeated: boolean;
  /** a Go pointer: present means set, zero included */
  nullable: boolean;
  /** a Go embedded struct serialized inline (`json:",inline"`) */
  inline: boolean;
  /** map<key,value>: value kind or message name */
  map?: { key: Scalar; value: string };
}

const SPECIALS = new Set(['t', 'T', 'q', 'x', 'r', 'D']);
const parsed = new Map<string, Map<number, FieldSpec>>();

/**
 * `json=no:type` tokens, space separated. type: a scalar kind, a special (t Time, T MicroTime,
 * q Quantity, x IntOrString, r raw JSON, D Duration), a message name, or `{k,v}` for a map.
 * Flags after the type: `*` repeated, `?` nullable (pointer), `!` inline.
 */
function messageSpec(name: string): Map<number, FieldSpec> | undefined {
  let spec = parsed.get(name);
  if (spec) return spec;
  const text = PROTO_MESSAGES[name];
  if (text === undefined) return undefined;
  spec = new Map();
  for (const tok of text.split(' ').filter(Boolean)) {
    const m = /^([^=]+)=(\d+):([^*?!]+)([*?!]*)$/.exec(tok);
    if (!m) throw new Error(`bad protobuf field spec ${tok} in ${name}`);
    const [, json, no, type, flags] = m;
    const f: FieldSpec = { json, type, repeated: flags.includes('*'), nullable: flags.includes('?'), inline: flags.includes('!') };
    const mm = /^\{(\w+),(.+)\}$/.exec(type);
    if (mm) f.map = { key: mm[1] as Scalar, value: mm[2] };
    spec.set(Number(no), f);
  }
  parsed.set(name, spec);
  return spec;
}

// ---------------------------------------------------------------- decoding

const WIRE_OF: Record<string, number> = { s: 2, y: 2, b: 0, i32: 0, u32: 0, i64: 0, u64: 0, f64: 1, f32: 5 };

function scalar(kind: string, f: RawField): unknown {
  const v = f.value;
  if (WIRE_OF[kind] !== undefined && WIRE_OF[kind] !== f.wire) throw new ProtoError(`field ${f.no} has wire type ${f.wire}, not that of a ${kind}`);
  switch (kind) {
    case 's':
      return (v as Buffer).toString('utf8');
    case 'y':
      return (v as Buffer).toString('base64');
    case 'b':
      return (v as bigint) !== 0n;
    case 'i32':
      return Number(BigInt.asIntN(32, v as bigint));
    case 'u32':
      return Number(BigInt.asUintN(32, v as bigint));
    case 'i64':
      return Number(BigInt.asIntN(64, v as bigint));
    case 'u64':
      return Number(BigInt.asUintN(64, v as bigint));
    case 'f64':
      return (v as Buffer).readDoubleLE(0);
    case 'f32':
      return (v as Buffer).readFloatLE(0);
    default:
      throw new ProtoError(`unknown scalar kind ${kind}`);
  }
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

/** What an absent map key or value means (proto omits zero values of map entries). */
function zeroOf(kind: string): unknown {
  if (kind === 's' || kind === 'y' || kind === 'q') return '';
  if (kind === 'b') return false;
  if (isScalarKind(kind) || kind === 'x') return 0;
  return {};
}

function isScalarKind(t: string): boolean {
  return ['s', 'b', 'i32', 'i64', 'u32', 'u64', 'f32', 'f64', 'y'].includes(t);
}

/** Packed repeated numerics arrive as one length-delimited field. */
function unpack(kind: string, buf: Buffer): unknown[] {
  const out: unknown[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (kind === 'f64') {
      out.push(buf.readDoubleLE(pos));
      pos += 8;
    } else if (kind === 'f32') {
      out.push(buf.readFloatLE(pos));
      pos += 4;
    } else {
      const [v, p] = readVarint(buf, pos);
      out.push(scalar(kind, { no: 0, wire: 0, value: v }));
      pos = p;
    }
  }
  return out;
}

function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let rest = Math.abs(ns);
  const h = Math.floor(rest / 3.6e12);
  rest -= h * 3.6e12;
  const m = Math.floor(rest / 6e10);
  rest -= m * 6e10;
  const s = rest / 1e9;
  return `${sign}${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

function special(kind: Special, buf: Buffer): unknown {
  const fields = readFields(buf);
  const get = (no: number) => fields.find((f) => f.no === no)?.value;
  switch (kind) {
    case 't':
    case 'T': {
      const seconds = Number(BigInt.asIntN(64, (get(1) as bigint | undefined) ?? 0n));
      const nanos = Number((get(2) as bigint | undefined) ?? 0n);
      if (seconds === 0 && nanos === 0) return undefined;
      const iso = new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '');
      return kind === 't' ? `${iso}Z` : `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
    }
    case 'q':
      return ((get(1) as Buffer | undefined) ?? Buffer.alloc(0)).toString('utf8');
    case 'x': {
      const type = Number((get(1) as bigint | undefined) ?? 0n);
      if (type === 1) return ((get(3) as Buffer | undefined) ?? Buffer.alloc(0)).toString('utf8');
      return Number(BigInt.asIntN(32, (get(2) as bigint | undefined) ?? 0n));
    }
    case 'r': {
      const raw = get(1) as Buffer | undefined;
      if (!raw || raw.length === 0) return undefined;
      if (raw.subarray(0, 4).equals(MAGIC)) return decodeKubernetesProtobuf(raw);
      const text = raw.toString('utf8');
      const deep = jsonDepthProblem(text);
      if (deep) throw new ProtoError(`an embedded object: ${deep.message}`);
      try {
        return JSON.parse(text);
      } catch {
        throw new ProtoError('an embedded object is neither JSON nor protobuf');
      }
    }
    case 'D':
      return goDuration(Number(BigInt.asIntN(64, (get(1) as bigint | undefined) ?? 0n)));
  }
}

function value(type: string, f: RawField): unknown {
  if (isScalarKind(type)) return scalar(type, f);
  if (f.wire !== 2) throw new ProtoError(`field ${f.no} should be length-delimited`);
  if (SPECIALS.has(type)) return special(type as Special, f.value as Buffer);
  return decodeMessage(type, f.value as Buffer);
}

/** Decodes one message of the generated tables into its JSON form (Go's encoding/json output). */
export function decodeMessage(name: string, buf: Buffer): Record<string, unknown> {
  const spec = messageSpec(name);
  if (!spec) throw new ProtoError(`message ${name} is not known to this server`);
  const out: Record<string, unknown> = {};
  for (const f of readFields(buf)) {
    const fs = spec.get(f.no);
    if (!fs) {
      // A newer client may know fields we do not: harmless when unset, refused when they carry data.
      const empty = f.wire === 0 ? f.value === 0n : f.wire === 2 ? (f.value as Buffer).length === 0 : false;
      if (empty) continue;
      throw new ProtoError(`field ${f.no} of ${name} is not known to this server`);
    }
    if (fs.map) {
      const entry = readFields(f.value as Buffer);
      const k = entry.find((e) => e.no === 1);
      const v = entry.find((e) => e.no === 2);
      const map = (out[fs.json] ??= {}) as Record<string, unknown>;
      map[String(k ? scalar(fs.map.key, k) : zeroOf(fs.map.key))] = v ? value(fs.map.value, v) : zeroOf(fs.map.value);
      continue;
    }
    if (fs.repeated) {
      const list = (out[fs.json] ??= []) as unknown[];
      if (f.wire === 2 && isScalarKind(fs.type) && fs.type !== 's' && fs.type !== 'y') list.push(...unpack(fs.type, f.value as Buffer));
      else list.push(value(fs.type, f));
      continue;
    }
    const v = value(fs.type, f);
    if (v === undefined) continue;
    if (fs.inline) {
      Object.assign(out, v as object);
      continue;
    }
    // Go's encoding/json omits the zero values of these fields (omitempty); a pointer that is set keeps even zero.
    if (!fs.nullable && isScalarKind(fs.type) && isZero(v)) continue;
    out[fs.json] = v;
  }
  return out;
}

/** apiVersion + kind -> message name in the generated tables. */
function messageFor(apiVersion: string, kind: string): string {
  if (['DeleteOptions', 'Status', 'WatchEvent'].includes(kind)) return `apis.meta.v1.${kind}`;
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  // Go packages are named after the group's first label (rbac.authorization.k8s.io -> rbac).
  const pkg = group === '' ? 'core' : group === 'rbac.authorization.k8s.io' ? 'rbac' : group.replace(/\.k8s\.io$/, '');
  return `${pkg}.${version}.${kind}`;
}

/** Objects embedded in objects (RawExtension) deeper than this are refused: the only unbounded recursion here. */
const MAX_EMBEDDED_DEPTH = 32;
let embedded = 0;

/** Decodes a whole `application/vnd.kubernetes.protobuf` body into the object's JSON form. */
export function decodeKubernetesProtobuf(body: Buffer): KObject {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) {
    throw errors.badRequest('the protobuf body does not start with the Kubernetes magic number "k8s\\x00"');
  }
  if (embedded >= MAX_EMBEDDED_DEPTH) throw errors.badRequest(`error decoding protobuf: embedded objects nested deeper than ${MAX_EMBEDDED_DEPTH} levels`);
  embedded++;
  try {
    const envelope = readFields(body.subarray(4));
    const get = (no: number) => envelope.find((f) => f.no === no)?.value as Buffer | undefined;
    const typeMeta = readFields(get(1) ?? Buffer.alloc(0));
    const apiVersion = (typeMeta.find((f) => f.no === 1)?.value as Buffer | undefined)?.toString('utf8') ?? '';
    const kind = (typeMeta.find((f) => f.no === 2)?.value as Buffer | undefined)?.toString('utf8') ?? '';
    const encoding = get(3)?.toString('utf8') ?? '';
    if (encoding) throw errors.unsupportedMediaType(`${PROTOBUF_MEDIA_TYPE} with contentEncoding ${encoding}`);
    if (!kind) throw errors.badRequest('the protobuf body names no kind');
    const name = messageFor(apiVersion, kind);
    if (!PROTO_MESSAGES[name]) {
      throw errors.unsupportedMediaType(`${PROTOBUF_MEDIA_TYPE} for ${kind} (${apiVersion || 'no apiVersion'}); send it as application/json`);
    }
    const obj = decodeMessage(name, get(2) ?? Buffer.alloc(0));
    return { apiVersion, kind, ...obj } as KObject;
  } catch (err) {
    if (err instanceof ProtoError || err instanceof RangeError) throw errors.badRequest(`error decoding protobuf: ${err.message}`);
    throw err;
  } finally {
    embedded--;
  }
}

/** Reads a protobuf request body (bounded) and decodes it. */
export async function readProtobufBody(req: Request): Promise<KObject | undefined> {
  const body = await readRawBody(req);
  return body.length === 0 ? undefined : decodeKubernetesProtobuf(body);
}
