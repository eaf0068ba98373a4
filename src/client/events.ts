// Records core/v1 Events the way Kubernetes' recorder does: the same (object, type, reason, message)
// within the aggregation window bumps `count` and `lastTimestamp` on one Event instead of piling up new
// ones, so a crash-looping Pod does not flood the store.

import type { Event, KObject, ObjectReference } from '../api/types.js';
import { R } from '../api/resources.js';
import type { ApiClient } from './types.js';

import type { LeveledLogger } from '../util/log.js';

type Logger = Pick<LeveledLogger, 'warn'>;

interface Seen {
  name: string;
  namespace: string;
  count: number;
  first: string;
  at: number;
}

const WINDOW_MS = 10 * 60 * 1000;
const MAX_TRACKED = 4096;

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly client: ApiClient,
    private readonly component: string,
    private readonly host?: string,
    private readonly logger?: Logger,
  ) {}

  normal(obj: KObject, reason: string, message: string): void {
    this.record(obj, 'Normal', reason, message);
  }

  warning(obj: KObject, reason: string, message: string): void {
    this.record(obj, 'Warning', reason, message);
  }

  /** Fire-and-forget: an Event that fails to be written must never fail the caller's work. */
  record(obj: KObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    void this.write(obj, type, reason, message).catch((err) => this.logger?.warn({ err: String(err), reason }, 'could not record event'));
  }

  async write(obj: KObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const ref = referenceTo(obj);
    const namespace = obj.metadata.namespace || 'default';
    const key = `${ref.uid}|${type}|${reason}|${message}`;
    const now = new Date();
    const ts = now.toISOString().replace(/\.\d+Z$/, 'Z');
    const prev = this.seen.get(key);
    if (prev && now.getTime() - prev.at < WINDOW_MS) {
      prev.count++;
      prev.at = now.getTime();
      try {
        await this.client.patch(R.events, prev.namespace, prev.name, 'merge', { count: prev.count, lastTimestamp: ts });
        return;
      } catch {
        // The event was deleted (TTL) — fall through and create a fresh one.
      }
    }
    const name = `${obj.metadata.name}.${(now.getTime() * 1e3 + Math.floor(Math.random() * 1e3)).toString(16)}`;
    const ev: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: ref,
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: ts,
      lastTimestamp: ts,
      source: { component: this.component, host: this.host },
      reportingComponent: this.component,
      reportingInstance: this.host ?? '',
    };
    await this.client.create(R.events, ev);
    if (this.seen.size >= MAX_TRACKED) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(key, { name, namespace, count: 1, first: ts, at: now.getTime() });
  }
}

export function referenceTo(obj: KObject, fieldPath?: string): ObjectReference {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    namespace: obj.metadata.namespace,
    name: obj.metadata.name,
    uid: obj.metadata.uid,
    resourceVersion: obj.metadata.resourceVersion,
    ...(fieldPath ? { fieldPath } : {}),
  };
}
