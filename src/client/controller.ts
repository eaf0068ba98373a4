// The client-go controller shape every loop in kubelite follows: shared informers whose handlers only
// enqueue a key (`namespace/name`, see api/keys.ts), a WorkQueue whose workers reconcile that key from
// the caches, writes through the ApiClient, and failures re-queued with rate-limited back-off. Workers
// start only once the caches have synced, so a first reconcile never acts on a partial view (e.g.
// creating pods that already exist). A write conflict only means the cache has moved on: the key is
// looked at again soon, backing off while it repeats, without the warning a real failure gets.

import { WorkQueue } from './workqueue.js';
import { EventRecorder } from './events.js';
import type { InformerFactory } from './informer.js';
import type { ApiClient } from './types.js';
import { isStatusError } from '../api/errors.js';
import type { Logger } from '../util/log.js';

/** What a controller needs to run: a subset of the server's ComponentContext (a remote agent has the same). */
export interface ControllerContext {
  client: ApiClient;
  informers: InformerFactory;
  logger: Logger;
  /** Event recorder factory; without one, Events are written through `client` as `component`. */
  recorder?(component: string): EventRecorder;
}

/** What setup() hands back: informers, whose first sync the workers wait for. */
export interface Startable {
  start(): Promise<void>;
}

export interface ControllerOptions {
  /** Parallel reconciles (never two for one key). */
  workers?: number;
  /** First retry delay after a failure; doubles per failure up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Clock, for tests. */
  now?: () => Date;
}

export abstract class QueueController<C extends ControllerContext = ControllerContext> {
  abstract readonly name: string;
  protected ctx!: C;
  protected client!: ApiClient;
  protected log!: Logger;
  protected recorder!: EventRecorder;
  protected queue!: WorkQueue;
  protected stopped = true;
  protected readonly now: () => Date;
  private readonly conflicts = new Map<string, number>();

  constructor(protected readonly opts: ControllerOptions = {}) {
    this.now = opts.now ?? (() => new Date());
  }

  /** Registers informers and handlers; returns the informers whose sync the workers wait for. */
  protected abstract setup(ctx: C): Startable[];

  /** Runs once the caches have synced, before the first reconcile (rebuild in-memory state from them). */
  protected synced(): void | Promise<void> {}

  protected abstract reconcile(key: string): Promise<void>;

  /** The `component` Events are recorded under (Kubernetes' controller names). */
  protected get eventSource(): string {
    return this.name;
  }

  async start(ctx: C): Promise<void> {
    this.ctx = ctx;
    this.client = ctx.client;
    this.log = ctx.logger.child({ component: this.name });
    this.recorder ??= ctx.recorder?.(this.eventSource) ?? new EventRecorder(ctx.client, this.eventSource, undefined, this.log);
    this.stopped = false;
    this.queue = new WorkQueue((key) => this.run(key), {
      name: this.name,
      workers: this.opts.workers ?? 2,
      baseDelayMs: this.opts.baseDelayMs,
      maxDelayMs: this.opts.maxDelayMs ?? 30_000,
      logger: this.log,
    });
    const informers = this.setup(ctx);
    await Promise.all(informers.map((i) => i.start()));
    await this.synced();
    this.queue.start();
  }

  private async run(key: string): Promise<void> {
    if (this.stopped) return;
    try {
      await this.reconcile(key);
      this.conflicts.delete(key);
    } catch (err) {
      if (!isStatusError(err, 'Conflict')) throw err;
      const n = (this.conflicts.get(key) ?? 0) + 1;
      this.conflicts.set(key, n);
      this.log.debug({ key, attempt: n, err: err.status.message }, 'write conflict; reconciling again');
      this.queue.addAfter(key, Math.min(10 * 2 ** (n - 1), 5000));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.queue?.stop();
  }

  enqueue(key: string): void {
    if (!this.stopped) this.queue.add(key);
  }

  enqueueAfter(key: string, delayMs: number): void {
    if (!this.stopped) this.queue.addAfter(key, delayMs);
  }

  /** Resolves when no key is queued or being reconciled (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }
}
