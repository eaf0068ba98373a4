// Strategic merge patch (`application/strategic-merge-patch+json`), the patch `kubectl apply`,
// `label`, `annotate`, `edit` and `rollout restart` send for built-in kinds. Semantics follow
// apimachinery's strategicpatch.StrategicMergePatch as used by the API server: maps merge, `null`
// deletes, lists tagged `merge` merge element-wise by their merge key (or as a set of primitives),
// other lists are replaced, and the `$patch`, `$retainKeys`, `$setElementOrder/` and
// `$deleteFromPrimitiveList/` directives apply. Deviations, all on patches kubectl never sends: a
// `{"$patch":"merge"}` marker is accepted as the no-op it reads as (Kubernetes rejects it), keys
// starting with `$` that are no directive are a 400 (Kubernetes stores them, then fails decoding),
// and values a patch adds are merged into nothing, so nulls and directives inside them are applied
// rather than stored.

import { errors, StatusError } from '../errors.js';
import type { ResourceInfo } from '../resources.js';
import type { KObject } from '../types.js';
import { clone, deepEqual, getOwn, hasOwn, isObject, setOwn, show, type JsonObject } from './json.js';
import { indexIn, normalizeElementOrder, partitionByPresence } from './order.js';
import { schemaFor, type SchemaNode } from './strategy.js';

export const PATCH_DIRECTIVE = '$patch';
export const RETAIN_KEYS = '$retainKeys';
export const SET_ELEMENT_ORDER = '$setElementOrder/';
export const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList/';

// Only `$patch: delete` at the top level yields this: the whole object cannot be deleted by a patch.
const DELETED = Symbol('deleted');

/** Applies a strategic merge patch to `target`. Pure: neither input is modified. */
export function applyStrategicMergePatch(res: Pick<ResourceInfo, 'group' | 'kind'> | undefined, target: KObject, patch: unknown): KObject {
  if (!isObject(patch)) throw errors.badRequest(`a strategic merge patch must be a JSON object, got ${show(patch)}`);
  const out = mergeMap(clone(target) as unknown as JsonObject, clone(patch), schemaFor(res), '');
  if (out === DELETED) throw errors.badRequest('a strategic merge patch cannot delete the whole object ("$patch": "delete" at the top level)');
  return out as unknown as KObject;
}

function bad(at: string, message: string): StatusError {
  return errors.badRequest(`strategic merge patch: ${message}${at ? ` (at ${at})` : ''}`);
}

function join(at: string, key: string): string {
  return at ? `${at}.${key}` : key;
}

function isDirectiveKey(k: string): boolean {
  return k.startsWith('$');
}

/** Merges `patch` into `original`, both owned by the caller (they are mutated). */
function mergeMap(original: JsonObject, patch: JsonObject, node: SchemaNode | undefined, at: string): JsonObject | typeof DELETED {
  if (hasOwn(patch, PATCH_DIRECTIVE)) {
    const directive = patch[PATCH_DIRECTIVE];
    delete patch[PATCH_DIRECTIVE];
    if (directive === 'replace') return mergeMap({}, patch, node, at);
    // Kubernetes leaves an empty map, not an absent field.
    if (directive === 'delete') return at === '' ? DELETED : {};
    if (directive !== 'merge') throw bad(at, `unknown "$patch" directive ${show(directive)} (want replace, delete or merge)`);
  }
  for (const k of Object.keys(patch)) {
    if (isDirectiveKey(k) && k !== RETAIN_KEYS && !k.startsWith(SET_ELEMENT_ORDER) && !k.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      throw bad(at, `unknown directive ${show(k)}`);
    }
  }
  applyRetainKeys(original, patch, at);
  applySetElementOrder(original, patch, node, at);

  const deletions: [string, unknown][] = [];
  for (const k of Object.keys(patch)) {
    const value = patch[k];
    if (k.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      deletions.push([k.slice(DELETE_FROM_PRIMITIVE_LIST.length), value]);
      continue;
    }
    if (value === null) {
      delete original[k];
      continue;
    }
    const merged = mergeValue(getOwn(original, k), value, node?.children.get(k), join(at, k));
    if (merged === DELETED) delete original[k];
    else setOwn(original, k, merged);
  }
  // After the merges, as the API server does when kubectl sends both a list and its deletions.
  for (const [k, remove] of deletions) {
    if (!Array.isArray(remove)) throw bad(join(at, k), `${DELETE_FROM_PRIMITIVE_LIST}${k} must be a list, got ${show(remove)}`);
    const list = getOwn(original, k);
    if (Array.isArray(list)) setOwn(original, k, list.filter((x) => !remove.some((d) => deepEqual(d, x))));
  }
  return original;
}

function mergeValue(original: unknown, patch: unknown, node: SchemaNode | undefined, at: string): unknown {
  const strategy = node?.field?.strategy;
  if (isObject(patch)) {
    // A value the original lacks (or holds with another type) is still run through the merge so
    // its nulls and directives are interpreted, not stored.
    return mergeMap(isObject(original) && strategy !== 'replace' ? original : {}, patch, node, at);
  }
  if (Array.isArray(patch)) {
    if (strategy === 'merge') return mergeList(Array.isArray(original) ? original : [], patch, node as SchemaNode, at);
    return patch;
  }
  return patch;
}

function elementKind(items: readonly unknown[], at: string): 'map' | 'scalar' {
  let maps = 0;
  for (const item of items) {
    if (Array.isArray(item)) throw bad(at, 'lists of lists cannot be merged');
    if (isObject(item)) maps++;
  }
  if (maps !== 0 && maps !== items.length) throw bad(at, 'a merged list must hold only maps or only primitive values');
  return maps ? 'map' : 'scalar';
}

function mergeList(original: unknown[], patch: unknown[], node: SchemaNode, at: string): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  if (elementKind([...original, ...patch], at) === 'scalar') {
    const merged: unknown[] = [];
    for (const item of [...original, ...patch]) if (indexIn(merged, item, undefined) < 0) merged.push(item);
    const [patchItems, serverOnly] = partitionByPresence(merged, patch, undefined);
    return normalizeElementOrder(patchItems, serverOnly, patch, original, undefined);
  }

  const key = node.field?.key;
  if (!key) throw bad(at, 'cannot merge a list of maps without a merge key');
  let current = [...original];
  const plain: JsonObject[] = [];
  let replace = false;
  for (const item of patch as JsonObject[]) {
    if (!hasOwn(item, PATCH_DIRECTIVE)) {
      plain.push(item);
      continue;
    }
    const directive = item[PATCH_DIRECTIVE];
    if (directive === 'delete') {
      if (!hasOwn(item, key)) throw bad(at, `a "$patch": "delete" element needs the merge key ${show(key)}: ${show(item)}`);
      current = current.filter((x) => !(isObject(x) && deepEqual(getOwn(x, key), item[key])));
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      const rest = { ...item };
      delete rest[PATCH_DIRECTIVE];
      if (Object.keys(rest).length > 0) plain.push(rest);
    } else {
      throw bad(at, `unknown "$patch" directive ${show(directive)} in a list element (want delete, replace or merge)`);
    }
  }
  if (replace) return plain.map((item) => fresh(item, node, at));

  const original0 = current.slice();
  for (const item of plain) {
    if (!hasOwn(item, key)) throw bad(at, `list element ${show(item)} lacks the merge key ${show(key)}`);
    const i = indexIn(current, item, key);
    if (i >= 0) current[i] = mergeMap(current[i] as JsonObject, item, node, at) as JsonObject;
    else current.push(fresh(item, node, at));
  }
  const [patchItems, serverOnly] = partitionByPresence(current, plain, key);
  return normalizeElementOrder(patchItems, serverOnly, plain, original0, key);
}

function fresh(item: JsonObject, node: SchemaNode, at: string): JsonObject {
  const out = mergeMap({}, item, node, at);
  return out === DELETED ? {} : out;
}

function applyRetainKeys(original: JsonObject, patch: JsonObject, at: string): void {
  if (!hasOwn(patch, RETAIN_KEYS)) return;
  const keep = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(keep) || !keep.every((k) => typeof k === 'string')) throw bad(at, `${RETAIN_KEYS} must be a list of field names, got ${show(keep)}`);
  const retained = new Set<string>(keep);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!retained.has(k)) throw bad(at, `field ${show(k)} is in the patch but not in its ${RETAIN_KEYS} list ${show(keep)}`);
  }
  for (const k of Object.keys(original)) if (!retained.has(k)) delete original[k];
}

/**
 * `$setElementOrder/<list>` names every element of the list in its desired order (kubectl sends it
 * with every list it changes). The list and its patch are merged here, then reordered: the order
 * list first, server-only elements woven in by their live position.
 */
function applySetElementOrder(original: JsonObject, patch: JsonObject, node: SchemaNode | undefined, at: string): void {
  for (const directiveKey of Object.keys(patch)) {
    if (!directiveKey.startsWith(SET_ELEMENT_ORDER)) continue;
    const order = patch[directiveKey];
    delete patch[directiveKey];
    const field = directiveKey.slice(SET_ELEMENT_ORDER.length);
    const fieldAt = join(at, field);
    if (!Array.isArray(order)) throw bad(fieldAt, `${directiveKey} must be a list, got ${show(order)}`);
    const child = node?.children.get(field);
    // Only merged lists have an order to keep; anything else is handled by the plain merge.
    if (child?.field?.strategy !== 'merge') continue;
    const key = child.field.key;
    if (key !== undefined && !order.every((x) => isObject(x) && hasOwn(x, key))) {
      throw bad(fieldAt, `every element of ${directiveKey} must be a map with the merge key ${show(key)}`);
    }
    const originalList = getOwn(original, field);
    const patchList = getOwn(patch, field);
    if (patchList !== undefined && !Array.isArray(patchList)) continue;
    validateAgainstOrder(patchList ?? [], order, key, fieldAt);

    const foundOriginal = Array.isArray(originalList);
    let merged: unknown[];
    if (patchList === undefined) {
      if (!foundOriginal) continue;
      merged = originalList;
    } else {
      merged = mergeList(foundOriginal ? originalList : [], patchList, child, fieldAt);
      delete patch[field];
    }
    if (merged.length > 0) elementKind(merged, fieldAt);
    const [patchItems, serverOnly] = partitionByPresence(merged, order, key);
    setOwn(original, field, normalizeElementOrder(patchItems, serverOnly, order, foundOriginal ? originalList : [], key));
  }
}

/** Every element the patch sets must appear in the order list, in the same relative order. */
function validateAgainstOrder(patchList: unknown[], order: unknown[], key: string | undefined, at: string): void {
  if (order.length === 0) return;
  const named = patchList.filter((x) => !(isObject(x) && hasOwn(x, PATCH_DIRECTIVE)));
  let p = 0;
  for (let o = 0; o < order.length && p < named.length; o++) {
    if (indexIn([order[o]], named[p], key) === 0) p++;
  }
  if (p < named.length) {
    throw bad(at, `the order of the patch list ${show(patchList)} does not match the ${SET_ELEMENT_ORDER}${at.split('.').pop()} list ${show(order)}`);
  }
}
