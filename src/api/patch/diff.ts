// Computing strategic merge patches, as kubectl does client-side (apimachinery's
// CreateTwoWayMergePatch / CreateThreeWayMergePatch with overwrite): `kubectl edit` diffs two
// versions, `kubectl apply` diffs last-applied, the new manifest and the live object. The server-side
// apply in apply.ts uses the same computation.

import { errors } from '../errors.js';
import type { ResourceInfo } from '../resources.js';
import { clone, deepEqual, getOwn, hasOwn, isObject, setOwn, show, type JsonObject } from './json.js';
import { sortByOrder } from './order.js';
import { DELETE_FROM_PRIMITIVE_LIST, PATCH_DIRECTIVE, RETAIN_KEYS, SET_ELEMENT_ORDER } from './strategic.js';
import { schemaFor, type SchemaNode } from './strategy.js';

interface DiffOptions {
  /** Leave fields that `modified` lacks alone (the live object may hold fields others set). */
  ignoreDeletions?: boolean;
  /** Only record deletions (what the last applied config had and the new one dropped). */
  ignoreChangesAndAdditions?: boolean;
  setElementOrder?: boolean;
  buildRetainKeys?: boolean;
}

type Res = Pick<ResourceInfo, 'group' | 'kind'> | undefined;

function asObject(v: unknown, what: string): JsonObject {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw errors.badRequest(`${what} must be a JSON object, got ${show(v)}`);
  return v;
}

/** The patch turning `original` into `modified` (what `kubectl edit` sends). */
export function twoWayMergePatch(res: Res, original: unknown, modified: unknown): JsonObject {
  return diffMaps(asObject(original, 'the original object'), asObject(modified, 'the modified object'), schemaFor(res), { setElementOrder: true });
}

/**
 * The patch `kubectl apply` sends: everything in `modified` (the new manifest) that differs from
 * `current` (the live object), plus deletions of what `original` (the previously applied manifest)
 * had and `modified` dropped. Fields only `current` has — set by others — are left alone. An empty
 * object means "unchanged".
 */
export function threeWayMergePatch(res: Res, original: unknown, modified: unknown, current: unknown): JsonObject {
  const schema = schemaFor(res);
  const o = asObject(original, 'the last applied configuration');
  const m = asObject(modified, 'the applied configuration');
  const c = asObject(current, 'the live object');
  const delta = diffMaps(c, m, schema, { ignoreDeletions: true, setElementOrder: true });
  const deletions = diffMaps(o, m, schema, { ignoreChangesAndAdditions: true, setElementOrder: true });
  return combine(deletions, delta, schema);
}

function kindOf(v: unknown): 'object' | 'array' | 'null' | 'scalar' {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : isObject(v) ? 'object' : 'scalar';
}

function diffMaps(original: JsonObject, modified: JsonObject, node: SchemaNode | undefined, opts: DiffOptions): JsonObject {
  const patch: JsonObject = {};
  const retainKeys: string[] = [];
  for (const key of Object.keys(modified)) {
    const mv = modified[key];
    if (opts.buildRetainKeys && mv !== null) retainKeys.push(key);
    if (!hasOwn(original, key)) {
      if (!opts.ignoreChangesAndAdditions) setOwn(patch, key, clone(mv));
      continue;
    }
    const ov = original[key];
    const child = node?.children.get(key);
    if (kindOf(ov) !== kindOf(mv)) {
      if (!opts.ignoreChangesAndAdditions) setOwn(patch, key, clone(mv));
      continue;
    }
    if (isObject(ov) && isObject(mv)) {
      if (child?.field?.strategy === 'replace') {
        if (!opts.ignoreChangesAndAdditions && !deepEqual(ov, mv)) setOwn(patch, key, clone(mv));
        continue;
      }
      const sub = diffMaps(ov, mv, child, { ...opts, buildRetainKeys: !!child?.field?.retainKeys });
      if (Object.keys(sub).length > 0) setOwn(patch, key, sub);
    } else if (Array.isArray(ov) && Array.isArray(mv) && child?.field?.strategy === 'merge') {
      const { add, remove, order } = diffLists(ov, mv, child, { ...opts, buildRetainKeys: !!child.field.retainKeys }, key);
      if (add.length > 0) setOwn(patch, key, add);
      if (remove.length > 0) setOwn(patch, DELETE_FROM_PRIMITIVE_LIST + key, remove);
      if (order.length > 0) setOwn(patch, SET_ELEMENT_ORDER + key, order);
    } else if (!opts.ignoreChangesAndAdditions && !deepEqual(ov, mv)) {
      setOwn(patch, key, clone(mv));
    }
  }
  if (!opts.ignoreDeletions) {
    for (const key of Object.keys(original)) if (!hasOwn(modified, key)) setOwn(patch, key, null);
  }
  // $retainKeys also goes out when nothing else changed but the original holds a field to clear.
  const clears = Object.keys(original).some((k) => original[k] !== null && !hasOwn(modified, k));
  if (retainKeys.length > 0 && (Object.keys(patch).length > 0 || clears)) patch[RETAIN_KEYS] = retainKeys.sort();
  return patch;
}

function keyString(v: unknown): string {
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

function diffLists(
  original: unknown[],
  modified: unknown[],
  node: SchemaNode,
  opts: DiffOptions,
  field: string,
): { add: unknown[]; remove: unknown[]; order: unknown[] } {
  const none = { add: [], remove: [], order: [] };
  if (original.length === 0) {
    if (modified.length === 0 || opts.ignoreChangesAndAdditions) return none;
    return { add: clone(modified), remove: [], order: [] };
  }
  const all = [...original, ...modified];
  if (all.some((x) => Array.isArray(x))) throw errors.badRequest(`${field}: lists of lists cannot be merged`);
  const maps = all.filter(isObject).length;
  if (maps !== 0 && maps !== all.length) throw errors.badRequest(`${field}: a merged list must hold only maps or only primitive values`);

  if (maps === 0) {
    const has = (list: unknown[], v: unknown) => list.some((x) => keyString(x) === keyString(v));
    const add = opts.ignoreChangesAndAdditions ? [] : dedupe(modified.filter((v) => !has(original, v)));
    const remove = opts.ignoreDeletions ? [] : dedupe(original.filter((v) => !has(modified, v)));
    const changed = (!opts.ignoreDeletions && remove.length > 0) || (!opts.ignoreChangesAndAdditions && !deepEqual(original, modified));
    return { add: clone(add), remove: clone(remove), order: opts.setElementOrder && changed ? clone(modified) : [] };
  }

  const key = node.field?.key;
  if (!key) throw errors.badRequest(`${field}: cannot merge a list of maps without a merge key`);
  const keyOf = (item: unknown, which: string): string => {
    const m = item as JsonObject;
    if (!hasOwn(m, key)) throw errors.badRequest(`${field}: ${which} element ${show(m)} lacks the merge key ${show(key)}`);
    return keyString(m[key]);
  };
  const originalByKey = new Map<string, JsonObject>();
  for (const item of original) {
    const k = keyOf(item, 'an original');
    if (!originalByKey.has(k)) originalByKey.set(k, item as JsonObject);
  }
  const modifiedKeys = new Set(modified.map((item) => keyOf(item, 'a modified')));

  let patchList: unknown[] = [];
  for (const item of modified as JsonObject[]) {
    const before = originalByKey.get(keyOf(item, 'a modified'));
    if (before) {
      const sub = diffMaps(before, item, node, opts);
      if (Object.keys(sub).length > 0) {
        setOwn(sub, key, clone(item[key]));
        patchList.push(sub);
      }
    } else if (!opts.ignoreChangesAndAdditions) {
      patchList.push(clone(item));
    }
  }
  patchList = sortByOrder(patchList, modified, key);
  if (!opts.ignoreDeletions) {
    const gone = [...originalByKey.entries()].filter(([k]) => !modifiedKeys.has(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [, item] of gone) patchList.push({ [PATCH_DIRECTIVE]: 'delete', [key]: clone(item[key]) });
  }
  const orderSame = original.length === modified.length && original.every((x, i) => keyOf(x, 'an original') === keyOf(modified[i], 'a modified'));
  const wantOrder =
    opts.setElementOrder &&
    ((!opts.ignoreChangesAndAdditions && (patchList.length > 0 || !orderSame)) || (!opts.ignoreDeletions && patchList.length > 0));
  const order = wantOrder ? modified.map((item) => ({ [key]: clone((item as JsonObject)[key]) })) : [];
  return { add: patchList, remove: [], order };
}

function dedupe(list: unknown[]): unknown[] {
  const seen = new Set<string>();
  return list.filter((v) => {
    const k = keyString(v);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Joins the deletions patch and the delta patch into one. They touch disjoint leaves (deletions are
 * nulls and delete directives for what `modified` lacks, the delta only what it has), so this is a
 * deep merge in which elements of merged lists are matched by their merge key.
 */
function combine(deletions: JsonObject, delta: JsonObject, node: SchemaNode | undefined): JsonObject {
  const out = clone(deletions);
  for (const key of Object.keys(delta)) {
    const dv = delta[key];
    if (!hasOwn(out, key)) {
      setOwn(out, key, clone(dv));
      continue;
    }
    // Both computed from `modified`, hence equal.
    if (key === RETAIN_KEYS || key.startsWith(SET_ELEMENT_ORDER)) continue;
    const ov = out[key];
    const child = node?.children.get(key);
    const mergeKey = child?.field?.strategy === 'merge' ? child.field.key : undefined;
    if (isObject(ov) && isObject(dv)) {
      setOwn(out, key, combine(ov, dv, child));
    } else if (Array.isArray(ov) && Array.isArray(dv) && mergeKey !== undefined) {
      const merged = dv.map((x) => clone(x));
      for (const item of ov) {
        const plain = isObject(item) && !hasOwn(item, PATCH_DIRECTIVE);
        const at = plain
          ? merged.findIndex((x) => isObject(x) && !hasOwn(x, PATCH_DIRECTIVE) && deepEqual(getOwn(x, mergeKey), getOwn(item, mergeKey)))
          : -1;
        if (at >= 0) merged[at] = combine(item as JsonObject, merged[at] as JsonObject, child);
        else merged.push(item);
      }
      setOwn(out, key, merged);
    } else {
      setOwn(out, key, clone(dv));
    }
  }
  return out;
}
