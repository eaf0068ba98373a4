// The garbage collector (Kubernetes' pkg/controller/garbagecollector): cascading deletion through
// ownerReferences. Every pass runs planGC over the ownership facts of all watched objects (one key,
// so bursts of changes collapse into one pass) and applies it: dependents whose owners are gone are
// deleted (Background, or Foreground when their owner waits in foreground), dependents of owners
// deleted with propagationPolicy=Orphan lose that reference, and the `orphan`/`foregroundDeletion`
// finalizers come off once their work is done.
//
// An owner missing from the caches is confirmed with a live GET before anything is deleted (caches of
// different kinds can lag each other, above all over HTTP), and references to kinds the collector does
// not watch count as live owners: the collector never deletes what it cannot check.

import cron, { type ScheduledTask } from 'node-cron';
import type { KObject, OwnerReference } from '../api/types.js';
import { R, byKind, type ResourceInfo } from '../api/resources.js';
import type { Informer } from '../client/informer.js';
import type { ComponentContext } from '../server/component.js';
import { gcObjectOf, planGC, type GCObject, type GCPlan } from './logic/index.js';
import { QueueController, type ControllerOptions } from './controller.js';
import { errorMessage, isConflict, isNotFound } from './shared.js';

/** Kinds that own or are owned in kubelite (Events are left to their TTL). */
export const GC_RESOURCES: readonly ResourceInfo[] = [
  R.deployments,
  R.replicasets,
  R.pods,
  R.services,
  R.endpoints,
  R.endpointslices,
  R.configmaps,
  R.secrets,
  R.ingresses,
];

const PASS_KEY = 'pass';

interface Entry {
  res: ResourceInfo;
  obj: KObject;
}

export interface GCOptions extends ControllerOptions {
  /** node-cron expression of the periodic pass (default: the server's resync schedule). */
  resyncSchedule?: string;
}

export class GarbageCollector extends QueueController {
  readonly name = 'garbage-collector';
  private informers: Informer<KObject>[] = [];
  private cronTask?: ScheduledTask;

  constructor(private readonly gcOpts: GCOptions = {}) {
    super({ workers: 1, ...gcOpts });
  }

  protected override get eventSource(): string {
    return 'garbage-collector-controller';
  }

  protected setup(ctx: ComponentContext): Informer<KObject>[] {
    const kick = () => this.enqueue(PASS_KEY);
    this.informers = GC_RESOURCES.map((res) =>
      ctx.informers.for<KObject>(res).on({
        add: kick,
        update: (old, obj) => {
          if (ownershipChanged(old, obj)) kick();
        },
        delete: kick,
      }),
    );
    const schedule = this.gcOpts.resyncSchedule ?? ctx.config.resyncSchedule;
    if (schedule && cron.validate(schedule)) this.cronTask = cron.schedule(schedule, kick, { noOverlap: true, name: 'kubelite-gc' });
    return this.informers;
  }

  override async stop(): Promise<void> {
    await this.cronTask?.destroy();
    await super.stop();
  }

  protected async reconcile(): Promise<void> {
    const entries = new Map<string, Entry>();
    const objects: GCObject[] = [];
    this.informers.forEach((inf, i) => {
      for (const obj of inf.list()) {
        const uid = obj.metadata.uid;
        if (!uid) continue;
        entries.set(uid, { res: GC_RESOURCES[i], obj });
        objects.push(gcObjectOf(obj));
      }
    });
    // Owners of kinds we do not watch stand in as live, namespace-less objects.
    const placeholders = new Set<string>();
    for (const { obj } of entries.values()) {
      for (const ref of obj.metadata.ownerReferences ?? []) {
        if (entries.has(ref.uid) || placeholders.has(ref.uid) || isWatchedKind(ref)) continue;
        placeholders.add(ref.uid);
        objects.push({ uid: ref.uid });
      }
    }
    const plan = planGC(objects);
    await this.apply(plan, entries);
  }

  private async apply(plan: GCPlan, entries: Map<string, Entry>): Promise<void> {
    const verified = new Map<string, Promise<boolean>>();
    /** True when the owner is really gone (absent under that uid), checked against the API. */
    const gone = (ref: OwnerReference, namespace: string | undefined): Promise<boolean> => {
      let p = verified.get(ref.uid);
      if (!p) verified.set(ref.uid, (p = this.ownerGone(ref, namespace)));
      return p;
    };
    /** Owner references of `obj` not in the caches must all be confirmed gone. */
    const danglingConfirmed = async (obj: KObject, ownerUids?: string[]): Promise<boolean> => {
      for (const ref of obj.metadata.ownerReferences ?? []) {
        if (ownerUids && !ownerUids.includes(ref.uid)) continue;
        // An owner in the caches counts when it could own this object (cluster-scoped or same namespace).
        const cached = entries.get(ref.uid)?.obj.metadata.namespace;
        if (entries.has(ref.uid) && (!cached || cached === obj.metadata.namespace)) continue;
        if (!(await gone(ref, obj.metadata.namespace))) return false;
      }
      return true;
    };

    const failures: unknown[] = [];
    const attempt = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err)) this.log.warn({ err: errorMessage(err), what }, 'garbage collection step failed');
        failures.push(err);
      }
    };

    for (const o of plan.orphanDependents) {
      const e = entries.get(o.uid);
      if (!e) continue;
      await attempt(`orphan ${e.res.plural}/${e.obj.metadata.name}`, async () => {
        if (!(await danglingConfirmed(e.obj, o.ownerUids))) return;
        const refs = (e.obj.metadata.ownerReferences ?? []).filter((r) => !o.ownerUids.includes(r.uid));
        await this.client.patch(e.res, e.obj.metadata.namespace, e.obj.metadata.name!, 'merge', {
          metadata: { ownerReferences: refs.length ? refs : null, uid: e.obj.metadata.uid, resourceVersion: e.obj.metadata.resourceVersion },
        });
      });
    }

    for (const d of plan.deleteDependents) {
      const e = entries.get(d.uid);
      if (!e) continue;
      await attempt(`delete ${e.res.plural}/${e.obj.metadata.name}`, async () => {
        if (!(await danglingConfirmed(e.obj))) return;
        this.log.debug({ kind: e.obj.kind, namespace: e.obj.metadata.namespace, name: e.obj.metadata.name, propagationPolicy: d.propagationPolicy }, 'deleting object whose owners are gone');
        await this.client.delete(e.res, e.obj.metadata.namespace, e.obj.metadata.name!, { propagationPolicy: d.propagationPolicy, preconditions: { uid: e.obj.metadata.uid } });
      });
    }

    for (const f of plan.removeFinalizers) {
      const e = entries.get(f.uid);
      if (!e) continue;
      await attempt(`finalize ${e.res.plural}/${e.obj.metadata.name}`, async () => {
        const finalizers = (e.obj.metadata.finalizers ?? []).filter((x) => x !== f.finalizer);
        await this.client.patch(e.res, e.obj.metadata.namespace, e.obj.metadata.name!, 'merge', {
          metadata: { finalizers: finalizers.length ? finalizers : null, uid: e.obj.metadata.uid, resourceVersion: e.obj.metadata.resourceVersion },
        });
      });
    }

    // A conflict means the cache was behind: look again shortly. Anything else backs off.
    const hard = failures.filter((e) => !isConflict(e));
    if (hard.length > 0) throw hard[0];
    if (failures.length > 0) this.queue.addAfter(PASS_KEY, 50);
  }

  private async ownerGone(ref: OwnerReference, namespace: string | undefined): Promise<boolean> {
    const res = byKind(ref.apiVersion, ref.kind);
    if (!res) return false;
    try {
      const owner = await this.client.get(res, res.namespaced ? namespace : undefined, ref.name);
      return owner.metadata.uid !== ref.uid;
    } catch (err) {
      if (isNotFound(err)) return true;
      throw err;
    }
  }
}

function isWatchedKind(ref: OwnerReference): boolean {
  const res = byKind(ref.apiVersion, ref.kind);
  return !!res && GC_RESOURCES.includes(res);
}

/** Only ownership facts matter to the collector; status churn (pod readiness) does not. */
function ownershipChanged(old: KObject, obj: KObject): boolean {
  const a = old.metadata;
  const b = obj.metadata;
  return (
    a.deletionTimestamp !== b.deletionTimestamp ||
    JSON.stringify(a.ownerReferences ?? []) !== JSON.stringify(b.ownerReferences ?? []) ||
    JSON.stringify(a.finalizers ?? []) !== JSON.stringify(b.finalizers ?? [])
  );
}
