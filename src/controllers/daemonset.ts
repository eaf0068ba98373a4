// The DaemonSet controller (Kubernetes' pkg/controller/daemon): one pod per eligible node, kept at the
// current template's revision by RollingUpdate. Decisions are logic/daemonset.ts; revisions are
// logic/history.ts. Node changes re-examine every DaemonSet (a new node gets its pods at once).

import type { ControllerRevision, DaemonSet, Node, Pod } from '../api/types.js';
import { R } from '../api/resources.js';
import { objectKey } from '../api/keys.js';
import type { Informer } from '../client/informer.js';
import type { Component, ComponentContext } from '../server/component.js';
import { QueueController, type ControllerOptions, type Startable } from '../client/controller.js';
import { CONTROLLER_REVISION_HASH_LABEL, controllerRef, daemonPodFor, Expectations, planDaemonSet, revisionsToPrune, updateRevisionFor } from './logic/index.js';
import { CONTROLLER_REVISION_HASH } from '../api/well-known.js';
import { CONTROLLER_INDEX, boundedAll, errorMessage, indexByController, indexByNamespace, isAlreadyExists, isNamespaceTerminating, isNotFound } from './shared.js';

export class DaemonSetController extends QueueController<ComponentContext> implements Component {
  readonly name = 'daemonset-controller';
  private readonly expectations = new Expectations();
  private dsInf!: Informer<DaemonSet>;
  private podInf!: Informer<Pod>;
  private nodeInf!: Informer<Node>;
  private revInf!: Informer<ControllerRevision>;

  constructor(opts: ControllerOptions = {}) {
    super({ workers: 2, ...opts });
  }

  protected setup(ctx: ComponentContext): Startable[] {
    this.dsInf = indexByNamespace(ctx.informers.for<DaemonSet>(R.daemonsets));
    this.podInf = indexByController(indexByNamespace(ctx.informers.for<Pod>(R.pods)));
    this.nodeInf = ctx.informers.for<Node>(R.nodes);
    this.revInf = indexByController(ctx.informers.for<ControllerRevision>(R.controllerrevisions));
    this.dsInf.on({ add: (d) => this.enqueue(objectKey(d)), update: (_o, d) => this.enqueue(objectKey(d)), delete: (d) => this.expectations.forget(objectKey(d)) });
    const all = () => {
      for (const d of this.dsInf.list()) this.enqueue(objectKey(d));
    };
    this.nodeInf.on({
      add: all,
      update: (o, n) => {
        if (JSON.stringify(o.metadata.labels) !== JSON.stringify(n.metadata.labels) || JSON.stringify(o.spec.taints) !== JSON.stringify(n.spec.taints)) all();
      },
      delete: all,
    });
    const podEvent = (p: Pod, what: 'add' | 'update' | 'delete') => {
      const ref = controllerRef(p);
      if (!ref || ref.kind !== 'DaemonSet') return;
      const ds = this.dsInf.get(p.metadata.namespace, ref.name);
      if (!ds || ds.metadata.uid !== ref.uid) return;
      const key = objectKey(ds);
      if (what === 'add') this.expectations.creationObserved(key);
      if (what === 'delete') this.expectations.deletionObserved(key, objectKey(p));
      this.enqueue(key);
    };
    this.podInf.on({
      add: (p) => podEvent(p, 'add'),
      update: (o, p) => o.metadata.resourceVersion !== p.metadata.resourceVersion && podEvent(p, p.metadata.deletionTimestamp && !o.metadata.deletionTimestamp ? 'delete' : 'update'),
      delete: (p) => podEvent(p, 'delete'),
    });
    return [this.dsInf, this.podInf, this.nodeInf, this.revInf];
  }

  protected async reconcile(key: string): Promise<void> {
    const ds = this.dsInf.getByKey(key);
    if (!ds || ds.metadata.deletionTimestamp) return;
    const now = this.now();
    if (!this.expectations.satisfied(key, now)) return;
    const ns = ds.metadata.namespace;
    const revisions = this.revInf.byIndex(CONTROLLER_INDEX, ds.metadata.uid!);
    const step = updateRevisionFor(ds, ds.spec.template, revisions, ds.status?.collisionCount ?? 0);
    let update = step.update;
    if (step.create) {
      try {
        update = await this.client.create<ControllerRevision>(R.controllerrevisions, step.create);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
    } else if (step.renumber) {
      update = await this.client.patch<ControllerRevision>(R.controllerrevisions, ns, step.renumber.revision.metadata.name!, 'merge', { revision: step.renumber.to });
    }
    const hash = update.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '';
    const pods = this.podInf.byIndex(CONTROLLER_INDEX, ds.metadata.uid!);
    const plan = planDaemonSet(ds, this.nodeInf.list(), pods, hash, now, step.collisionCount);

    let failure: string | undefined;
    if (plan.delete.length) {
      this.expectations.expect(key, 0, plan.delete.map((p) => objectKey(p)), now);
      const results = await boundedAll(plan.delete, 16, (p) => this.client.delete(R.pods, ns, p.metadata.name!, { preconditions: { uid: p.metadata.uid } }));
      results.forEach((r, i) => {
        const p = plan.delete[i];
        if (r.status === 'fulfilled') return this.recorder.normal(ds, 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
        this.expectations.deletionObserved(key, objectKey(p));
        if (!isNotFound(r.reason)) failure ??= errorMessage(r.reason);
      });
    }
    if (plan.create.length) {
      this.expectations.expect(key, plan.create.length, [], now);
      const results = await boundedAll(plan.create, 16, async (node) => {
        const pod = await this.client.create<Pod>(R.pods, daemonPodFor(ds, node, hash));
        this.recorder.normal(ds, 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
      });
      for (const r of results) {
        if (r.status === 'fulfilled') continue;
        this.expectations.creationObserved(key);
        if (isNamespaceTerminating(r.reason)) continue;
        const message = errorMessage(r.reason);
        this.recorder.warning(ds, 'FailedCreate', `Error creating: ${message}`);
        failure ??= message;
      }
    }
    if (plan.statusChanged) {
      try {
        await this.client.update<DaemonSet>(R.daemonsets, { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: ds.metadata.name, namespace: ns, uid: ds.metadata.uid }, spec: ds.spec, status: plan.status }, { subresource: 'status' });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    const live = new Set<string>([update.metadata.name!, ...revisions.filter((r) => pods.some((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH] === r.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL])).map((r) => r.metadata.name!)]);
    for (const r of revisionsToPrune(revisions, live, ds.spec.revisionHistoryLimit ?? 10)) {
      await this.client.delete(R.controllerrevisions, ns, r.metadata.name!, { preconditions: { uid: r.metadata.uid } }).catch(() => undefined);
    }
    if (plan.requeueAfterMs !== undefined) this.enqueueAfter(key, plan.requeueAfterMs);
    if (failure) throw new Error(`${key}: ${failure}`);
  }
}
