// The StatefulSet controller (Kubernetes' pkg/controller/statefulset): keeps the set's revision history
// (ControllerRevisions), runs planStatefulSet (logic/statefulset.ts) and carries out its steps in order
// — claims before their pod, one ordinal at a time under OrderedReady — then writes status and prunes
// old revisions. Pod and claim names are deterministic, so a lagging cache that asks for the same
// create twice only meets AlreadyExists.

import type { ControllerRevision, PersistentVolumeClaim, Pod, StatefulSet } from '../api/types.js';
import { R } from '../api/resources.js';
import { objectKey } from '../api/keys.js';
import type { Informer } from '../client/informer.js';
import type { Component, ComponentContext } from '../server/component.js';
import { QueueController, type ControllerOptions, type Startable } from '../client/controller.js';
import { controllerRef, planStatefulSet, podRevision, revisionsToPrune, updateRevisionFor, type StatefulSetAction } from './logic/index.js';
import { CONTROLLER_INDEX, NAMESPACE_INDEX, errorMessage, indexByController, indexByNamespace, isAlreadyExists, isNamespaceTerminating, isNotFound } from './shared.js';

export class StatefulSetController extends QueueController<ComponentContext> implements Component {
  readonly name = 'statefulset-controller';
  private setInf!: Informer<StatefulSet>;
  private podInf!: Informer<Pod>;
  private revInf!: Informer<ControllerRevision>;
  private claimInf!: Informer<PersistentVolumeClaim>;

  constructor(opts: ControllerOptions = {}) {
    super({ workers: 4, ...opts });
  }

  protected override get eventSource(): string {
    return 'statefulset-controller';
  }

  protected setup(ctx: ComponentContext): Startable[] {
    this.setInf = indexByNamespace(ctx.informers.for<StatefulSet>(R.statefulsets));
    this.podInf = indexByController(indexByNamespace(ctx.informers.for<Pod>(R.pods)));
    this.revInf = indexByController(ctx.informers.for<ControllerRevision>(R.controllerrevisions));
    this.claimInf = indexByNamespace(ctx.informers.for<PersistentVolumeClaim>(R.persistentvolumeclaims));
    this.setInf.on({ add: (s) => this.enqueue(objectKey(s)), update: (_o, s) => this.enqueue(objectKey(s)) });
    const owned = (o: Pod | ControllerRevision) => {
      const ref = controllerRef(o);
      if (!ref || ref.kind !== 'StatefulSet') return;
      const set = this.setInf.get(o.metadata.namespace, ref.name);
      if (set && set.metadata.uid === ref.uid) this.enqueue(objectKey(set));
    };
    this.podInf.on({ add: owned, update: (o, p) => o.metadata.resourceVersion !== p.metadata.resourceVersion && owned(p), delete: owned });
    this.revInf.on({ add: owned, delete: owned });
    return [this.setInf, this.podInf, this.revInf, this.claimInf];
  }

  protected async reconcile(key: string): Promise<void> {
    const set = this.setInf.getByKey(key);
    if (!set || set.metadata.deletionTimestamp) return;
    const ns = set.metadata.namespace;
    const revisions = this.revInf.byIndex(CONTROLLER_INDEX, set.metadata.uid!);
    const step = updateRevisionFor(set, set.spec.template, revisions, set.status?.collisionCount ?? 0);
    let update = step.update;
    if (step.create) {
      try {
        update = await this.client.create<ControllerRevision>(R.controllerrevisions, step.create);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        update = await this.client.get<ControllerRevision>(R.controllerrevisions, ns, step.create.metadata.name!);
      }
    } else if (step.renumber) {
      update = await this.client.patch<ControllerRevision>(R.controllerrevisions, ns, step.renumber.revision.metadata.name!, 'merge', { revision: step.renumber.to });
    }
    const current = revisions.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;
    const pods = this.podInf.byIndex(CONTROLLER_INDEX, set.metadata.uid!);
    const claims = new Set(this.claimInf.byIndex(NAMESPACE_INDEX, ns ?? '').map((c) => c.metadata.name!));
    const plan = planStatefulSet({ set, pods, claims, current, update, collisionCount: step.collisionCount, now: this.now() });

    let failure: unknown;
    for (const a of plan.actions) {
      try {
        await this.act(set, a);
      } catch (err) {
        failure = err;
        break;
      }
    }
    if (plan.statusChanged) {
      try {
        await this.client.update<StatefulSet>(R.statefulsets, { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: set.metadata.name, namespace: ns, uid: set.metadata.uid }, spec: set.spec, status: plan.status }, { subresource: 'status' });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    // Revision history: keep revisionHistoryLimit revisions besides the live ones.
    const live = new Set<string>([current.metadata.name!, update.metadata.name!, ...pods.map((p) => podRevision(p) ?? '')]);
    for (const r of revisionsToPrune(revisions, live, set.spec.revisionHistoryLimit ?? 10)) {
      await this.client.delete(R.controllerrevisions, ns, r.metadata.name!, { preconditions: { uid: r.metadata.uid } }).catch((err) => {
        if (!isNotFound(err)) this.log.warn({ revision: r.metadata.name, err: errorMessage(err) }, 'pruning a revision failed');
      });
    }
    if (plan.requeueAfterMs !== undefined) this.enqueueAfter(key, plan.requeueAfterMs);
    if (failure !== undefined && !isNamespaceTerminating(failure)) throw failure;
  }

  private async act(set: StatefulSet, a: StatefulSetAction): Promise<void> {
    const ns = set.metadata.namespace;
    const setName = set.metadata.name;
    switch (a.kind) {
      case 'createClaims':
        for (const claim of a.claims) {
          try {
            await this.client.create(R.persistentvolumeclaims, claim);
            this.recorder.normal(set, 'SuccessfulCreate', `create Claim ${claim.metadata.name} Pod ${setName}-${a.ordinal} in StatefulSet ${setName} success`);
          } catch (err) {
            if (isAlreadyExists(err)) continue;
            this.recorder.warning(set, 'FailedCreate', `create Claim ${claim.metadata.name} for Pod ${setName}-${a.ordinal} in StatefulSet ${setName} failed error: ${errorMessage(err)}`);
            throw err;
          }
        }
        return;
      case 'createPod':
        try {
          await this.client.create(R.pods, a.pod);
          this.recorder.normal(set, 'SuccessfulCreate', `create Pod ${a.pod.metadata.name} in StatefulSet ${setName} successful`);
        } catch (err) {
          if (isAlreadyExists(err)) return;
          this.recorder.warning(set, 'FailedCreate', `create Pod ${a.pod.metadata.name} in StatefulSet ${setName} failed error: ${errorMessage(err)}`);
          throw err;
        }
        return;
      case 'deletePod':
        try {
          await this.client.delete(R.pods, ns, a.pod.metadata.name!, { preconditions: { uid: a.pod.metadata.uid } });
          this.recorder.normal(set, 'SuccessfulDelete', `delete Pod ${a.pod.metadata.name} in StatefulSet ${setName} successful`);
        } catch (err) {
          if (isNotFound(err)) return;
          this.recorder.warning(set, 'FailedDelete', `delete Pod ${a.pod.metadata.name} in StatefulSet ${setName} failed error: ${errorMessage(err)}`);
          throw err;
        }
        return;
      case 'ownClaimsByPod':
        for (const name of a.claims) {
          const claim = this.claimInf.get(ns, name);
          if (!claim || (claim.metadata.ownerReferences ?? []).some((r) => r.uid === a.pod.metadata.uid)) continue;
          const refs = [...(claim.metadata.ownerReferences ?? []), { apiVersion: 'v1', kind: 'Pod', name: a.pod.metadata.name!, uid: a.pod.metadata.uid!, controller: false, blockOwnerDeletion: true }];
          await this.client.patch(R.persistentvolumeclaims, ns, name, 'merge', { metadata: { ownerReferences: refs } }).catch((err) => {
            if (!isNotFound(err)) throw err;
          });
        }
        return;
    }
  }
}
