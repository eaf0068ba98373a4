// The garbage collector (Kubernetes' pkg/controller/garbagecollector): cascading deletion through
// ownerReferences. Changes mark objects dirty (a deletion marks the deleted object's dependents); a pass
// (one key, so bursts collapse) runs planGC over the dirty objects plus their owners and dependents —
// the neighbourhood that decides them — and applies only the decisions about dirty objects, so a busy
// cluster with 10,000 Services costs per change, not per object. The periodic pass looks at everything.
// Decisions: dependents whose owners are gone are
// deleted (Background, or Foreground when their owner waits in foreground), dependents of owners
// deleted with propagationPolicy=Orphan lose that reference, and the `orphan`/`foregroundDeletion`
// finalizers come off once their work is done.
//
// An owner missing from the caches is confirmed with a live GET before anything is deleted (caches of
// different kinds can lag each other, above all over HTTP), and references to kinds the collector does
// not watch count as live owners: the collector never deletes what it cannot check.

import cron, { type ScheduledTask } from 'node-cron';
import type { CustomResourceDefinition, KObject, OwnerReference } from '../api/types.js';
import { R, byKind, type ResourceInfo } from '../api/resources.js';
import { Informer } from '../client/informer.js';
import { crdStorageResource, isEstablished } from '../api/crd/resources.js';
import type { Component, ComponentContext } from '../server/component.js';
import { FINALIZER_FOREGROUND, FINALIZER_ORPHAN, gcObjectOf, planGC, type GCObject, type GCPlan } from './logic/index.js';
import { QueueController, type ControllerOptions, type Startable } from '../client/controller.js';
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
  R.statefulsets,
  R.daemonsets,
  R.controllerrevisions,
  R.jobs,
  R.cronjobs,
  R.persistentvolumeclaims,
];

const PASS_KEY = 'pass';
const OWNER_INDEX = 'gc-owner-uid';
const UID_INDEX = 'gc-uid';

interface Entry {
  res: ResourceInfo;
  obj: KObject;
}

export interface GCOptions extends ControllerOptions {
  /** node-cron expression of the periodic pass (default: the server's resync schedule). */
  resyncSchedule?: string;
}

interface Source {
  res: ResourceInfo;
  inf: Informer<KObject>;
  /** Started here (a custom resource's), so stopped here when its definition goes. */
  own: boolean;
}

const groupKind = (group: string, kind: string) => `${group}/${kind}`;
const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');

export class GarbageCollector extends QueueController<ComponentContext> implements Component {
  readonly name = 'garbage-collector';
  /** The built-in kinds, then each custom resource (by group/kind) while its definition is established. */
  private sources: Source[] = [];
  private readonly custom = new Map<string, Source>();
  private handlers!: Parameters<Informer<KObject>['on']>[0];
  private cronTask?: ScheduledTask;
  /** uids to decide in the next pass; `all` after start and on the periodic resync. */
  private dirty = new Set<string>();
  private all = true;

  constructor(private readonly gcOpts: GCOptions = {}) {
    super({ workers: 1, ...gcOpts });
  }

  protected override get eventSource(): string {
    return 'garbage-collector-controller';
  }

  protected setup(ctx: ComponentContext): Startable[] {
    const mark = (obj: KObject) => {
      if (obj.metadata.uid) this.dirty.add(obj.metadata.uid);
      this.enqueue(PASS_KEY);
    };
    const relevant = (obj: KObject) => !!(obj.metadata.ownerReferences?.length || obj.metadata.deletionTimestamp);
    this.handlers = {
      // Only objects with owners (or being deleted) can need a decision when they appear.
      add: (obj) => {
        if (relevant(obj)) mark(obj);
      },
      update: (old, obj) => {
        if (!ownershipChanged(old, obj)) return;
        // An owner this object no longer names may be waiting for exactly that (orphan, foreground).
        for (const ref of old.metadata.ownerReferences ?? []) this.dirty.add(ref.uid);
        mark(obj);
      },
      // A deleted owner leaves its dependents to decide; a deleted dependent may unblock its owners.
      delete: (obj) => {
        const uid = obj.metadata.uid;
        if (!uid) return;
        for (const dep of this.byOwner(uid)) this.dirty.add(dep.obj.metadata.uid!);
        for (const ref of obj.metadata.ownerReferences ?? []) this.dirty.add(ref.uid);
        this.enqueue(PASS_KEY);
      },
    };
    this.sources = GC_RESOURCES.map((res) => ({ res, inf: indexed(ctx.informers.for<KObject>(res)).on(this.handlers), own: false }));
    // Custom resources own and are owned like any kind: watch each while its definition is established.
    const crds = ctx.informers.for<CustomResourceDefinition>(R.customresourcedefinitions);
    crds.on({ add: (c) => this.watchCustom(c), update: (_o, c) => this.watchCustom(c), delete: (c) => this.unwatchCustom(c) });
    const schedule = this.gcOpts.resyncSchedule ?? ctx.config.resyncSchedule;
    const full = () => {
      this.all = true;
      this.enqueue(PASS_KEY);
    };
    if (schedule && cron.validate(schedule)) this.cronTask = cron.schedule(schedule, full, { noOverlap: true, name: 'kubelite-gc' });
    return [...this.sources.map((s) => s.inf), crds];
  }

  private watchCustom(crd: CustomResourceDefinition): void {
    const res = isEstablished(crd) ? crdStorageResource(crd) : undefined;
    const key = groupKind(crd.spec.group, crd.spec.names.kind);
    const have = this.custom.get(key);
    if (have && res && have.res.apiVersion === res.apiVersion && have.res.plural === res.plural && have.res.namespaced === res.namespaced) return;
    if (have) this.unwatchCustom(crd);
    if (!res) return;
    const source: Source = { res, inf: indexed(new Informer<KObject>(this.client, res, { logger: this.log })).on(this.handlers), own: true };
    this.custom.set(key, source);
    this.sources.push(source);
    void source.inf.start();
  }

  private unwatchCustom(crd: CustomResourceDefinition): void {
    const key = groupKind(crd.spec.group, crd.spec.names.kind);
    const have = this.custom.get(key);
    if (!have) return;
    have.inf.stop();
    this.custom.delete(key);
    this.sources = this.sources.filter((s) => s !== have);
  }

  /** The watched resource of an owner reference's kind (any served version of a custom resource). */
  private sourceOf(ref: OwnerReference): ResourceInfo | undefined {
    const builtin = byKind(ref.apiVersion, ref.kind);
    if (builtin) return GC_RESOURCES.includes(builtin) ? builtin : undefined;
    return this.custom.get(groupKind(groupOf(ref.apiVersion), ref.kind))?.res;
  }

  override async stop(): Promise<void> {
    await this.cronTask?.destroy();
    for (const s of this.custom.values()) s.inf.stop();
    this.custom.clear();
    await super.stop();
  }

  protected async reconcile(): Promise<void> {
    const all = this.all;
    const dirty = this.dirty;
    this.all = false;
    this.dirty = new Set();
    const entries = new Map<string, Entry>();
    const add = (e: Entry | undefined) => {
      if (e?.obj.metadata.uid) entries.set(e.obj.metadata.uid, e);
    };
    if (all) {
      for (const { res, inf } of this.sources) for (const obj of inf.list()) add({ res, obj });
    } else {
      // An owner deleting in foreground (or with orphan) decides for its dependents: queue them with it,
      // as Kubernetes' collector does, so each level of a cascade goes at once instead of waiting for
      // the next periodic pass.
      for (const uid of [...dirty]) {
        const self = this.byUid(uid);
        if (self && deletingWithFinalizer(self.obj)) for (const dep of this.byOwner(uid)) if (dep.obj.metadata.uid) dirty.add(dep.obj.metadata.uid);
      }
      // The neighbourhood: each dirty object, the owners it names, and the dependents that name it.
      for (const uid of dirty) {
        const self = this.byUid(uid);
        add(self);
        for (const ref of self?.obj.metadata.ownerReferences ?? []) add(this.byUid(ref.uid));
        for (const dep of this.byOwner(uid)) add(dep);
      }
    }
    const objects: GCObject[] = [...entries.values()].map((e) => gcObjectOf(e.obj));
    // Owners of kinds we do not watch stand in as live, namespace-less objects.
    const placeholders = new Set<string>();
    for (const { obj } of entries.values()) {
      for (const ref of obj.metadata.ownerReferences ?? []) {
        if (entries.has(ref.uid) || placeholders.has(ref.uid) || this.sourceOf(ref)) continue;
        placeholders.add(ref.uid);
        objects.push({ uid: ref.uid });
      }
    }
    let plan = planGC(objects);
    if (!all) {
      // Neighbours were only context: their own fate depends on objects outside this pass.
      plan = {
        deleteDependents: plan.deleteDependents.filter((d) => dirty.has(d.uid)),
        orphanDependents: plan.orphanDependents.filter((d) => dirty.has(d.uid)),
        removeFinalizers: plan.removeFinalizers.filter((d) => dirty.has(d.uid)),
      };
    }
    // Owners a dependent names but that are missing from this pass are checked against the API by
    // apply(); give it the whole cache view of them.
    for (const d of [...plan.deleteDependents, ...plan.orphanDependents]) {
      for (const ref of entries.get(d.uid)?.obj.metadata.ownerReferences ?? []) add(this.byUid(ref.uid));
    }
    try {
      await this.apply(plan, entries);
    } catch (err) {
      for (const uid of dirty) this.dirty.add(uid);
      if (all) this.all = true;
      throw err;
    }
  }

  private byUid(uid: string): Entry | undefined {
    for (const { res, inf } of this.sources) {
      const obj = inf.byIndex(UID_INDEX, uid)[0];
      if (obj) return { res, obj };
    }
    return undefined;
  }

  private byOwner(ownerUid: string): Entry[] {
    const out: Entry[] = [];
    for (const { res, inf } of this.sources) for (const obj of inf.byIndex(OWNER_INDEX, ownerUid)) out.push({ res, obj });
    return out;
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
    if (failures.length > 0) {
      for (const uid of entries.keys()) this.dirty.add(uid);
      this.enqueueAfter(PASS_KEY, 50);
    }
  }

  private async ownerGone(ref: OwnerReference, namespace: string | undefined): Promise<boolean> {
    const res = this.sourceOf(ref) ?? byKind(ref.apiVersion, ref.kind);
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

function deletingWithFinalizer(obj: KObject): boolean {
  const f = obj.metadata.finalizers ?? [];
  return !!obj.metadata.deletionTimestamp && (f.includes(FINALIZER_FOREGROUND) || f.includes(FINALIZER_ORPHAN));
}

function indexed(inf: Informer<KObject>): Informer<KObject> {
  return inf.addIndex(OWNER_INDEX, (o) => (o.metadata.ownerReferences ?? []).map((r) => r.uid)).addIndex(UID_INDEX, (o) => (o.metadata.uid ? [o.metadata.uid] : []));
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
