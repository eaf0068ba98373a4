// The ReplicaSet controller (Kubernetes' pkg/controller/replicaset): keeps exactly spec.replicas active
// pods per ReplicaSet. The decisions are logic/replicaset.ts and logic/adopt.ts; this loop claims pods
// (adopting orphans, releasing pods whose labels moved away), creates and deletes pods in bounded
// batches, keeps expectations so a lagging cache never makes it act twice, and writes status.

import type { Pod, ReplicaSet, ReplicaSetStatus } from '../api/types.js';
import { R } from '../api/resources.js';
import { labelSelectorMatcher } from '../api/selectors.js';
import { objectKey } from '../api/keys.js';
import type { Informer } from '../client/informer.js';
import type { Component, ComponentContext } from '../server/component.js';
import {
  Expectations,
  claimPods,
  controllerRef,
  podFromTemplate,
  reconcileReplicaSet,
  replicaSetStatus,
  statusEqual,
  withOwnerRef,
  withoutOwnerRef,
  type ManageError,
  BURST_REPLICAS,
} from './logic/index.js';
import { QueueController, type ControllerOptions, type Startable } from '../client/controller.js';
import { NAMESPACE_INDEX, boundedAll, errorMessage, indexByController, indexByNamespace, isNamespaceTerminating, isNotFound, slowStartBatch } from './shared.js';

/** Pod deletions run in parallel up to this many at once. */
const DELETE_PARALLELISM = 16;
/**
 * Pod deletions of one sync (at most BURST_REPLICAS) are issued together, as Kubernetes' controller
 * does (one goroutine each): the store commits concurrent writes as one group, so a scale-down of
 * thousands of Pods goes at the rate of creating them instead of 16 round trips at a time.
 */
const POD_DELETE_PARALLELISM = BURST_REPLICAS;

export class ReplicaSetController extends QueueController<ComponentContext> implements Component {
  readonly name = 'replicaset-controller';
  private readonly expectations = new Expectations();
  private rsInf!: Informer<ReplicaSet>;
  private podInf!: Informer<Pod>;

  constructor(opts: ControllerOptions = {}) {
    super({ workers: 4, ...opts });
  }

  protected setup(ctx: ComponentContext): Startable[] {
    this.rsInf = indexByNamespace(ctx.informers.for<ReplicaSet>(R.replicasets));
    this.podInf = indexByController(indexByNamespace(ctx.informers.for<Pod>(R.pods)));
    this.rsInf.on({
      add: (rs) => this.enqueue(objectKey(rs)),
      update: (_old, rs) => this.enqueue(objectKey(rs)),
      delete: (rs) => {
        this.expectations.forget(objectKey(rs));
        this.enqueue(objectKey(rs));
      },
    });
    this.podInf.on({
      add: (pod) => this.podAdded(pod),
      update: (old, pod) => this.podUpdated(old, pod),
      delete: (pod) => this.podDeleted(pod),
    });
    return [this.rsInf, this.podInf];
  }

  // ---------------------------------------------------------------- event handlers

  /** The ReplicaSet a controller reference points at, if it is the one in the cache. */
  private resolve(namespace: string | undefined, pod: Pod): ReplicaSet | undefined {
    const ref = controllerRef(pod);
    if (!ref || ref.kind !== 'ReplicaSet') return undefined;
    const rs = this.rsInf.get(namespace, ref.name);
    return rs && rs.metadata.uid === ref.uid ? rs : undefined;
  }

  /** ReplicaSets whose selector matches an orphan (they may adopt it). */
  private matching(pod: Pod): ReplicaSet[] {
    const out: ReplicaSet[] = [];
    for (const rs of this.rsInf.byIndex(NAMESPACE_INDEX, pod.metadata.namespace ?? '')) {
      if (labelSelectorMatcher(rs.spec.selector)(pod.metadata.labels)) out.push(rs);
    }
    return out;
  }

  private podAdded(pod: Pod): void {
    if (pod.metadata.deletionTimestamp) return this.podDeleted(pod);
    const rs = this.resolve(pod.metadata.namespace, pod);
    if (rs) {
      const key = objectKey(rs);
      this.expectations.creationObserved(key);
      this.enqueue(key);
      return;
    }
    if (!controllerRef(pod)) for (const m of this.matching(pod)) this.enqueue(objectKey(m));
  }

  private podUpdated(old: Pod, pod: Pod): void {
    if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
    const labelsChanged = JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(pod.metadata.labels ?? {});
    if (pod.metadata.deletionTimestamp) {
      // A graceful deletion shows up as an update long before the pod is gone: count it as observed now.
      this.podDeleted(pod);
      if (labelsChanged) this.podDeleted(old);
      return;
    }
    const oldRef = controllerRef(old);
    const curRef = controllerRef(pod);
    const refChanged = oldRef?.uid !== curRef?.uid;
    if (refChanged && oldRef) {
      const prev = this.resolve(old.metadata.namespace, old);
      if (prev) this.enqueue(objectKey(prev));
    }
    if (curRef) {
      const rs = this.resolve(pod.metadata.namespace, pod);
      if (rs) this.enqueue(objectKey(rs));
      return;
    }
    if (labelsChanged || refChanged) for (const m of this.matching(pod)) this.enqueue(objectKey(m));
  }

  private podDeleted(pod: Pod): void {
    const rs = this.resolve(pod.metadata.namespace, pod);
    if (!rs) return;
    const key = objectKey(rs);
    this.expectations.deletionObserved(key, objectKey(pod));
    this.enqueue(key);
  }

  // ---------------------------------------------------------------- reconcile

  protected async reconcile(key: string): Promise<void> {
    const cached = this.rsInf.getByKey(key);
    if (!cached) {
      this.expectations.forget(key);
      return;
    }
    const rs = cached;
    const now = this.now();
    // Expectations are read before the pods: a pod event landing in between must not be missed.
    const needsSync = this.expectations.satisfied(key, now);
    const pods = this.podInf.byIndex(NAMESPACE_INDEX, rs.metadata.namespace ?? '');
    const claimed = await this.claim(rs, pods);

    const plan = reconcileReplicaSet(rs, claimed, now);
    let manageError: ManageError | undefined;
    if (needsSync && !rs.metadata.deletionTimestamp) manageError = await this.manage(key, rs, plan.create, plan.delete);

    let status: ReplicaSetStatus = plan.status;
    let changed = plan.statusChanged;
    if (manageError) {
      status = replicaSetStatus(rs, claimed, now, manageError);
      changed = !statusEqual(rs.status, status);
    }
    if (changed) await this.writeStatus(rs, status);
    if (plan.requeueAfterSeconds !== undefined) this.enqueueAfter(key, plan.requeueAfterSeconds * 1000);
    if (manageError) throw new Error(`${key}: ${manageError.message}`);
  }

  /** Adopts matching orphans and releases pods that no longer match; returns the pods to count. */
  private async claim(rs: ReplicaSet, pods: Pod[]): Promise<Pod[]> {
    const c = claimPods(rs, pods);
    if (c.adopt.length === 0 && c.release.length === 0) return c.claimed;
    const ns = rs.metadata.namespace;
    const skip = new Set<Pod>();
    if (c.adopt.length > 0) {
      // Kubernetes re-reads the owner before adopting: a ReplicaSet deleted or re-created under the same
      // name since the cache saw it must not take pods.
      const fresh = await this.client.get<ReplicaSet>(R.replicasets, ns, rs.metadata.name!);
      if (fresh.metadata.uid !== rs.metadata.uid) throw new Error(`original ReplicaSet ${objectKey(rs)} is gone: got uid ${fresh.metadata.uid}, wanted ${rs.metadata.uid}`);
      if (fresh.metadata.deletionTimestamp) throw new Error(`ReplicaSet ${objectKey(rs)} is being deleted; not adopting`);
      const results = await boundedAll(c.adopt, DELETE_PARALLELISM, (pod) =>
        this.client.patch(R.pods, ns, pod.metadata.name!, 'merge', {
          metadata: { ownerReferences: withOwnerRef(pod, rs), uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion },
        }),
      );
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') return;
        if (!isNotFound(r.reason)) throw r.reason;
        skip.add(c.adopt[i]);
      });
    }
    const released = await boundedAll(c.release, DELETE_PARALLELISM, (pod) => {
      const refs = withoutOwnerRef(pod, rs.metadata.uid!);
      return this.client.patch(R.pods, ns, pod.metadata.name!, 'merge', {
        metadata: { ownerReferences: refs.length ? refs : null, uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion },
      });
    });
    for (const r of released) if (r.status === 'rejected' && !isNotFound(r.reason)) throw r.reason;
    return c.claimed.filter((p) => !skip.has(p));
  }

  /** Creates or deletes pods; returns the failure to surface as ReplicaFailure, if any. */
  private async manage(key: string, rs: ReplicaSet, create: number, remove: Pod[]): Promise<ManageError | undefined> {
    const ns = rs.metadata.namespace;
    if (create > 0) {
      this.expectations.expect(key, create, [], this.now());
      const { successes, error } = await slowStartBatch(create, 1, async () => {
        const pod = await this.client.create<Pod>(R.pods, podFromTemplate(rs));
        this.recorder.normal(rs, 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
      });
      // Pods never created will never be observed: stop waiting for them.
      for (let i = successes; i < create; i++) this.expectations.creationObserved(key);
      if (error !== undefined) {
        if (isNamespaceTerminating(error)) return undefined;
        const message = errorMessage(error);
        this.recorder.warning(rs, 'FailedCreate', `Error creating: ${message}`);
        return { reason: 'FailedCreate', message };
      }
      return undefined;
    }
    if (remove.length > 0) {
      this.expectations.expect(key, 0, remove.map((p) => objectKey(p)), this.now());
      let failure: ManageError | undefined;
      const results = await boundedAll(remove, POD_DELETE_PARALLELISM, (pod) => this.client.delete(R.pods, ns, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } }));
      results.forEach((r, i) => {
        const pod = remove[i];
        if (r.status === 'fulfilled') {
          this.recorder.normal(rs, 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
          return;
        }
        this.expectations.deletionObserved(key, objectKey(pod));
        if (isNotFound(r.reason)) return;
        const message = errorMessage(r.reason);
        this.recorder.warning(rs, 'FailedDelete', `Error deleting: ${message}`);
        failure ??= { reason: 'FailedDelete', message };
      });
      return failure;
    }
    return undefined;
  }

  private async writeStatus(rs: ReplicaSet, status: ReplicaSetStatus): Promise<void> {
    try {
      await this.client.update<ReplicaSet>(
        R.replicasets,
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: rs.metadata.name, namespace: rs.metadata.namespace, uid: rs.metadata.uid }, spec: rs.spec, status },
        { subresource: 'status' },
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
