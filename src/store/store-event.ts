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

export function toStoreEvent(rec: EventRecord): StoreEvent {
  const ev = { type: rec.type, resource: rec.resource, rv: rec.rv } as StoreEvent;
  lazyJson(ev, 'object', rec.json, rec.rv);
  if (rec.oldJson !== undefined) lazyJson(ev, 'oldObject', rec.oldJson, rec.oldRv);
  return ev;
}
