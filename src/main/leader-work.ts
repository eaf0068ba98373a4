// Work that must happen once per cluster (controllers, scheduler, Service controllers, repairs, Event
// TTL): with several servers on one etcd it runs only on the one holding the leader Lease. Each term
// gets fresh component instances and informers of its own, so nothing of a previous term (queues,
// handlers) lingers when this server leads again.

import type { Component, ComponentContext } from '../server/component.js';
import { InformerFactory } from '../client/informer.js';
import type { Logger } from '../util/log.js';

/** A component that runs only on the leader; `load` makes a fresh instance per leadership term. */
export class LeaderOnlyComponent implements Component {
  readonly leaderOnly = true;
  private inner?: Component;

  constructor(
    readonly name: string,
    readonly load: () => Promise<Component>,
    /** Without leader election: what it waits for at start (start-order.ts). */
    readonly dependsOn?: readonly string[],
  ) {}

  /** Without leader election (one server) it simply runs. */
  async start(ctx: ComponentContext): Promise<void> {
    this.inner = await this.load();
    await this.inner.start(ctx);
  }

  async stop(): Promise<void> {
    await this.inner?.stop();
    this.inner = undefined;
  }
}

export function isLeaderOnly(c: Component): c is LeaderOnlyComponent {
  return (c as Partial<LeaderOnlyComponent>).leaderOnly === true;
}

/** Starts the registered leader-only components when this server starts leading, stops them when it stops. */
export class LeaderWork {
  private readonly entries: LeaderOnlyComponent[] = [];
  private running: { c: Component; informers: InformerFactory }[] = [];
  private busy: Promise<void> = Promise.resolve();
  /** performance.now() of the last start, for the failover figure in the logs. */
  startedAt?: number;

  constructor(
    private readonly ctx: ComponentContext,
    private readonly logger: Logger,
  ) {}

  register(c: LeaderOnlyComponent): void {
    this.entries.push(c);
  }

  get active(): boolean {
    return this.running.length > 0;
  }

  start(): Promise<void> {
    return (this.busy = this.busy.then(() => this.startAll()));
  }

  stop(): Promise<void> {
    return (this.busy = this.busy.then(() => this.stopAll()));
  }

  private async startAll(): Promise<void> {
    if (this.running.length > 0) return;
    const t0 = performance.now();
    for (const e of this.entries) {
      const informers = new InformerFactory(this.ctx.client, this.logger);
      const c = await e.load();
      try {
        await c.start({ ...this.ctx, informers });
        await informers.start();
        this.running.push({ c, informers });
      } catch (err) {
        informers.stop();
        this.logger.error({ component: e.name, err: String(err) }, 'leader-only component failed to start');
      }
    }
    this.startedAt = performance.now();
    this.logger.info({ components: this.running.map((r) => r.c.name), ms: Math.round(this.startedAt - t0) }, 'leader work started');
  }

  private async stopAll(): Promise<void> {
    const running = this.running.reverse();
    this.running = [];
    for (const { c, informers } of running) {
      try {
        await c.stop();
      } catch (err) {
        this.logger.warn({ component: c.name, err: String(err) }, 'leader-only component stop failed');
      }
      informers.stop();
    }
    if (running.length) this.logger.info('leader work stopped');
  }
}
