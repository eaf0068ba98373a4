// The namespace controller (Kubernetes' pkg/controller/namespace): a Namespace being deleted is
// emptied (every namespaced object deleted; Pods gracefully, so their node stops them first), and once
// nothing is left the `kubernetes` finalizer comes off through the `finalize` subresource, which lets
// the registry remove the Namespace. It also expires Events after their TTL (kube-apiserver's
// --event-ttl, 1 h by default), since nothing else ever deletes them.

import cron, { type ScheduledTask } from 'node-cron';
import type { CustomResourceDefinition, Event, KObject, Namespace } from '../api/types.js';
import { crdStorageResource, isEstablished } from '../api/crd/resources.js';
import { R, RESOURCES, REVIEW_GROUPS } from '../api/resources.js';
import type { Informer } from '../client/informer.js';
import type { Component, ComponentContext } from '../server/component.js';
import { parseTime } from './logic/time.js';
import { QueueController, type ControllerOptions, type Startable } from '../client/controller.js';
import { errorMessage, isConflict, isNotFound } from './shared.js';

export const FINALIZER_KUBERNETES = 'kubernetes';
export const DEFAULT_EVENT_TTL_SECONDS = 3600;
/**
 * Kubernetes' namespaceDeletionGracePeriod: the controller starts emptying a deleted namespace this
 * long after it sees the deletion. A client deleting a manifest that lists its Namespace first
 * (`kubectl delete -f app.yaml`) deletes the rest itself within that time, instead of getting a 404
 * for objects the controller removed a few milliseconds after the Namespace.
 */
export const NAMESPACE_DELETION_GRACE_PERIOD_MS = 5000;

export interface NamespaceControllerOptions extends ControllerOptions {
  /** Events older than this are deleted (default 1 h). */
  eventTTLSeconds?: number;
  /** node-cron expression of the Event sweep (default every minute). */
  eventSweepSchedule?: string;
  /** Wait before emptying a deleted namespace (default NAMESPACE_DELETION_GRACE_PERIOD_MS). */
  deletionGracePeriodMs?: number;
}

/** Namespaced kinds in the order their objects are removed: owners first, so nothing is re-created. */
function namespacedResources() {
  const first = [R.deployments, R.replicasets];
  // Reviews are never stored: there is nothing of theirs to delete.
  return [...first, ...RESOURCES.filter((r) => r.namespaced && !first.includes(r) && !REVIEW_GROUPS.has(r.group))];
}

/** When an Event last happened, for its TTL. */
export function eventTime(ev: Event): number | undefined {
  return parseTime(ev.lastTimestamp) ?? parseTime(ev.eventTime ?? undefined) ?? parseTime(ev.firstTimestamp) ?? parseTime(ev.metadata.creationTimestamp);
}

/** The Events whose TTL has passed at `now`. */
export function expiredEvents(events: readonly Event[], ttlSeconds: number, now: Date): Event[] {
  const cutoff = now.getTime() - ttlSeconds * 1000;
  return events.filter((ev) => {
    const t = eventTime(ev);
    return t !== undefined && t < cutoff;
  });
}

export class NamespaceController extends QueueController<ComponentContext> implements Component {
  readonly name = 'namespace-controller';
  private nsInf!: Informer<Namespace>;
  private crdInf!: Informer<CustomResourceDefinition>;
  private cronTask?: ScheduledTask;
  private readonly attempts = new Map<string, number>();

  constructor(private readonly nsOpts: NamespaceControllerOptions = {}) {
    super({ workers: 2, ...nsOpts });
  }

  protected setup(ctx: ComponentContext): Startable[] {
    this.nsInf = ctx.informers.for<Namespace>(R.namespaces);
    // As upstream, every event of a terminating namespace is looked at after the grace period.
    const grace = this.nsOpts.deletionGracePeriodMs ?? NAMESPACE_DELETION_GRACE_PERIOD_MS;
    const maybe = (ns: Namespace) => {
      if (ns.metadata.deletionTimestamp) this.enqueueAfter(ns.metadata.name!, grace);
    };
    this.nsInf.on({ add: maybe, update: (_o, ns) => maybe(ns), delete: (ns) => this.attempts.delete(ns.metadata.name!) });
    const schedule = this.nsOpts.eventSweepSchedule ?? '0 * * * * *';
    if (cron.validate(schedule)) {
      this.cronTask = cron.schedule(
        schedule,
        () => this.sweepEvents().catch((err) => this.log.warn({ err: errorMessage(err) }, 'event TTL sweep failed')),
        { noOverlap: true, name: 'kubelite-event-ttl' },
      );
    }
    // Custom resources in the namespace go with it too.
    this.crdInf = ctx.informers.for<CustomResourceDefinition>(R.customresourcedefinitions);
    return [this.nsInf, this.crdInf];
  }

  override async stop(): Promise<void> {
    await this.cronTask?.destroy();
    await super.stop();
  }

  protected async reconcile(name: string): Promise<void> {
    const ns = this.nsInf.get(undefined, name);
    if (!ns?.metadata.deletionTimestamp) return;
    if (!(ns.spec?.finalizers ?? []).includes(FINALIZER_KUBERNETES)) return;
    const remaining = await this.deleteContent(name);
    if (remaining > 0) {
      // Pods stop gracefully on their nodes; look again with a growing delay rather than spinning.
      const n = (this.attempts.get(name) ?? 0) + 1;
      this.attempts.set(name, n);
      this.enqueueAfter(name, Math.min(250 * 2 ** (n - 1), 5000));
      return;
    }
    this.attempts.delete(name);
    const next = structuredClone(ns);
    next.spec = { ...(next.spec ?? {}), finalizers: (ns.spec?.finalizers ?? []).filter((f) => f !== FINALIZER_KUBERNETES) };
    try {
      await this.client.update<Namespace>(R.namespaces, next, { subresource: 'finalize' });
      this.log.info({ namespace: name }, 'namespace emptied and finalized');
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }

  /** Deletes what is left in the namespace; returns how many objects still exist. */
  private async deleteContent(namespace: string): Promise<number> {
    let remaining = 0;
    const failures: unknown[] = [];
    const custom = this.crdInf
      .list()
      .map((c) => (isEstablished(c) ? crdStorageResource(c) : undefined))
      .filter((r): r is NonNullable<typeof r> => !!r && r.namespaced);
    for (const res of [...namespacedResources(), ...custom]) {
      const list = await this.client.list<KObject>(res, { namespace });
      for (const obj of list.items) {
        remaining++;
        if (obj.metadata.deletionTimestamp) continue;
        try {
          await this.client.delete(res, namespace, obj.metadata.name!, { preconditions: { uid: obj.metadata.uid } });
        } catch (err) {
          if (!isNotFound(err) && !isConflict(err)) failures.push(err);
        }
      }
    }
    if (failures.length > 0) throw failures[0];
    return remaining;
  }

  /** Deletes Events older than the TTL; returns how many. */
  async sweepEvents(now: Date = this.now()): Promise<number> {
    const ttl = this.nsOpts.eventTTLSeconds ?? DEFAULT_EVENT_TTL_SECONDS;
    const list = await this.client.list<Event>(R.events);
    let n = 0;
    for (const ev of expiredEvents(list.items, ttl, now)) {
      try {
        await this.client.delete(R.events, ev.metadata.namespace, ev.metadata.name!, { preconditions: { uid: ev.metadata.uid } });
        n++;
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
    if (n > 0) this.log.debug({ deleted: n }, 'expired events deleted');
    return n;
  }
}
