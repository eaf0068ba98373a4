// Server-side apply (`kubectl apply --server-side`, `application/apply-patch+yaml`) without
// managedFields: each field manager's last applied configuration is remembered in one annotation,
// and an apply is the three-way merge kubectl's client-side apply performs — against that manager's
// own last configuration — with two server-side twists:
//  - fields another manager applied (and that still hold the value it applied) count as owned by
//    it: this manager dropping them does not delete them, and setting them to a different value is
//    a 409 conflict unless `force`, which takes them over;
//  - fields written by plain updates/patches (kubectl edit, scale, controllers) have no owner here,
//    so apply overwrites them without a conflict and deletes them when this manager drops a field
//    it had applied. Kubernetes, tracking every writer, would report a conflict or keep them.

import { jsonDepthProblem } from '../nesting.js';
import { foldStringData } from '../secrets.js';
import { errors, StatusError } from '../errors.js';
import type { ResourceInfo } from '../resources.js';
import type { KObject } from '../types.js';
import { clone, deepEqual, getOwn, hasOwn, isObject, setOwn, type JsonObject } from './json.js';
import { indexIn, partitionByPresence, sortByOrder } from './order.js';
import { threeWayMergePatch } from './diff.js';
import { applyStrategicMergePatch } from './strategic.js';
import { schemaFor, type SchemaNode } from './strategy.js';

export { threeWayMergePatch, twoWayMergePatch } from './diff.js';

/** JSON object: field manager -> the configuration it last applied (minus status). */
export const LAST_APPLIED_ANNOTATION = 'kubelite.io/last-applied';

export interface ApplyOptions {
  fieldManager: string;
  force: boolean;
}

type Res = Pick<ResourceInfo, 'group' | 'kind' | 'apiVersion'>;

function isSecret(res: Res): boolean {
  return res.kind === 'Secret' && res.group === '';
}

/** A field: names, with `{ key, value }` selecting the element of a merged list. */
type Segment = string | { key: string; value: unknown };
export interface ApplyConflict {
  manager: string;
  /** `.spec.template.spec.containers[name="web"].image` */
  field: string;
}

/**
 * The object to store after `fieldManager` applies `applied` to `live` (undefined: create).
 * Throws a 409 Conflict naming the fields when another manager's applied values would change and
 * `force` is false.
 */
export function serverSideApply(res: Res, live: KObject | undefined, applied: KObject, opts: ApplyOptions): KObject {
  if (!opts.fieldManager) throw errors.badRequest('fieldManager is required for server-side apply');
  if (!isObject(applied)) throw errors.badRequest('the applied configuration must be an object');
  // stringData is write-only (folded into data on write): remembering it as data lets a later apply
  // that drops a key delete it from data, where it lives.
  const desired = isSecret(res) ? foldStringData(clone(applied)) : clone(applied);
  delete desired.status;
  stripOwnAnnotation(desired);
  const config = remembered(res, desired);
  if (!live) {
    const created = clone(applied);
    stripOwnAnnotation(created);
    writeRecords(created, { [opts.fieldManager]: config });
    return created;
  }

  const schema = schemaFor(res);
  const records = readRecords(live);
  const previous = records[opts.fieldManager] ?? {};
  delete records[opts.fieldManager];

  const conflicts = findConflicts(config, live as unknown as JsonObject, records, schema);
  if (conflicts.length > 0 && !opts.force) throw conflictError(res, conflicts);
  // Forcing takes the fields over: their former managers no longer hold them.
  for (const c of conflicts) records[c.manager] = removeAt(records[c.manager], c.path) ?? {};

  // What other managers still own is part of the desired state, so this manager's deletions skip it.
  let owned: JsonObject = {};
  for (const record of Object.values(records)) {
    const part = ownedPart(record, live, schema);
    if (isObject(part)) owned = overlay(owned, part, live, schema) as JsonObject;
  }
  const modified = overlay(owned, desired, live, schema) as JsonObject;
  const patch = threeWayMergePatch(res, previous, modified, live);
  const out = applyStrategicMergePatch(res, live, patch);
  for (const [manager, record] of Object.entries(records)) if (Object.keys(record).length === 0) delete records[manager];
  records[opts.fieldManager] = config;
  writeRecords(out, records);
  return out;
}

/**
 * What a manager applied, as remembered: no server-set metadata. A resourceVersion in the applied
 * configuration still reaches the result (a precondition for the write), it is just not kept.
 */
function remembered(res: Res, desired: KObject): JsonObject {
  const config = clone(desired) as unknown as JsonObject;
  const meta = getOwn(config, 'metadata');
  if (isObject(meta)) for (const k of ['resourceVersion', 'managedFields', 'uid', 'creationTimestamp', 'generation']) delete meta[k];
  // A Secret's values are never written into an annotation anyone who can read the Secret's metadata
  // sees: the record keeps each key with an empty value. Keys are what deletions need; the price is
  // that a data value does not count as owned by the manager that applied it (no apply conflicts on
  // Secret values; a later apply by another manager simply sets them).
  if (isSecret(res)) {
    const values = getOwn(config, 'data');
    if (isObject(values)) for (const k of Object.keys(values)) setOwn(values, k, '');
  }
  return config;
}

function stripOwnAnnotation(obj: KObject): void {
  const annotations = obj.metadata?.annotations;
  if (!isObject(annotations) || !hasOwn(annotations, LAST_APPLIED_ANNOTATION)) return;
  delete annotations[LAST_APPLIED_ANNOTATION];
  if (Object.keys(annotations).length === 0) delete obj.metadata.annotations;
}

/** The per-manager records kept on `obj`; an unreadable annotation counts as none. */
export function readRecords(obj: KObject): Record<string, JsonObject> {
  const raw = obj.metadata?.annotations?.[LAST_APPLIED_ANNOTATION];
  if (typeof raw !== 'string' || jsonDepthProblem(raw)) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!isObject(parsed)) return {};
    const out: Record<string, JsonObject> = {};
    for (const [manager, record] of Object.entries(parsed)) if (isObject(record)) out[manager] = record;
    return out;
  } catch {
    return {};
  }
}

function writeRecords(obj: KObject, records: Record<string, JsonObject>): void {
  if (!isObject(obj.metadata)) obj.metadata = {};
  const annotations = { ...(obj.metadata.annotations ?? {}) };
  if (Object.keys(records).length === 0) delete annotations[LAST_APPLIED_ANNOTATION];
  // Sorted, so a no-op apply writes the very same string and the object stays unchanged.
  else annotations[LAST_APPLIED_ANNOTATION] = JSON.stringify(Object.fromEntries(Object.entries(records).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  if (Object.keys(annotations).length === 0) delete obj.metadata.annotations;
  else obj.metadata.annotations = annotations;
}

function listKey(node: SchemaNode | undefined): string | undefined {
  return node?.field?.strategy === 'merge' ? node.field.key : undefined;
}
function isAtomicMap(node: SchemaNode | undefined): boolean {
  return node?.field?.strategy === 'replace';
}

/** Leaf fields of an applied configuration with their values; set members never conflict, so are skipped. */
function leaves(value: unknown, node: SchemaNode | undefined, path: Segment[], out: { path: Segment[]; value: unknown }[]): void {
  if (isObject(value) && !isAtomicMap(node)) {
    // An empty map sets nothing, so it claims nothing.
    for (const k of Object.keys(value)) leaves(value[k], node?.children.get(k), [...path, k], out);
    return;
  }
  if (Array.isArray(value) && node?.field?.strategy === 'merge') {
    const key = listKey(node);
    if (key === undefined) return;
    for (const item of value) {
      if (!isObject(item) || !hasOwn(item, key)) continue;
      for (const k of Object.keys(item)) if (k !== key) leaves(item[k], node.children.get(k), [...path, { key, value: item[key] }, k], out);
    }
    return;
  }
  out.push({ path, value });
}

function getAt(value: unknown, path: Segment[]): unknown {
  let cur = value;
  for (const seg of path) {
    if (typeof seg === 'string') {
      if (!isObject(cur)) return undefined;
      cur = getOwn(cur, seg);
    } else {
      if (!Array.isArray(cur)) return undefined;
      cur = cur.find((x) => isObject(x) && deepEqual(getOwn(x, seg.key), seg.value));
    }
  }
  return cur;
}

/** `record` without the field at `path`, dropping maps and elements it leaves empty; undefined if nothing is left. */
function removeAt(record: unknown, path: Segment[]): JsonObject | undefined {
  const out = clone(record);
  // Returns whether `cur` is left empty.
  const strip = (cur: unknown, i: number): boolean => {
    const seg = path[i];
    const last = i === path.length - 1;
    if (typeof seg === 'string') {
      if (!isObject(cur) || !hasOwn(cur, seg)) return false;
      if (last || strip(cur[seg], i + 1)) delete cur[seg];
      return Object.keys(cur).length === 0;
    }
    if (!Array.isArray(cur)) return false;
    const at = cur.findIndex((x) => isObject(x) && deepEqual(getOwn(x, seg.key), seg.value));
    if (at < 0) return false;
    const item = cur[at] as JsonObject;
    // An element left with only its merge key names nothing this manager sets any more.
    if (last || strip(item, i + 1) || Object.keys(item).every((k) => k === seg.key)) cur.splice(at, 1);
    return cur.length === 0;
  };
  return strip(out, 0) || !isObject(out) ? undefined : out;
}

function fieldPath(path: Segment[]): string {
  return path.map((seg) => (typeof seg === 'string' ? `.${seg}` : `[${seg.key}=${JSON.stringify(seg.value)}]`)).join('');
}

function findConflicts(config: JsonObject, live: JsonObject, records: Record<string, JsonObject>, schema: SchemaNode): (ApplyConflict & { path: Segment[] })[] {
  const mine: { path: Segment[]; value: unknown }[] = [];
  leaves(config, schema, [], mine);
  const out: (ApplyConflict & { path: Segment[] })[] = [];
  for (const manager of Object.keys(records).sort()) {
    for (const leaf of mine) {
      if (leaf.path[0] === 'apiVersion' || leaf.path[0] === 'kind') continue;
      const theirs = getAt(records[manager], leaf.path);
      // Theirs only while the live value is still the one they applied.
      if (theirs !== undefined && !deepEqual(theirs, leaf.value) && deepEqual(theirs, getAt(live, leaf.path))) {
        out.push({ manager, field: fieldPath(leaf.path), path: leaf.path });
      }
    }
  }
  return out;
}

function conflictError(res: Res, conflicts: ApplyConflict[]): StatusError {
  const using = (manager: string) => `${JSON.stringify(manager)} using ${res.apiVersion}`;
  let detail: string;
  if (conflicts.length === 1) {
    detail = `conflict with ${using(conflicts[0].manager)}: ${conflicts[0].field}`;
  } else {
    const lines: string[] = [];
    for (const manager of [...new Set(conflicts.map((c) => c.manager))]) {
      lines.push(`conflicts with ${using(manager)}:`);
      for (const c of conflicts) if (c.manager === manager) lines.push(`- ${c.field}`);
    }
    detail = lines.join('\n');
  }
  const n = conflicts.length;
  return new StatusError({
    code: 409,
    reason: 'Conflict',
    message: `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: ${detail}`,
    details: { causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${using(c.manager)}`, field: c.field })) },
  });
}

/**
 * The part of a manager's record it still owns: leaves whose live value is what it applied, with
 * the maps and list elements holding them (an element is kept, by its merge key, while it is live).
 */
function ownedPart(record: unknown, live: unknown, node: SchemaNode | undefined): unknown {
  if (isObject(record) && !isAtomicMap(node)) {
    if (!isObject(live)) return undefined;
    if (Object.keys(record).length === 0) return {};
    const out: JsonObject = {};
    for (const k of Object.keys(record)) {
      if (!hasOwn(live, k)) continue;
      const part = ownedPart(record[k], live[k], node?.children.get(k));
      if (part !== undefined) setOwn(out, k, part);
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  if (Array.isArray(record) && node?.field?.strategy === 'merge') {
    if (!Array.isArray(live)) return undefined;
    const key = listKey(node);
    if (key === undefined) {
      const kept = live.filter((x) => record.some((r) => deepEqual(r, x)));
      return kept.length > 0 || record.length === 0 ? kept : undefined;
    }
    const kept: JsonObject[] = [];
    // In live order, so overlaying keeps the live order of elements this manager does not name.
    for (const item of live) {
      if (!isObject(item) || !hasOwn(item, key)) continue;
      const mine = record.find((r) => isObject(r) && deepEqual(getOwn(r, key), item[key]));
      if (!isObject(mine)) continue;
      const part = ownedPart(mine, item, node);
      kept.push({ ...(isObject(part) ? part : {}), [key]: clone(item[key]) });
    }
    return kept.length > 0 || record.length === 0 ? kept : undefined;
  }
  return deepEqual(record, live) ? clone(record) : undefined;
}

/**
 * `top` laid over `base` (both parts of `live`'s shape): maps merge, merged lists merge by key (or
 * as sets), anything else `top` wins. List order: `top`'s elements in `top`'s order, elements only
 * `base` has woven in by their position in `live`, and elements new to `live` after them at the end.
 */
function overlay(base: unknown, top: unknown, live: unknown, node: SchemaNode | undefined): unknown {
  if (isObject(base) && isObject(top) && !isAtomicMap(node)) {
    const out = clone(base);
    for (const k of Object.keys(top)) {
      setOwn(out, k, hasOwn(out, k) ? overlay(out[k], top[k], isObject(live) ? getOwn(live, k) : undefined, node?.children.get(k)) : clone(top[k]));
    }
    return out;
  }
  if (Array.isArray(base) && Array.isArray(top) && node?.field?.strategy === 'merge') {
    const key = listKey(node);
    const liveList = Array.isArray(live) ? live : [];
    const same = (a: unknown, b: unknown) => indexIn([a], b, key) === 0;
    const items = top.map((item) => {
      const under = base.find((b) => same(b, item));
      const liveItem = liveList.find((l) => same(l, item));
      return { item: under === undefined ? clone(item) : overlay(under, item, liveItem, node), at: indexIn(liveList, item, key) };
    });
    const [, baseOnly] = partitionByPresence(base, top, key);
    const pending = sortByOrder(baseOnly, liveList, key).map((item) => ({ item, at: indexIn(liveList, item, key) }));
    const lastLive = items.map((x) => x.at >= 0).lastIndexOf(true);
    const out: unknown[] = [];
    items.forEach(({ item, at }, i) => {
      if (i > lastLive) return;
      if (at >= 0) while (pending.length > 0 && pending[0].at < at) out.push(pending.shift()!.item);
      out.push(item);
    });
    out.push(...pending.map((x) => x.item), ...items.slice(lastLive + 1).map((x) => x.item));
    return out;
  }
  return clone(top);
}
