// The node lifecycle controller: watches every node's Lease (kube-node-lease) and Ready heartbeat, and
// when a node has not been seen alive for --node-monitor-grace-period it marks the node Unknown, taints
// it unreachable, turns its Pods unready (they leave every Endpoints at once) and deletes them once their
// tolerations run out, so their controllers replace them on other nodes. A node that reports Ready=False
// itself (its Docker engine died) gets the not-ready taints the same way. Cluster-wide work: with several
// servers it runs on the leader only. The decisions are in logic/node-lifecycle.ts.

import type { Lease } from '../api/types-coordination.js';
import type { Node, Pod } from '../api/types.js';
import { R } from '../api/resources.js';
import type { Informer } from '../client/informer.js';
import type { Component, ComponentContext } from '../server/component.js';
import { QueueController, type ControllerOptions, type Startable } from '../client/controller.js';
import {
  desiredTaints,
  evictionFor,
  isStale,
  notReadyConditions,
  podsToMarkNotReady,
  readyStatus,
  StallDetector,
  statusHeartbeat,
  taintsEqual,
  unknownConditions,
} from './logic/node-lifecycle.js';
import { errorMessage, isConflict, isNotFound } from './shared.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const POD_NODE_INDEX = 'node-lifecycle:nodeName';

export interface NodeLifecycleOptions extends ControllerOptions {
  /** Overrides --node-monitor-grace-period (tests). */
  gracePeriodMs?: number;
}

export class NodeLifecycleController extends QueueController<ComponentContext> implements Component {
  readonly name = 'node-lifecycle-controller';
  private nodes!: Informer<Node>;
  private leases!: Informer<Lease>;
  private pods!: Informer<Pod>;
  private graceMs = 6000;
  /** node -> when this controller last saw its Lease or heartbeat change (its own clock). */
  private readonly observedAt = new Map<string, number>();
  private readonly leaseVersion = new Map<string, string>();
  private monitor?: NodeJS.Timeout;
  private stall?: StallDetector;

  constructor(private readonly lifecycleOpts: NodeLifecycleOptions = {}) {
    super({ workers: 2, baseDelayMs: 100, ...lifecycleOpts });
  }

  protected override get eventSource(): string {
    return 'node-controller';
  }

  protected setup(ctx: ComponentContext): Startable[] {
    this.graceMs = this.lifecycleOpts.gracePeriodMs ?? ctx.config.nodeMonitorGracePeriodSeconds * 1000;
    this.nodes = ctx.informers.for<Node>(R.nodes);
    this.leases = ctx.informers.for<Lease>(R.leases);
    this.pods = ctx.informers.for<Pod>(R.pods);
    this.pods.addIndex(POD_NODE_INDEX, (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
    const seen = (name: string) => {
      this.observedAt.set(name, Date.now());
      this.enqueue(name);
    };
    this.nodes.on({
      add: (n) => seen(n.metadata.name!),
      update: (o, n) => {
        if (statusHeartbeat(o) !== statusHeartbeat(n)) seen(n.metadata.name!);
        else this.enqueue(n.metadata.name!);
      },
      delete: (n) => {
        this.observedAt.delete(n.metadata.name!);
        this.leaseVersion.delete(n.metadata.name!);
      },
    });
    const onLease = (l: Lease) => {
      if (l.metadata.namespace !== NODE_LEASE_NAMESPACE) return;
      const name = l.metadata.name!;
      // A renewal is a new renewTime; its value is the node's clock and is never compared with ours.
      const version = `${l.spec?.renewTime ?? ''}|${l.spec?.holderIdentity ?? ''}`;
      if (this.leaseVersion.get(name) === version) return;
      this.leaseVersion.set(name, version);
      seen(name);
    };
    this.leases.on({ add: onLease, update: (_o, l) => onLease(l) });
    this.pods.on({
      add: (p) => this.podChanged(p),
      update: (_o, p) => this.podChanged(p),
    });
    return [this.nodes, this.leases, this.pods];
  }

  protected override synced(): void {
    // Every node starts with a full grace period from now: whatever happened while no controller
    // watched is not held against it.
    this.freshGrace();
    // A process that was stopped (SIGSTOP, a paused container, a starved machine) saw no Lease change
    // meanwhile either: after such a gap every node gets a fresh grace period too.
    this.stall = new StallDetector(this.graceMs / 2, Date.now());
    // The timer looks several times within half a grace period, so its own period is never taken for a stall.
    this.monitor = setInterval(() => this.noticeStall(Date.now()), Math.min(250, this.graceMs / 4));
    this.monitor.unref();
  }

  /**
   * After a stall, a fresh grace period for every node. The monitor's timer and every reconcile look:
   * after a stall, timers and watch events fire in any order, and a reconcile that ran first must not
   * hold the stall against its node. The look is recorded either way, so a stall is handled once (a
   * reconcile that re-queued every node on every run, without I/O in between, would starve the event
   * loop: the API stopped answering after a paused server container was resumed).
   */
  private noticeStall(now: number): void {
    const gap = this.stall?.look(now);
    if (gap === undefined) return;
    this.log.warn({ gapMs: gap }, 'the node lifecycle controller did not run for a while: every node gets a fresh grace period');
    this.freshGrace();
  }

  private freshGrace(): void {
    const now = Date.now();
    for (const n of this.nodes.list()) {
      this.observedAt.set(n.metadata.name!, now);
      this.enqueue(n.metadata.name!);
    }
  }

  override async stop(): Promise<void> {
    clearInterval(this.monitor);
    await super.stop();
  }

  private podChanged(p: Pod): void {
    const node = p.spec?.nodeName;
    if (!node) return;
    const n = this.nodes.get(undefined, node);
    // Only a Pod on a node in trouble needs a look (a Ready one that must turn unready, or a new one to evict).
    if (n && (readyStatus(n) !== 'True' || (n.spec?.taints ?? []).some((t) => t.effect === 'NoExecute'))) this.enqueue(node);
  }

  protected async reconcile(name: string): Promise<void> {
    const node = this.nodes.get(undefined, name);
    if (!node) return;
    const now = Date.now();
    // A stall the monitor has not seen yet (this very timer fired late) is not the node's fault.
    this.noticeStall(now);
    const observed = this.observedAt.get(name) ?? now;
    if (!this.observedAt.has(name)) this.observedAt.set(name, now);

    let current = node;
    if (isStale(observed, now, this.graceMs)) {
      const conditions = unknownConditions(current, new Date(now));
      if (conditions) {
        current = await this.client.update<Node>(R.nodes, { ...current, status: { ...current.status, conditions } }, { subresource: 'status' });
        this.recorder.normal(current, 'NodeNotReady', `Node ${name} status is now: NodeNotReady (no heartbeat for ${Math.round((now - observed) / 1000)}s)`);
        this.log.info({ node: name, silentMs: now - observed }, 'node is unreachable');
      }
    } else {
      // Look again when the grace period would run out.
      this.enqueueAfter(name, observed + this.graceMs - now + 50);
    }

    const taints = desiredTaints(current, new Date(now));
    if (!taintsEqual(taints, current.spec?.taints)) {
      try {
        current = await this.client.update<Node>(R.nodes, { ...current, spec: { ...current.spec, taints: taints.length ? taints : undefined } });
      } catch (err) {
        if (isConflict(err) || isNotFound(err)) throw err;
        this.log.warn({ node: name, err: errorMessage(err) }, 'could not update the node\'s taints');
      }
    }

    const pods = this.pods.byIndex(POD_NODE_INDEX, name);
    for (const pod of podsToMarkNotReady(current, pods)) {
      try {
        await this.client.update<Pod>(R.pods, { ...pod, status: { ...pod.status, conditions: notReadyConditions(pod, new Date(now)) } }, { subresource: 'status' });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
        if (isConflict(err)) this.enqueueAfter(name, 50);
      }
    }

    let next: number | undefined;
    for (const pod of pods) {
      const d = evictionFor(pod, current.spec?.taints ?? [], now);
      if (!d.evict) {
        if (d.at !== undefined) next = next === undefined ? d.at : Math.min(next, d.at);
        continue;
      }
      try {
        await this.client.delete(R.pods, pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
        this.recorder.normal(pod, 'TaintManagerEviction', `Marking for deletion Pod ${pod.metadata.namespace}/${pod.metadata.name}: ${d.why}`);
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
    if (next !== undefined) this.enqueueAfter(name, Math.max(0, next - now) + 20);
  }
}

export function createNodeLifecycle(opts: NodeLifecycleOptions = {}): Component {
  return new NodeLifecycleController(opts);
}
