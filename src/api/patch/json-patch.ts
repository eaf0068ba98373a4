// RFC 6902 JSON patch (`application/json-patch+json`, `kubectl patch --type json`). A patch that is
// not a well-formed list of operations is a 400; one that is well formed but cannot be applied to
// this object (missing path, failed `test`) is a 422, as the Kubernetes API server answers. Strict
// RFC 6902 otherwise (no leading zeros in indices, `test` needs its target), except `replace`.

import { errors, StatusError } from '../errors.js';
import { clone, deepEqual, getOwn, hasOwn, isObject, setOwn, show, type JsonObject } from './json.js';

type Op =
  | { op: 'add' | 'replace' | 'test'; path: string[]; rawPath: string; value: unknown }
  | { op: 'remove'; path: string[]; rawPath: string }
  | { op: 'move' | 'copy'; path: string[]; rawPath: string; from: string[]; rawFrom: string };

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

/** Applies RFC 6902 operations to `target`. Pure: neither input is modified. */
export function applyJsonPatch(target: unknown, ops: unknown): unknown {
  const parsed = parseOps(ops);
  let doc = clone(target);
  parsed.forEach((op, index) => {
    doc = applyOp(doc, op, index);
  });
  return doc;
}

/** Parses a JSON pointer (RFC 6901) into reference tokens; '' is the whole document. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`JSON pointer ${show(pointer)} must be empty or start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => {
      if (/~[^01]|~$/.test(token)) throw new Error(`JSON pointer ${show(pointer)} has an invalid escape (only ~0 and ~1 are allowed)`);
      return token.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

function parseOps(ops: unknown): Op[] {
  if (!Array.isArray(ops)) throw errors.badRequest(`json patch must be a JSON array of operations, got ${show(ops)}`);
  return ops.map((raw, index): Op => {
    const where = `json patch operation ${index}`;
    if (!isObject(raw)) throw errors.badRequest(`${where} must be an object, got ${show(raw)}`);
    const name = getOwn(raw, 'op');
    if (typeof name !== 'string' || !OPS.has(name)) {
      throw errors.badRequest(`${where} has ${name === undefined ? 'no "op"' : `unknown "op" ${show(name)}`} (want one of add, remove, replace, move, copy, test)`);
    }
    const rawPath = getOwn(raw, 'path');
    if (typeof rawPath !== 'string') throw errors.badRequest(`${where} (${name}) has no string "path"`);
    const path = pointerOr400(rawPath, `${where} (${name})`);
    switch (name) {
      case 'add':
      case 'replace':
      case 'test':
        if (!hasOwn(raw, 'value')) throw errors.badRequest(`${where} (${name} ${rawPath}) has no "value"`);
        return { op: name, path, rawPath, value: raw.value };
      case 'remove':
        return { op: 'remove', path, rawPath };
      default: {
        const rawFrom = getOwn(raw, 'from');
        if (typeof rawFrom !== 'string') throw errors.badRequest(`${where} (${name} ${rawPath}) has no string "from"`);
        return { op: name as 'move' | 'copy', path, rawPath, from: pointerOr400(rawFrom, `${where} (${name})`), rawFrom };
      }
    }
  });
}

function pointerOr400(pointer: string, where: string): string[] {
  try {
    return parsePointer(pointer);
  } catch (e) {
    throw errors.badRequest(`${where}: ${(e as Error).message}`);
  }
}

function unprocessable(index: number, op: Op, why: string): StatusError {
  const message = `json patch operation ${index} (${op.op} ${show(op.rawPath)}) failed: ${why}`;
  return new StatusError({ code: 422, reason: 'Invalid', message, details: { causes: [{ reason: 'FieldValueInvalid', message, field: op.rawPath }] } });
}

function applyOp(doc: unknown, op: Op, index: number): unknown {
  const fail = (why: string) => unprocessable(index, op, why);
  switch (op.op) {
    case 'add':
      return add(doc, op.path, clone(op.value), fail);
    case 'remove':
      return remove(doc, op.path, fail).doc;
    case 'replace':
      return replace(doc, op.path, clone(op.value), fail);
    case 'test': {
      const have = get(doc, op.path, fail);
      if (!deepEqual(have, op.value)) throw fail(`value is ${show(have)}, expected ${show(op.value)}`);
      return doc;
    }
    case 'copy':
      return add(doc, op.path, clone(get(doc, op.from, (why) => fail(`from ${show(op.rawFrom)}: ${why}`))), fail);
    case 'move': {
      if (op.rawPath === op.rawFrom) {
        get(doc, op.from, fail);
        return doc;
      }
      if (op.rawPath.startsWith(`${op.rawFrom}/`)) throw fail(`cannot move ${show(op.rawFrom)} into its own child`);
      const removed = remove(doc, op.from, (why) => fail(`from ${show(op.rawFrom)}: ${why}`));
      return add(removed.doc, op.path, removed.value, fail);
    }
  }
}

type Fail = (why: string) => StatusError;

/** The container holding the last token of `path` (the document itself for a one-token path). */
function parentOf(doc: unknown, path: string[], fail: Fail): unknown {
  let cur = doc;
  for (let i = 0; i < path.length - 1; i++) {
    const token = path[i];
    if (Array.isArray(cur)) {
      const at = arrayIndex(token, cur.length - 1, fail);
      cur = cur[at];
    } else if (isObject(cur) && hasOwn(cur, token)) {
      cur = cur[token];
    } else {
      throw fail(`path ${show('/' + path.slice(0, i + 1).join('/'))} does not exist`);
    }
  }
  return cur;
}

/** Index of `token` in an array, which must be at most `max` (`length` allows appending). */
function arrayIndex(token: string, max: number, fail: Fail): number {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw fail(`${show(token)} is not a valid array index`);
  const n = Number(token);
  if (n > max) throw fail(`array index ${n} is out of range (${max < 0 ? 'the array is empty' : `max ${max}`})`);
  return n;
}

function get(doc: unknown, path: string[], fail: Fail): unknown {
  if (path.length === 0) return doc;
  const parent = parentOf(doc, path, fail);
  const last = path[path.length - 1];
  if (Array.isArray(parent)) return parent[arrayIndex(last, parent.length - 1, fail)];
  if (isObject(parent) && hasOwn(parent, last)) return parent[last];
  throw fail(`path does not exist`);
}

function add(doc: unknown, path: string[], value: unknown, fail: Fail): unknown {
  if (path.length === 0) return value;
  const parent = parentOf(doc, path, fail);
  const last = path[path.length - 1];
  if (Array.isArray(parent)) {
    const at = last === '-' ? parent.length : arrayIndex(last, parent.length, fail);
    parent.splice(at, 0, value);
  } else if (isObject(parent)) {
    setOwn(parent, last, value);
  } else {
    throw fail(`the parent of the path is ${show(parent)}, not an object or array`);
  }
  return doc;
}

/**
 * RFC 6902 wants the target to exist; the Kubernetes API server (evanphx/json-patch v4) also lets
 * `replace` create a missing object member, and `kubectl patch --type json` users rely on that
 * (replacing a label that may not be there yet), so we do the same. Array indices must exist.
 */
function replace(doc: unknown, path: string[], value: unknown, fail: Fail): unknown {
  if (path.length === 0) return value;
  const parent = parentOf(doc, path, fail);
  const last = path[path.length - 1];
  if (Array.isArray(parent)) parent[arrayIndex(last, parent.length - 1, fail)] = value;
  else if (isObject(parent)) setOwn(parent, last, value);
  else throw fail(`the parent of the path is ${show(parent)}, not an object or array`);
  return doc;
}

function remove(doc: unknown, path: string[], fail: Fail): { doc: unknown; value: unknown } {
  if (path.length === 0) throw fail('cannot remove the whole document');
  const value = get(doc, path, fail);
  const parent = parentOf(doc, path, fail);
  const last = path[path.length - 1];
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete (parent as JsonObject)[last];
  return { doc, value };
}
