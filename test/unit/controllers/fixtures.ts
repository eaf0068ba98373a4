// An in-process cluster for controller tests: a Registry over a MemoryStore (the real API semantics,
// no HTTP, no Docker), shared informers, the real controllers and scheduler, and a fake kubelet that
// turns bound pods Running/Ready on request and completes graceful deletions.

import type { Deployment, Event, KObject, Node, Pod, ReplicaSet } from '../../../src/api/types.js';
import { R } from '../../../src/api/resources.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { Registry } from '../../../src/server/registry.js';
import { InformerFactory, type Informer } from '../../../src/client/informer.js';
import { objectKey } from '../../../src/api/keys.js';
import { WorkQueue } from '../../../src/client/workqueue.js';
import { EventRecorder } from '../../../src/client/events.js';
import type { Component, ComponentContext } from '../../../src/server/component.js';
import { defaultConfig, hostNames } from '../../../src/config.js';
import { silentLogger } from '../../../src/util/log.js';
import { isStatusError } from '../../../src/api/errors.js';
import { ReplicaSetController } from '../../../src/controllers/replicaset.js';
import { DeploymentController } from '../../../src/controllers/deployment.js';
import { GarbageCollector } from '../../../src/controllers/gc.js';
import { NamespaceController } from '../../../src/controllers/namespace.js';
import { Scheduler } from '../../../src/scheduler/loop.js';
import { rfc3339 } from '../../../src/util/time.js';

export type Part = 'rs' | 'deploy' | 'gc' | 'ns' | 'scheduler' | 'kubelet';

export interface KubeletOptions {
  /** Whether a running pod reports Ready (default: always). */
  ready?: (pod: Pod) => boolean;
  /** Delay before a bound pod turns Running/Ready, ms. */
  startDelayMs?: number;
  /** Delay before a pod marked for deletion is removed, ms. */
  stopDelayMs?: number;
}

export const NODE = 'node1';

export function node(name = NODE, opts: { cpu?: string; memory?: string; pods?: string; ready?: boolean } = {}): Node {
  const resources = { cpu: opts.cpu ?? '4', memory: opts.memory ?? '8Gi', pods: opts.pods ?? '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: {},
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', reason: 'KubeletReady', message: 'ready' }],
    },
  };
}

export function deployment(name: string, o: { replicas?: number; image?: string; surge?: number | string; unavailable?: number | string; recreate?: boolean; labels?: Record<string, string>; namespace?: string; minReady?: number; progressDeadline?: number } = {}): Deployment {
  const labels = o.labels ?? { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: o.namespace ?? 'default' },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: labels },
      strategy: o.recreate ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxSurge: o.surge ?? '25%', maxUnavailable: o.unavailable ?? '25%' } },
      ...(o.minReady ? { minReadySeconds: o.minReady } : {}),
      ...(o.progressDeadline ? { progressDeadlineSeconds: o.progressDeadline } : {}),
      template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: o.image ?? 'kubelite/echo:1' }] } },
    },
  };
}

export function replicaSet(name: string, o: { replicas?: number; labels?: Record<string, string>; image?: string } = {}): ReplicaSet {
  const labels = o.labels ?? { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default' },
    spec: { replicas: o.replicas ?? 3, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: o.image ?? 'kubelite/echo:1' }] } } },
  };
}

export function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Marks bound pods Running (and Ready when allowed) and finishes graceful deletions, like a node would. */
export class FakeKubelet implements Component {
  readonly name = 'fake-kubelet';
  private inf!: Informer<Pod>;
  private queue!: WorkQueue;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly registry: Registry,
    public opts: KubeletOptions = {},
  ) {}

  async start(ctx: ComponentContext): Promise<void> {
    this.inf = ctx.informers.for<Pod>(R.pods);
    this.queue = new WorkQueue((k) => this.sync(k), { name: this.name, workers: 4 });
    const enqueue = (p: Pod) => this.queue.add(objectKey(p));
    this.inf.on({ add: enqueue, update: (_o, p) => enqueue(p) });
    await this.inf.start();
    this.queue.start();
  }

  async stop(): Promise<void> {
    this.queue.stop();
    for (const t of this.timers) clearTimeout(t);
  }

  /** Re-evaluates every pod (after the ready predicate changed). */
  resync(): void {
    for (const p of this.inf.list()) this.queue.add(objectKey(p));
  }

  private later(ms: number | undefined, key: string): boolean {
    if (!ms) return false;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.queue.add(key);
    }, ms);
    this.timers.add(t);
    return true;
  }

  private readonly due = new Map<string, number>();

  /** Timers may fire a little early: look again when the moment has not come yet. */
  private notYet(dueKey: string, key: string): boolean {
    const left = (this.due.get(dueKey) ?? 0) - Date.now();
    if (left <= 0) return false;
    this.later(left, key);
    return true;
  }

  private async sync(key: string): Promise<void> {
    const pod = this.inf.getByKey(key);
    if (!pod || !pod.spec.nodeName) return;
    const ns = pod.metadata.namespace!;
    const name = pod.metadata.name!;
    if (pod.metadata.deletionTimestamp) {
      if (!pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'False')) {
        // A real agent reports not-ready first, so endpoints drop the pod before it stops.
        await this.writeStatus(pod, false);
        return;
      }
      const dueKey = `stop:${pod.metadata.uid}`;
      if (this.opts.stopDelayMs && !this.due.has(dueKey)) {
        this.due.set(dueKey, Date.now() + this.opts.stopDelayMs);
        this.later(this.opts.stopDelayMs, key);
        return;
      }
      if (this.notYet(dueKey, key)) return;
      try {
        await this.registry.delete(R.pods, ns, name, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
      } catch (err) {
        if (!isStatusError(err, 'NotFound') && !isStatusError(err, 'Conflict')) throw err;
      }
      return;
    }
    const dueKey = `start:${pod.metadata.uid}`;
    if (this.opts.startDelayMs && !this.due.has(dueKey)) {
      this.due.set(dueKey, Date.now() + this.opts.startDelayMs);
      this.later(this.opts.startDelayMs, key);
      return;
    }
    if (this.notYet(dueKey, key)) return;
    const ready = this.opts.ready ? this.opts.ready(pod) : true;
    if (pod.status?.phase === 'Running' && isReady(pod) === ready) return;
    await this.writeStatus(pod, ready);
  }

  private async writeStatus(pod: Pod, ready: boolean): Promise<void> {
    const now = rfc3339();
    const prev = pod.status?.conditions?.find((c) => c.type === 'Ready');
    const readyCond = { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: prev && (prev.status === 'True') === ready ? prev.lastTransitionTime : now } as const;
    const next = structuredClone(pod);
    next.status = {
      ...(next.status ?? {}),
      phase: 'Running',
      podIP: next.status?.podIP ?? `10.244.0.${1 + Math.floor(Math.random() * 250)}`,
      conditions: [...(next.status?.conditions ?? []).filter((c) => c.type !== 'Ready' && c.type !== 'ContainersReady'), readyCond, { ...readyCond, type: 'ContainersReady' }],
    };
    try {
      await this.registry.update(R.pods, next, { subresource: 'status' });
    } catch (err) {
      if (!isStatusError(err, 'NotFound') && !isStatusError(err, 'Conflict')) throw err;
      this.queue.addAfter(`${pod.metadata.namespace}/${pod.metadata.name}`, 5);
    }
  }
}

export interface TestCluster {
  registry: Registry;
  informers: InformerFactory;
  ctx: ComponentContext;
  kubelet?: FakeKubelet;
  scheduler?: Scheduler;
  rs?: ReplicaSetController;
  deploy?: DeploymentController;
  gc?: GarbageCollector;
  ns?: NamespaceController;
  pods(namespace?: string): Promise<Pod[]>;
  replicaSets(namespace?: string): Promise<ReplicaSet[]>;
  events(reason?: string): Promise<Event[]>;
  /** Stops the components, keeping the store (to start fresh ones over it). */
  stopComponents(): Promise<void>;
  stop(): Promise<void>;
}

export async function startCluster(
  parts: Part[],
  opts: { kubelet?: KubeletOptions; nodes?: Node[]; now?: () => Date; registry?: Registry; gcResyncSchedule?: string; namespaceGracePeriodMs?: number } = {},
): Promise<TestCluster> {
  // A given registry is shared with an earlier cluster: fresh components over the same state, as after a restart.
  const owned = !opts.registry;
  const registry = opts.registry ?? new Registry(new MemoryStore());
  const store = registry.store;
  if (owned) {
    await store.open();
    await registry.bootstrapNamespaces();
    for (const n of opts.nodes ?? (parts.includes('scheduler') ? [node()] : [])) await registry.create(R.nodes, n);
  }
  const logger = silentLogger();
  const informers = new InformerFactory(registry, logger);
  const config = defaultConfig({ resyncSchedule: '*/2 * * * * *' });
  const ctx: ComponentContext = {
    client: registry,
    registry,
    config,
    names: hostNames(config),
    informers,
    logger,
    recorder: (c) => new EventRecorder(registry, c, 'test', logger),
    addSubresource() {},
    addRoutes() {},
    addPublicRoutes() {},
    addReadiness() {},
    addUpgradeHandler() {},
  };
  const c: TestCluster = {
    registry,
    informers,
    ctx,
    async pods(namespace = 'default') {
      return (await registry.list<Pod>(R.pods, { namespace })).items;
    },
    async replicaSets(namespace = 'default') {
      return (await registry.list<ReplicaSet>(R.replicasets, { namespace })).items;
    },
    async events(reason) {
      const items = (await registry.list<Event>(R.events)).items;
      return reason ? items.filter((e) => e.reason === reason) : items;
    },
    async stopComponents() {
      if (stopped) return;
      stopped = true;
      for (const comp of started.reverse()) await comp.stop();
      informers.stop();
    },
    async stop() {
      await c.stopComponents();
      if (owned && !closed) {
        closed = true;
        await store.close();
      }
    },
  };
  const now = opts.now;
  const started: Component[] = [];
  let stopped = false;
  let closed = false;
  const add = async (comp: Component) => {
    await comp.start(ctx);
    started.push(comp);
  };
  if (parts.includes('kubelet')) await add((c.kubelet = new FakeKubelet(registry, opts.kubelet)));
  if (parts.includes('scheduler')) await add((c.scheduler = new Scheduler({ now, rand: () => 0 })));
  if (parts.includes('rs')) await add((c.rs = new ReplicaSetController({ now })));
  if (parts.includes('deploy')) await add((c.deploy = new DeploymentController({ now })));
  // gcResyncSchedule '' runs no periodic pass: only the collector's reaction to changes is tested.
  if (parts.includes('gc')) await add((c.gc = new GarbageCollector({ now, resyncSchedule: opts.gcResyncSchedule })));
  if (parts.includes('ns')) await add((c.ns = new NamespaceController({ now, deletionGracePeriodMs: opts.namespaceGracePeriodMs })));
  await informers.start();
  return c;
}

/** Polls until fn returns something truthy; fails with `what` after the timeout. */
export type Truthy<T> = Exclude<T, false | '' | 0 | null | undefined>;

export async function until<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 10_000): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as Truthy<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function ownerUid(obj: KObject): string | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller)?.uid;
}

export function activePods(pods: Pod[]): Pod[] {
  return pods.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
}
