// Watch subscribers and the change history they resume from, shared by both backends. A watch is a
// synchronous replay (the current state, or the history after a resourceVersion) followed by live
// changes; both happen without yielding, so nothing can fall between them.

import { errors } from '../api/errors.js';
import type { ResourceInfo } from '../api/resources.js';
import type { StoreEvent, StoreWatchOptions, WatchSubscription } from './types.js';
import { EventRing, type EventRecord } from './event-ring.js';
import { toStoreEvent } from './store-event.js';
import { parseResourceVersion, resourceKey } from './keys.js';

interface Subscriber {
  resKey?: string;
  namespace?: string;
  /** Live changes at or below this rv are already known to the subscriber (it resumed from a newer rv than ours). */
  after: number;
  onEvent: (event: StoreEvent) => void;
  onClose?: (err?: Error) => void;
  active: boolean;
}

export class WatchHub {
  readonly ring: EventRing;
  /** Replaced, never mutated, so an emit loop iterates a stable snapshot. */
  private subscribers: readonly Subscriber[] = [];

  constructor(eventLogSize: number, floorRv: number) {
    this.ring = new EventRing(eventLogSize, floorRv);
  }

  get size(): number {
    return this.subscribers.length;
  }

  /**
   * Subscribes; `snapshot` gives the current state as ADDED records for `initial` watches. Throws a
   * 410 StatusError when `fromResourceVersion` is older than the kept history.
   */
  watch(
    options: StoreWatchOptions,
    onEvent: (event: StoreEvent) => void,
    onClose: ((err?: Error) => void) | undefined,
    snapshot: (resource: ResourceInfo | undefined, namespace: string | undefined) => EventRecord[],
  ): WatchSubscription {
    const resKey = options.resource ? resourceKey(options.resource) : undefined;
    const namespace = options.namespace || undefined;
    let backlog: EventRecord[] = [];
    let after = -Infinity;
    if (options.initial) {
      if (options.fromResourceVersion !== undefined) parseWatchRv(options.fromResourceVersion);
      backlog = snapshot(options.resource, namespace);
    } else if (options.fromResourceVersion !== undefined) {
      const from = parseWatchRv(options.fromResourceVersion);
      if (from < this.ring.floor) throw errors.gone(`too old resource version: ${from} (${this.ring.floor})`);
      backlog = this.ring.since(from).filter((r) => matches(resKey, namespace, r));
      after = from;
    }
    const sub: Subscriber = { resKey, namespace, after, onEvent, onClose, active: true };
    this.subscribers = [...this.subscribers, sub];
    for (const rec of backlog) {
      if (!sub.active || !this.deliver(sub, rec)) break;
    }
    return { stop: () => this.unsubscribe(sub) };
  }

  /** Records a change in the history and hands it to every matching subscriber. */
  publish(rec: EventRecord): void {
    this.ring.push(rec);
    for (const sub of this.subscribers) {
      if (sub.active && rec.rv > sub.after && matches(sub.resKey, sub.namespace, rec)) this.deliver(sub, rec);
    }
  }

  /** Ends every subscription: with `err` they are told why (and re-list); without it they are just dropped. */
  closeAll(err?: Error): void {
    const subs = this.subscribers;
    this.subscribers = [];
    for (const s of subs) {
      if (!s.active) continue;
      s.active = false;
      if (err) {
        try {
          s.onClose?.(err);
        } catch {
          // The subscriber's own failure; the others must still be told.
        }
      }
    }
  }

  /** False when the subscriber threw and was dropped. */
  private deliver(sub: Subscriber, rec: EventRecord): boolean {
    try {
      sub.onEvent(toStoreEvent(rec));
      return true;
    } catch {
      // The watcher (e.g. an HTTP stream that went away) owns its failure; the store just stops feeding it.
      this.unsubscribe(sub);
      return false;
    }
  }

  private unsubscribe(sub: Subscriber): void {
    if (!sub.active) return;
    sub.active = false;
    this.subscribers = this.subscribers.filter((s) => s !== sub);
  }
}

function parseWatchRv(rv: string): number {
  const n = parseResourceVersion(rv);
  if (n === undefined) throw errors.badRequest(`invalid resource version: ${JSON.stringify(rv)}`);
  return n;
}

function matches(resKey: string | undefined, namespace: string | undefined, rec: EventRecord): boolean {
  return (resKey === undefined || resKey === rec.resKey) && (namespace === undefined || namespace === rec.namespace);
}
