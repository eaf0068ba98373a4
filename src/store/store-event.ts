// Watch events handed to subscribers. Each subscriber gets its own objects (it may mutate them), but
// they are parsed from the stored JSON only when read: an informer that never looks at `oldObject`
// never pays for it. The accessors are own enumerable properties so `{ ...event }` and
// JSON.stringify(event) still see `object`/`oldObject`.

import type { KObject } from '../api/types.js';
import type { StoreEvent } from './types.js';
import type { EventRecord } from './event-ring.js';

function lazyJson(target: object, key: 'object' | 'oldObject', json: string, rv: number | undefined): void {
  let value: KObject | undefined;
  let parsed = false;
  Object.defineProperty(target, key, {
    enumerable: true,
    configurable: true,
    get(): KObject | undefined {
      if (!parsed) {
        value = JSON.parse(json) as KObject;
        // The record's rv is the truth: the etcd store keeps resourceVersion out of stored values.
        if (rv !== undefined && value?.metadata) value.metadata.resourceVersion = String(rv);
        parsed = true;
      }
      return value;
    },
    set(v: KObject | undefined) {
      value = v;
      parsed = true;
    },
  });
}

/**
 * The record's object as JSON with metadata.resourceVersion = the record's rv. LevelDB stores objects
 * stamped with it already; etcd's values leave it out (it is the key's mod_revision), and a DELETED
 * event carries the deletion's revision: then the object is parsed and stamped, once per record.
 */
function stampedObjectJson(rec: EventRecord): string {
  if (rec.json.includes(`"resourceVersion":"${rec.rv}"`)) return rec.json;
  const obj = JSON.parse(rec.json) as KObject;
  if (obj?.metadata) obj.metadata.resourceVersion = String(rec.rv);
  return JSON.stringify(obj);
}

/** Watch lines already encoded per record: one encoding serves every watcher of the event. */
const encoded = new WeakMap<EventRecord, Map<string, Buffer>>();

/** `{"type":T,"object":<stored JSON>}\n`, encoded once per record and type and shared (never mutate it). */
export function watchLine(rec: EventRecord, type: string): Buffer {
  let byType = encoded.get(rec);
  if (!byType) encoded.set(rec, (byType = new Map()));
  let line = byType.get(type);
  if (!line) byType.set(type, (line = Buffer.from(`{"type":${JSON.stringify(type)},"object":${stampedObjectJson(rec)}}\n`)));
  return line;
}

export function toStoreEvent(rec: EventRecord): StoreEvent {
  const ev = { type: rec.type, resource: rec.resource, rv: rec.rv } as StoreEvent;
  lazyJson(ev, 'object', rec.json, rec.rv);
  if (rec.oldJson !== undefined) lazyJson(ev, 'oldObject', rec.oldJson, rec.oldRv);
  // Not enumerable: `{ ...event }` and JSON.stringify(event) stay as they were.
  Object.defineProperty(ev, 'watchLine', { value: (type: string) => watchLine(rec, type), enumerable: false });
  return ev;
}
