// The disruption controller (Kubernetes' pkg/controller/disruption): keeps each PodDisruptionBudget's
// status (expectedPods, desiredHealthy, currentHealthy, disruptionsAllowed, the DisruptionAllowed
// condition, disruptedPods) current as its Pods come, go and turn ready, so the eviction subresource
// can decide from the budget alone. The decision is planPDB (logic/disruption.ts); this is the loop.

import type { Deployment, KObject, Pod, PodDisruptionBudget, ReplicaSet, StatefulSet } from '../api/types.js';
import { R } from '../api/resources.js';
import { objectKey } from '../api/keys.js';
import { pdbSelects } from '../api/disruption.js';
import type { Informer } from '../client/informer.js';
import type { Component, ComponentContext } from '../server/component.js';
import { QueueController, type ControllerOptions, type Startable } from '../client/controller.js';
import { controllerRef, planPDB, statusEqual } from './logic/index.js';
import { NAMESPACE_INDEX, indexByNamespace, isNotFound } from './shared.js';

export class DisruptionController extends QueueController<ComponentContext> implements Component {
  readonly name = 'disruption-controller';
  private pdbInf!: Informer<PodDisruptionBudget>;
  private podInf!: Informer<Pod>;
  private rsInf!: Informer<ReplicaSet>;
  private deployInf!: Informer<Deployment>;
  private stsInf!: Informer<StatefulSet>;

  constructor(opts: ControllerOptions = {}) {
    super({ workers: 2, ...opts });
  }

  protected setup(ctx: ComponentContext): Startable[] {
    this.pdbInf = indexByNamespace(ctx.informers.for<PodDisruptionBudget>(R.poddisruptionbudgets));
    this.podInf = indexByNamespace(ctx.informers.for<Pod>(R.pods));
    this.rsInf = ctx.informers.for<ReplicaSet>(R.replicasets);
    this.deployInf = ctx.informers.for<Deployment>(R.deployments);
    this.stsInf = ctx.informers.for<StatefulSet>(R.statefulsets);
    this.pdbInf.on({ add: (p) => this.enqueue(objectKey(p)), update: (o, p) => o.metadata.generation !== p.metadata.generation || o.metadata.resourceVersion !== p.metadata.resourceVersion ? this.enqueue(objectKey(p)) : undefined });
    const podChanged = (pod: Pod) => {
      for (const pdb of this.pdbInf.byIndex(NAMESPACE_INDEX, pod.metadata.namespace ?? '')) if (pdbSelects(pdb, pod)) this.enqueue(objectKey(pdb));
    };
    this.podInf.on({
      add: podChanged,
      update: (old, pod) => {
        podChanged(pod);
        // A Pod whose labels changed may have left a budget.
        if (JSON.stringify(old.metadata.labels) !== JSON.stringify(pod.metadata.labels)) podChanged(old);
      },
      delete: podChanged,
    });
    // A controller's replicas are the expected count of percentages and maxUnavailable.
    const scaled = (o: KObject) => {
      for (const pdb of this.pdbInf.byIndex(NAMESPACE_INDEX, o.metadata.namespace ?? '')) this.enqueue(objectKey(pdb));
    };
    const onScale = { add: scaled, update: (o: KObject, n: KObject) => JSON.stringify(o.spec) !== JSON.stringify(n.spec) && scaled(n), delete: scaled };
    this.rsInf.on(onScale);
    this.deployInf.on(onScale);
    this.stsInf.on(onScale);
    return [this.pdbInf, this.podInf, this.rsInf, this.deployInf, this.stsInf];
  }

  /** The replicas the Pods' controllers want, summed once per controller (getExpectedScale). */
  private expectedScale(pods: Pod[]): { total: number } | { error: string } {
    const seen = new Map<string, number>();
    for (const pod of pods) {
      const ref = controllerRef(pod);
      if (!ref) return { error: `found no controllers for pod "${pod.metadata.name}"` };
      const ns = pod.metadata.namespace;
      if (ref.kind === 'ReplicaSet') {
        const rs = this.rsInf.get(ns, ref.name);
        if (!rs || rs.metadata.uid !== ref.uid) return { error: `found no controllers for pod "${pod.metadata.name}"` };
        const owner = controllerRef(rs);
        const deploy = owner?.kind === 'Deployment' ? this.deployInf.get(ns, owner.name) : undefined;
        if (deploy && deploy.metadata.uid === owner!.uid) seen.set(deploy.metadata.uid!, deploy.spec.replicas ?? 1);
        else seen.set(rs.metadata.uid!, rs.spec.replicas ?? 1);
      } else if (ref.kind === 'StatefulSet') {
        const sts = this.stsInf.get(ns, ref.name);
        if (!sts || sts.metadata.uid !== ref.uid) return { error: `found no controllers for pod "${pod.metadata.name}"` };
        seen.set(sts.metadata.uid!, sts.spec.replicas ?? 1);
      } else {
        return { error: `found no controllers for pod "${pod.metadata.name}"` };
      }
    }
    let total = 0;
    for (const n of seen.values()) total += n;
    return { total };
  }

  protected async reconcile(key: string): Promise<void> {
    const pdb = this.pdbInf.getByKey(key);
    if (!pdb || pdb.metadata.deletionTimestamp) return;
    const pods = this.podInf.byIndex(NAMESPACE_INDEX, pdb.metadata.namespace ?? '').filter((p) => pdbSelects(pdb, p));
    const decision = planPDB({ pdb, pods, expectedScale: () => this.expectedScale(pods), now: this.now() });
    if (decision.problem) {
      this.recorder.warning(pdb, decision.problem.reason, decision.problem.message);
      return;
    }
    if (decision.recheckAfterMs !== undefined) this.enqueueAfter(key, decision.recheckAfterMs + 10);
    if (!decision.status || statusEqual(pdb.status, decision.status)) return;
    try {
      await this.client.update<PodDisruptionBudget>(R.poddisruptionbudgets, { ...pdb, status: decision.status }, { subresource: 'status' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
