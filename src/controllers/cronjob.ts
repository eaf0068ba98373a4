// The CronJob controller (Kubernetes' pkg/controller/cronjob v2): each CronJob is reconciled when it
// or one of its Jobs changes, and again right after its next schedule time (a delayed work-queue add,
// so a run starts within milliseconds of its time); a node-cron resync looks at every CronJob on the
// server's resync schedule in case a timer was lost. Decisions are logic/cronjob.ts.

import cron, { type ScheduledTask } from 'node-cron';
import type { CronJob, Job } from '../api/types.js';
import { R } from '../api/resources.js';
import { objectKey } from '../api/keys.js';
import { parseCronSchedule, secondsFieldAllowed, timeZoneError } from '../api/cron.js';
import type { Informer } from '../client/informer.js';
import type { Component, ComponentContext } from '../server/component.js';
import { QueueController, type ControllerOptions, type Startable } from '../client/controller.js';
import { controllerRef, jobRef, planCronJob } from './logic/index.js';
import { CONTROLLER_INDEX, errorMessage, indexByController, indexByNamespace, isAlreadyExists, isNotFound } from './shared.js';

export interface CronJobControllerOptions extends ControllerOptions {
  /** node-cron expression of the periodic look at every CronJob (default: the server's resync schedule). */
  resyncSchedule?: string;
}

export class CronJobController extends QueueController<ComponentContext> implements Component {
  readonly name = 'cronjob-controller';
  private cjInf!: Informer<CronJob>;
  private jobInf!: Informer<Job>;
  private cronTask?: ScheduledTask;
  /** Schedules already warned about, so a bad one is reported once per change. */
  private readonly warned = new Map<string, string>();

  constructor(private readonly cronOpts: CronJobControllerOptions = {}) {
    super({ workers: 2, ...cronOpts });
  }

  protected override get eventSource(): string {
    return 'cronjob-controller';
  }

  protected setup(ctx: ComponentContext): Startable[] {
    this.cjInf = indexByNamespace(ctx.informers.for<CronJob>(R.cronjobs));
    this.jobInf = indexByController(indexByNamespace(ctx.informers.for<Job>(R.jobs)));
    this.cjInf.on({
      add: (c) => this.enqueue(objectKey(c)),
      update: (_o, c) => this.enqueue(objectKey(c)),
      delete: (c) => this.warned.delete(objectKey(c)),
    });
    const jobEvent = (j: Job) => {
      const ref = controllerRef(j);
      if (!ref || ref.kind !== 'CronJob') return;
      const cj = this.cjInf.get(j.metadata.namespace, ref.name);
      if (cj && cj.metadata.uid === ref.uid) this.enqueue(objectKey(cj));
    };
    this.jobInf.on({ add: jobEvent, update: (_o, j) => jobEvent(j), delete: jobEvent });
    const schedule = this.cronOpts.resyncSchedule ?? ctx.config.resyncSchedule;
    if (schedule && cron.validate(schedule)) {
      this.cronTask = cron.schedule(schedule, () => {
        for (const c of this.cjInf.list()) this.enqueue(objectKey(c));
      }, { noOverlap: true, name: 'kubelite-cronjobs' });
    }
    return [this.cjInf, this.jobInf];
  }

  override async stop(): Promise<void> {
    await this.cronTask?.destroy();
    await super.stop();
  }

  protected async reconcile(key: string): Promise<void> {
    const cj = this.cjInf.getByKey(key);
    if (!cj) return;
    const ns = cj.metadata.namespace;
    const now = this.now();
    const tzError = cj.spec.timeZone !== undefined ? timeZoneError(cj.spec.timeZone) : undefined;
    const parsed = tzError ? undefined : parseCronSchedule(cj.spec.schedule, cj.spec.timeZone);
    if (tzError || parsed?.error) {
      const what = tzError ? `UnknownTimeZone:${tzError}` : `UnparseableSchedule:${parsed?.error}`;
      if (this.warned.get(key) !== what) {
        this.warned.set(key, what);
        const [reason, message] = tzError ? ['UnknownTimeZone', `invalid timeZone: ${JSON.stringify(cj.spec.timeZone)}: ${tzError}`] : ['UnparseableSchedule', `unparseable schedule: ${JSON.stringify(cj.spec.schedule)} : ${parsed?.error}`];
        this.recorder.warning(cj, reason, message);
      }
    }
    const jobs = this.jobInf.byIndex(CONTROLLER_INDEX, cj.metadata.uid!);
    const seconds = secondsFieldAllowed() && cj.spec.schedule.trim().split(/\s+/).length === 6;
    const plan = planCronJob(cj, jobs, now, parsed?.schedule, { secondsNames: seconds });

    for (const e of plan.events) (e.type === 'Warning' ? this.recorder.warning : this.recorder.normal).call(this.recorder, cj, e.reason, e.message);
    for (const d of plan.delete) {
      try {
        await this.client.delete(R.jobs, ns, d.job.metadata.name!, { propagationPolicy: 'Background', preconditions: { uid: d.job.metadata.uid } });
        this.recorder.normal(cj, 'SuccessfulDelete', `Deleted job ${d.job.metadata.name}`);
      } catch (err) {
        if (!isNotFound(err)) this.log.warn({ cronjob: key, job: d.job.metadata.name, err: errorMessage(err) }, 'deleting a job failed');
      }
    }
    const status = plan.status;
    let changed = plan.statusChanged;
    if (plan.create) {
      let created: Job | undefined;
      try {
        created = await this.client.create<Job>(R.jobs, plan.create.job);
        this.recorder.normal(cj, 'SuccessfulCreate', `Created job ${created.metadata.name}`);
      } catch (err) {
        if (isAlreadyExists(err)) {
          // Created before a crash (or by a racing sync): it is ours if it names us as its controller.
          const existing = await this.client.get<Job>(R.jobs, ns, plan.create.job.metadata.name!);
          if (controllerRef(existing)?.uid === cj.metadata.uid) created = existing;
        } else {
          this.recorder.warning(cj, 'FailedCreate', `Error creating job: ${errorMessage(err)}`);
          throw err;
        }
      }
      if (created && !(status.active ?? []).some((r) => r.uid === created!.metadata.uid)) status.active = [...(status.active ?? []), jobRef(created)];
      changed = true;
    }
    if (changed) {
      try {
        await this.client.update<CronJob>(R.cronjobs, { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: cj.metadata.name, namespace: ns, uid: cj.metadata.uid }, spec: cj.spec, status }, { subresource: 'status' });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (plan.requeueAfterMs !== undefined) this.enqueueAfter(key, plan.requeueAfterMs);
  }
}
