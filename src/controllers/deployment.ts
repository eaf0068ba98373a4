// The Deployment controller (Kubernetes' pkg/controller/deployment): owns ReplicaSets by pod-template
// hash and rolls a changed template out with maxSurge/maxUnavailable or Recreate. planRollout decides
// one safe step from the caches; this loop applies it in the documented order (create the new
// ReplicaSet, scale, delete old revisions, then the Deployment's revision annotation and status) and
// runs again on the next change of the Deployment, its ReplicaSets or their pods.
//
// Every ReplicaSet write carries the resourceVersion the plan was made from, so a plan computed from a
// stale view fails with a conflict and is recomputed instead of being applied.

import type { Deployment, DeploymentStatus, Pod, ReplicaSet } from '../api/types.js';
import { R } from '../api/resources.js';
import { labelSelectorMatcher } from '../api/selectors.js';
import { objectKey } from '../api/keys.js';
import type { Informer } from '../client/informer.js';
import type { Component, ComponentContext } from '../server/component.js';
import {
  claimReplicaSets,
  controllerRef,
  equalIgnoreHash,
  planRollout,
  podsByReplicaSet,
  withOwnerRef,
  withoutOwnerRef,
  type RolloutPlan,
} from './logic/index.js';
import { QueueController, type ControllerOptions, type Startable } from '../client/controller.js';
import { CONTROLLER_INDEX, NAMESPACE_INDEX, boundedAll, indexByController, indexByNamespace, isAlreadyExists, isNotFound } from './shared.js';

export class DeploymentController extends QueueController<ComponentContext> implements Component {
  readonly name = 'deployment-controller';
  private dInf!: Informer<Deployment>;
  private rsInf!: Informer<ReplicaSet>;
  private podInf!: Informer<Pod>;

  constructor(opts: ControllerOptions = {}) {
    super({ workers: 4, ...opts });
  }

  protected setup(ctx: ComponentContext): Startable[] {
    this.dInf = indexByNamespace(ctx.informers.for<Deployment>(R.deployments));
    this.rsInf = indexByNamespace(ctx.informers.for<ReplicaSet>(R.replicasets));
    this.podInf = indexByController(indexByNamespace(ctx.informers.for<Pod>(R.pods)));
    this.dInf.on({
      add: (d) => this.enqueue(objectKey(d)),
      update: (_o, d) => this.enqueue(objectKey(d)),
      delete: (d) => this.enqueue(objectKey(d)),
    });
    this.rsInf.on({
      add: (rs) => this.replicaSetChanged(undefined, rs),
      update: (old, rs) => this.replicaSetChanged(old, rs),
      delete: (rs) => this.enqueueOwner(rs),
    });
    // Availability comes from the pods (not from ReplicaSet status), so their readiness drives syncs.
    const podChanged = (pod: Pod) => {
      const rs = this.ownerOf(this.rsInf, 'ReplicaSet', pod);
      if (rs) this.enqueueOwner(rs);
    };
    this.podInf.on({ add: podChanged, update: (_o, p) => podChanged(p), delete: podChanged });
    return [this.dInf, this.rsInf, this.podInf];
  }

  // ---------------------------------------------------------------- event handlers

  private ownerOf<T extends ReplicaSet | Deployment>(inf: Informer<T>, kind: string, obj: Pod | ReplicaSet): T | undefined {
    const ref = controllerRef(obj);
    if (!ref || ref.kind !== kind) return undefined;
    const owner = inf.get(obj.metadata.namespace, ref.name);
    return owner && owner.metadata.uid === ref.uid ? owner : undefined;
  }

  private enqueueOwner(rs: ReplicaSet): void {
    const d = this.ownerOf(this.dInf, 'Deployment', rs);
    if (d) this.enqueue(objectKey(d));
  }

  private replicaSetChanged(old: ReplicaSet | undefined, rs: ReplicaSet): void {
    if (old && old.metadata.resourceVersion === rs.metadata.resourceVersion) return;
    if (old && controllerRef(old)?.uid !== controllerRef(rs)?.uid) this.enqueueOwner(old);
    if (controllerRef(rs)) return this.enqueueOwner(rs);
    // An orphan: every Deployment whose selector matches may adopt it.
    const labelsChanged = !old || JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(rs.metadata.labels ?? {}) || !!controllerRef(old);
    if (!labelsChanged) return;
    for (const d of this.dInf.byIndex(NAMESPACE_INDEX, rs.metadata.namespace ?? '')) {
      if (labelSelectorMatcher(d.spec.selector)(rs.metadata.labels)) this.enqueue(objectKey(d));
    }
  }

  // ---------------------------------------------------------------- reconcile

  protected async reconcile(key: string): Promise<void> {
    const d = this.dInf.getByKey(key);
    if (!d) return;
    const owned = await this.claim(d);
    const pods: Pod[] = [];
    for (const rs of owned) if (rs.metadata.uid) pods.push(...this.podInf.byIndex(CONTROLLER_INDEX, rs.metadata.uid));
    const plan = planRollout(d, owned, podsByReplicaSet(owned, pods), this.now());
    await this.apply(d, owned, plan);
    if (plan.requeueAfterSeconds !== undefined) this.enqueueAfter(key, plan.requeueAfterSeconds * 1000);
  }

  private async claim(d: Deployment): Promise<ReplicaSet[]> {
    const ns = d.metadata.namespace;
    const c = claimReplicaSets(d, this.rsInf.byIndex(NAMESPACE_INDEX, ns ?? ''));
    if (c.adopt.length === 0 && c.release.length === 0) return c.claimed;
    const skip = new Set<ReplicaSet>();
    if (c.adopt.length > 0) {
      const fresh = await this.client.get<Deployment>(R.deployments, ns, d.metadata.name!);
      if (fresh.metadata.uid !== d.metadata.uid) throw new Error(`original Deployment ${objectKey(d)} is gone: got uid ${fresh.metadata.uid}, wanted ${d.metadata.uid}`);
      if (fresh.metadata.deletionTimestamp) throw new Error(`Deployment ${objectKey(d)} is being deleted; not adopting`);
      const results = await boundedAll(c.adopt, 8, (rs) =>
        this.client.patch(R.replicasets, ns, rs.metadata.name!, 'merge', {
          metadata: { ownerReferences: withOwnerRef(rs, d), uid: rs.metadata.uid, resourceVersion: rs.metadata.resourceVersion },
        }),
      );
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') return;
        if (!isNotFound(r.reason)) throw r.reason;
        skip.add(c.adopt[i]);
      });
    }
    const released = await boundedAll(c.release, 8, (rs) => {
      const refs = withoutOwnerRef(rs, d.metadata.uid!);
      return this.client.patch(R.replicasets, ns, rs.metadata.name!, 'merge', {
        metadata: { ownerReferences: refs.length ? refs : null, uid: rs.metadata.uid, resourceVersion: rs.metadata.resourceVersion },
      });
    });
    for (const r of released) if (r.status === 'rejected' && !isNotFound(r.reason)) throw r.reason;
    return c.claimed.filter((rs) => !skip.has(rs));
  }

  private async apply(d: Deployment, owned: ReplicaSet[], plan: RolloutPlan): Promise<void> {
    const ns = d.metadata.namespace;
    if (plan.create) {
      try {
        await this.client.create(R.replicasets, plan.create);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        await this.collision(d, plan);
        return;
      }
    }
    const byName = new Map(owned.map((rs) => [rs.metadata.name, rs]));
    // In order: a scale-up of the new ReplicaSet precedes the scale-down of old ones it allows.
    for (const u of plan.scale) {
      const rs = byName.get(u.rs);
      if (!rs) continue;
      const spec: Record<string, unknown> = { replicas: u.replicas };
      if (u.minReadySeconds !== undefined) spec.minReadySeconds = u.minReadySeconds;
      const metadata: Record<string, unknown> = { uid: rs.metadata.uid, resourceVersion: rs.metadata.resourceVersion };
      if (u.annotations) metadata.annotations = u.annotations;
      await this.client.patch(R.replicasets, ns, u.rs, 'merge', { metadata, spec });
    }
    for (const name of plan.deleteOld) {
      const rs = byName.get(name);
      try {
        await this.client.delete(R.replicasets, ns, name, { preconditions: { uid: rs?.metadata.uid, resourceVersion: rs?.metadata.resourceVersion } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    for (const ev of plan.events) this.recorder.record(d, ev.type, ev.reason, ev.message);
    if (plan.annotations) await this.writeAnnotations(d, plan.annotations);
    if (plan.statusChanged) await this.writeStatus(d, plan.status);
  }

  /**
   * The new ReplicaSet's name is taken. If it is ours with this template the cache was behind (a sync
   * before a restart created it): look again. Otherwise bump collisionCount so the next plan hashes to
   * another name, as Kubernetes does.
   */
  private async collision(d: Deployment, plan: RolloutPlan): Promise<void> {
    const name = plan.create!.metadata.name!;
    let existing: ReplicaSet | undefined;
    try {
      existing = await this.client.get<ReplicaSet>(R.replicasets, d.metadata.namespace, name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (existing && controllerRef(existing)?.uid === d.metadata.uid && equalIgnoreHash(existing.spec.template, d.spec.template)) {
      this.enqueueAfter(objectKey(d), 100);
      return;
    }
    if (!existing) {
      this.enqueueAfter(objectKey(d), 100);
      return;
    }
    const status: DeploymentStatus = { ...(d.status ?? {}), collisionCount: (d.status?.collisionCount ?? 0) + 1 };
    this.log.info({ deployment: objectKey(d), replicaSet: name, collisionCount: status.collisionCount }, 'ReplicaSet name collision; bumping collisionCount');
    await this.writeStatus(d, status);
  }

  /** The revision annotation lives in metadata, which the status subresource ignores: patch the main resource. */
  private async writeAnnotations(d: Deployment, annotations: Record<string, string>): Promise<void> {
    const current = d.metadata.annotations ?? {};
    const diff: Record<string, string> = {};
    for (const [k, v] of Object.entries(annotations)) if (current[k] !== v) diff[k] = v;
    if (Object.keys(diff).length === 0) return;
    try {
      await this.client.patch(R.deployments, d.metadata.namespace, d.metadata.name!, 'merge', { metadata: { annotations: diff, uid: d.metadata.uid } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async writeStatus(d: Deployment, status: DeploymentStatus): Promise<void> {
    try {
      await this.client.update<Deployment>(
        R.deployments,
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: d.metadata.name, namespace: d.metadata.namespace, uid: d.metadata.uid }, spec: d.spec, status },
        { subresource: 'status' },
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
