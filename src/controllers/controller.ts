// The client-go controller shape every loop here follows: shared informers whose handlers only enqueue
// a key, a WorkQueue whose workers reconcile that key from the caches, writes through the ApiClient,
// and failures re-queued with back-off. Workers start only once the caches have synced, so a first
// reconcile never acts on a partial view (e.g. creating pods that already exist).

import { WorkQueue } from '../client/workqueue.js';
import type { EventRecorder } from '../client/events.js';
import type { ApiClient } from '../client/types.js';
import type { Component, ComponentContext } from '../server/component.js';
import type { Logger } from '../util/log.js';
import { errorMessage, isConflict } from './shared.js';

/** What setup() hands back: informers, whose first sync the workers wait for. */
export interface Startable {
  start(): Promise<void>;
}

export interface ControllerOptions {
  /** Parallel reconciles (never two for one key). */
  workers?: number;
  /** Clock, for tests. */
  now?: () => Date;
}

export abstract class QueueController implements Component {
  abstract readonly name: string;
  protected ctx!: ComponentContext;
  protected client!: ApiClient;
  protected log!: Logger;
  protected recorder!: EventRecorder;
  protected queue!: WorkQueue;
  protected readonly now: () => Date;

  constructor(protected readonly opts: ControllerOptions = {}) {
    this.now = opts.now ?? (() => new Date());
  }

  /** Registers informers and handlers; returns the informers whose sync the workers wait for. */
  protected abstract setup(ctx: ComponentContext): Startable[];

  protected abstract reconcile(key: string): Promise<void>;

  /** The `component` Events are recorded under (Kubernetes' controller names). */
  protected get eventSource(): string {
    return this.name;
  }

  async start(ctx: ComponentContext): Promise<void> {
    this.ctx = ctx;
    this.client = ctx.client;
    this.log = ctx.logger.child({ component: this.name });
    this.recorder = ctx.recorder(this.eventSource);
    this.queue = new WorkQueue((key) => this.run(key), { name: this.name, workers: this.opts.workers ?? 2, logger: this.log, maxDelayMs: 30_000 });
    const informers = this.setup(ctx);
    await Promise.all(informers.map((i) => i.start()));
    this.queue.start();
  }

  private readonly conflicts = new Map<string, number>();

  /**
   * A conflict only means a write was based on a cache that has moved on: look again soon (backing off
   * while it repeats) without the warning a real failure gets.
   */
  private async run(key: string): Promise<void> {
    try {
      await this.reconcile(key);
      this.conflicts.delete(key);
    } catch (err) {
      if (!isConflict(err)) throw err;
      const n = (this.conflicts.get(key) ?? 0) + 1;
      this.conflicts.set(key, n);
      this.log.debug({ key, attempt: n, err: errorMessage(err) }, 'write conflict; reconciling again');
      this.queue.addAfter(key, Math.min(10 * 2 ** (n - 1), 5000));
    }
  }

  async stop(): Promise<void> {
    this.queue?.stop();
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** Resolves when no key is queued or being reconciled (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }
}
