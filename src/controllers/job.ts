// The Job controller (Kubernetes' pkg/controller/job): runs a Job's pods to completion. Decisions are
// logic/job.ts (planJob); this loop finds the Job's pods by controller reference, creates and deletes
// them, keeps expectations so a lagging cache never makes it create twice, writes status, records
// Events, and deletes Jobs whose ttlSecondsAfterFinished has passed.

import type { Job, Pod } from '../api/types.js';
import { R } from '../api/resources.js';
import { objectKey } from '../api/keys.js';
import type { Informer } from '../client/informer.js';
import type { Component, ComponentContext } from '../server/component.js';
import { QueueController, type ControllerOptions, type Startable } from '../client/controller.js';
import { Expectations, controllerRef, planJob, podForJob, type JobPlanOptions } from './logic/index.js';
import { CONTROLLER_INDEX, boundedAll, errorMessage, indexByController, indexByNamespace, isNamespaceTerminating, isNotFound } from './shared.js';

const PARALLEL_WRITES = 16;

export class JobController extends QueueController<ComponentContext> implements Component {
  readonly name = 'job-controller';
  private readonly expectations = new Expectations();
  private jobInf!: Informer<Job>;
  private podInf!: Informer<Pod>;

  constructor(private readonly jobOpts: ControllerOptions & JobPlanOptions = {}) {
    super({ workers: 4, ...jobOpts });
  }

  protected setup(ctx: ComponentContext): Startable[] {
    this.jobInf = indexByNamespace(ctx.informers.for<Job>(R.jobs));
    this.podInf = indexByController(indexByNamespace(ctx.informers.for<Pod>(R.pods)));
    this.jobInf.on({
      add: (j) => this.enqueue(objectKey(j)),
      update: (_o, j) => this.enqueue(objectKey(j)),
      delete: (j) => this.expectations.forget(objectKey(j)),
    });
    this.podInf.on({
      add: (p) => this.podEvent(p, 'add'),
      update: (o, p) => {
        if (o.metadata.resourceVersion === p.metadata.resourceVersion) return;
        this.podEvent(p, p.metadata.deletionTimestamp && !o.metadata.deletionTimestamp ? 'delete' : 'update');
      },
      delete: (p) => this.podEvent(p, 'delete'),
    });
    return [this.jobInf, this.podInf];
  }

  private podEvent(pod: Pod, what: 'add' | 'update' | 'delete'): void {
    const ref = controllerRef(pod);
    if (!ref || ref.kind !== 'Job') return;
    const job = this.jobInf.get(pod.metadata.namespace, ref.name);
    if (!job || job.metadata.uid !== ref.uid) return;
    const key = objectKey(job);
    if (what === 'add') this.expectations.creationObserved(key);
    if (what === 'delete') this.expectations.deletionObserved(key, objectKey(pod));
    this.enqueue(key);
  }

  protected async reconcile(key: string): Promise<void> {
    const job = this.jobInf.getByKey(key);
    if (!job) {
      this.expectations.forget(key);
      return;
    }
    if (job.metadata.deletionTimestamp) return; // the garbage collector removes its pods
    const now = this.now();
    if (!this.expectations.satisfied(key, now)) return; // the informer has not seen our last writes yet
    const pods = this.podInf.byIndex(CONTROLLER_INDEX, job.metadata.uid!);
    const plan = planJob(job, pods, now, this.jobOpts);
    const ns = job.metadata.namespace;

    let failure: string | undefined;
    if (plan.delete.length) {
      this.expectations.expect(key, 0, plan.delete.map((p) => objectKey(p)), now);
      const results = await boundedAll(plan.delete, PARALLEL_WRITES, (p) => this.client.delete(R.pods, ns, p.metadata.name!, { preconditions: { uid: p.metadata.uid } }));
      results.forEach((r, i) => {
        const pod = plan.delete[i];
        if (r.status === 'fulfilled') return this.recorder.normal(job, 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
        this.expectations.deletionObserved(key, objectKey(pod));
        if (!isNotFound(r.reason)) failure ??= errorMessage(r.reason);
      });
    }
    if (plan.create.length) {
      this.expectations.expect(key, plan.create.length, [], now);
      const results = await boundedAll(plan.create, PARALLEL_WRITES, async (c) => {
        const pod = await this.client.create<Pod>(R.pods, podForJob(job, c.index));
        this.recorder.normal(job, 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
      });
      for (const r of results) {
        if (r.status === 'fulfilled') continue;
        this.expectations.creationObserved(key);
        if (isNamespaceTerminating(r.reason)) continue;
        const message = errorMessage(r.reason);
        this.recorder.warning(job, 'FailedCreate', `Error creating: ${message}`);
        failure ??= message;
      }
    }
    for (const e of plan.events) (e.type === 'Warning' ? this.recorder.warning : this.recorder.normal).call(this.recorder, job, e.reason, e.message);
    if (plan.statusChanged) {
      try {
        await this.client.update<Job>(R.jobs, { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: job.metadata.name, namespace: ns, uid: job.metadata.uid }, spec: job.spec, status: plan.status }, { subresource: 'status' });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (plan.deleteJob) {
      await this.client.delete(R.jobs, ns, job.metadata.name!, { propagationPolicy: 'Background', preconditions: { uid: job.metadata.uid } }).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
    }
    if (plan.requeueAfterMs !== undefined) this.enqueueAfter(key, plan.requeueAfterMs);
    if (failure) throw new Error(`${key}: ${failure}`);
  }
}
