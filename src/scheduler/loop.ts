// The scheduler loop: binds pending Pods to Nodes with the pure decisions of schedule.ts. One pass
// takes every pending pod from the cache, builds a ClusterSnapshot from the nodes and bound pods (plus
// the pods it bound that the cache does not show as bound yet), decides in kube-scheduler's queue
// order and binds through pods/binding. A pod that fits nowhere stays Pending with PodScheduled=False
// and a FailedScheduling Event, and is tried again when the cluster changes in a way that could make
// room (a node appears or changes, a bound pod goes away) or on the periodic resync, as kube-scheduler
// moves pods out of its unschedulable queue.

import cron, { type ScheduledTask } from 'node-cron';
import type { Binding, Node, PersistentVolume, PersistentVolumeClaim, Pod } from '../api/types.js';
import { R } from '../api/resources.js';
import { isStatusError } from '../api/errors.js';
import { objectKey } from '../api/keys.js';
import type { Informer } from '../client/informer.js';
import { QueueController, type Startable } from '../client/controller.js';
import type { Component, ComponentContext } from '../server/component.js';
import { ClusterSnapshot } from './snapshot.js';
import { volumeNodeMatcher } from './volume-binding.js';
import { isScheduled, needsScheduling, scheduleOn, schedulingOrder, unschedulableCondition, type ScheduleOptions } from './schedule.js';

const PASS_KEY = 'pass';
/** A bind the cache has not reflected after this long is forgotten (the pod is looked at afresh). */
const ASSUME_TTL_MS = 30_000;
const BIND_PARALLELISM = 16;

export interface SchedulerOptions {
  /** node-cron expression of the periodic retry of unschedulable pods (default: the server's resync schedule). */
  resyncSchedule?: string;
  /** Tie-breaking among equally good nodes (tests). */
  rand?: () => number;
  now?: () => Date;
}

interface Assumed {
  uid: string;
  node: string;
  at: number;
}

export class Scheduler extends QueueController<ComponentContext> implements Component {
  readonly name = 'scheduler';
  private podInf!: Informer<Pod>;
  private nodeInf!: Informer<Node>;
  private claimInf!: Informer<PersistentVolumeClaim>;
  private volumeInf!: Informer<PersistentVolume>;
  private cronTask?: ScheduledTask;
  /** Pods we bound whose binding the cache does not show yet: they hold their node's resources. */
  private readonly assumed = new Map<string, Assumed>();
  /** Pods that fit nowhere at their last attempt (key -> uid); skipped until the cluster changes. */
  private readonly unschedulable = new Map<string, string>();
  private retryAll = true;

  constructor(private readonly schedOpts: SchedulerOptions = {}) {
    // One key, one worker: a pass looks at every pending pod at once (kube-scheduler's queue order).
    super({ workers: 1, baseDelayMs: 50, maxDelayMs: 10_000, now: schedOpts.now });
  }

  protected override get eventSource(): string {
    return 'default-scheduler';
  }

  protected setup(ctx: ComponentContext): Startable[] {
    this.podInf = ctx.informers.for<Pod>(R.pods);
    this.nodeInf = ctx.informers.for<Node>(R.nodes);
    this.claimInf = ctx.informers.for<PersistentVolumeClaim>(R.persistentvolumeclaims);
    this.volumeInf = ctx.informers.for<PersistentVolume>(R.persistentvolumes);
    this.podInf.on({ add: (p) => this.podAdded(p), update: (o, p) => this.podUpdated(o, p), delete: (p) => this.podDeleted(p) });
    const clusterChanged = () => this.kick(true);
    this.nodeInf.on({ add: clusterChanged, update: (o, n) => nodeChanged(o, n) && clusterChanged(), delete: clusterChanged });
    const schedule = this.schedOpts.resyncSchedule ?? ctx.config.resyncSchedule;
    if (schedule && cron.validate(schedule)) this.cronTask = cron.schedule(schedule, () => this.kick(true), { noOverlap: true, name: 'kubelite-scheduler' });
    // A claim bound (or a volume created) may make a waiting Pod placeable.
    this.claimInf.on({ update: (o, c) => o.spec.volumeName !== c.spec.volumeName && clusterChanged() });
    return [this.podInf, this.nodeInf, this.claimInf, this.volumeInf];
  }

  protected override synced(): void {
    this.kick(true);
  }

  protected reconcile(): Promise<void> {
    return this.pass();
  }

  override async stop(): Promise<void> {
    await this.cronTask?.destroy();
    await super.stop();
  }

  private kick(retryUnschedulable = false): void {
    if (retryUnschedulable) this.retryAll = true;
    this.enqueue(PASS_KEY);
  }

  // ---------------------------------------------------------------- event handlers

  private podAdded(pod: Pod): void {
    const key = objectKey(pod);
    if (pod.spec?.nodeName) this.assumed.delete(key);
    if (needsScheduling(pod)) this.kick();
  }

  private podUpdated(old: Pod, pod: Pod): void {
    const key = objectKey(pod);
    if (pod.spec?.nodeName) {
      this.assumed.delete(key);
      this.unschedulable.delete(key);
      // A bound pod that finished frees its share of the node.
      if (!freesResources(old) && freesResources(pod)) this.kick(true);
      return;
    }
    if (!needsScheduling(pod)) return;
    // A pending pod whose spec or labels changed (a toleration added, say) deserves a fresh attempt.
    if (JSON.stringify(old.spec) !== JSON.stringify(pod.spec) || JSON.stringify(old.metadata.labels) !== JSON.stringify(pod.metadata.labels)) {
      this.unschedulable.delete(key);
      this.kick();
    }
  }

  private podDeleted(pod: Pod): void {
    const key = objectKey(pod);
    this.assumed.delete(key);
    this.unschedulable.delete(key);
    if (pod.spec?.nodeName) this.kick(true);
  }

  // ---------------------------------------------------------------- one pass

  private async pass(): Promise<void> {
    const retryAll = this.retryAll;
    this.retryAll = false;
    const nowMs = this.now().getTime();
    const pods = this.podInf.list();
    const snapshot = new ClusterSnapshot(this.nodeInf.list(), pods);
    const pending: Pod[] = [];
    for (const pod of pods) {
      const key = objectKey(pod);
      const assumed = this.assumed.get(key);
      if (assumed) {
        if (assumed.uid === pod.metadata.uid && !pod.spec?.nodeName && nowMs - assumed.at < ASSUME_TTL_MS) {
          snapshot.assume(pod, assumed.node);
          continue;
        }
        this.assumed.delete(key);
      }
      if (!needsScheduling(pod)) continue;
      if (!retryAll && this.unschedulable.get(key) === pod.metadata.uid) continue;
      pending.push(pod);
    }
    if (pending.length === 0) return;
    pending.sort(schedulingOrder);

    const binds: { pod: Pod; node: string }[] = [];
    const failed: { pod: Pod; message: string }[] = [];
    const scheduleOpts: ScheduleOptions = {
      rand: this.schedOpts.rand,
      volumeNodes: (pod) => volumeNodeMatcher(pod, (ns, name) => this.claimInf.get(ns, name), (name) => this.volumeInf.get(undefined, name)),
    };
    for (const pod of pending) {
      const result = scheduleOn(snapshot, pod, scheduleOpts);
      if (isScheduled(result)) {
        binds.push({ pod, node: result.node });
        this.assumed.set(objectKey(pod), { uid: pod.metadata.uid ?? '', node: result.node, at: nowMs });
      } else {
        failed.push({ pod, message: result.unschedulable });
      }
    }

    let retry = false;
    const queue = [...binds];
    const worker = async () => {
      for (let b = queue.shift(); b; b = queue.shift()) if (!(await this.bind(b.pod, b.node))) retry = true;
    };
    await Promise.all(Array.from({ length: Math.min(BIND_PARALLELISM, binds.length) }, worker));
    for (const f of failed) await this.markUnschedulable(f.pod, f.message);
    if (retry) throw new Error('some bindings failed; retrying');
  }

  /** False when the bind should be retried. */
  private async bind(pod: Pod, node: string): Promise<boolean> {
    const key = objectKey(pod);
    const ns = pod.metadata.namespace ?? 'default';
    const binding: Binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.metadata.name, namespace: ns, uid: pod.metadata.uid }, target: { kind: 'Node', name: node } };
    try {
      await this.client.createSubresource(R.pods, ns, pod.metadata.name!, 'binding', binding);
      this.unschedulable.delete(key);
      this.recorder.normal(pod, 'Scheduled', `Successfully assigned ${ns}/${pod.metadata.name} to ${node}`);
      return true;
    } catch (err) {
      this.assumed.delete(key);
      // Already bound (by us before a restart, or someone else), being deleted, or gone: nothing to do.
      if (isStatusError(err, 'Conflict') || isStatusError(err, 'NotFound')) return true;
      this.log.warn({ pod: key, node, err: (err as Error).message }, 'binding failed');
      this.recorder.warning(pod, 'FailedScheduling', `Binding rejected: ${(err as Error).message}`);
      return false;
    }
  }

  private async markUnschedulable(pod: Pod, message: string): Promise<void> {
    const key = objectKey(pod);
    this.unschedulable.set(key, pod.metadata.uid ?? '');
    this.recorder.warning(pod, 'FailedScheduling', message);
    const conditions = pod.status?.conditions ?? [];
    const cur = conditions.find((c) => c.type === 'PodScheduled');
    if (cur && cur.status === 'False' && cur.reason === 'Unschedulable' && cur.message === message) return;
    const cond = unschedulableCondition(message, this.now());
    if (cur?.status === 'False' && cur.lastTransitionTime) cond.lastTransitionTime = cur.lastTransitionTime;
    const next: Pod = structuredClone(pod);
    next.status = { ...(next.status ?? {}), phase: next.status?.phase ?? 'Pending', conditions: [...conditions.filter((c) => c.type !== 'PodScheduled'), cond] };
    try {
      await this.client.update<Pod>(R.pods, next, { subresource: 'status' });
    } catch (err) {
      if (isStatusError(err, 'NotFound')) return;
      if (!isStatusError(err, 'Conflict')) throw err;
      // Our copy was stale: decide again from the newer one.
      this.unschedulable.delete(key);
      this.enqueueAfter(PASS_KEY, 100);
    }
  }
}

function freesResources(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** Node changes that can make room: anything but the heartbeat's timestamps. */
function nodeChanged(old: Node, node: Node): boolean {
  const strip = (n: Node) =>
    JSON.stringify({
      labels: n.metadata.labels,
      spec: n.spec,
      allocatable: n.status?.allocatable,
      capacity: n.status?.capacity,
      ready: n.status?.conditions?.find((c) => c.type === 'Ready')?.status,
    });
  return strip(old) !== strip(node);
}
