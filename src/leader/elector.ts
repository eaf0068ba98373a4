// The leader election loop: every retry period, read the Lease, decide (lease.ts), write it with the
// resourceVersion read (compare-and-swap in the store, so two candidates can never both win), and
// tell the caller when this server starts or stops leading. A leader that cannot renew within the
// renew deadline stops leading before any follower may take over (the lease duration is longer).

import crypto from 'node:crypto';
import os from 'node:os';
import promClient from 'prom-client';
import { R } from '../api/resources.js';
import { isStatusError } from '../api/errors.js';
import type { ApiClient } from '../client/types.js';
import type { Logger } from '../util/log.js';
import { checkTimings, decide, microTime, observe, released, type Lease, type LeaseTimings, type Observation } from './lease.js';

export interface ElectorOptions {
  client: ApiClient;
  namespace: string;
  name: string;
  /** Unique per process: host name plus a random suffix (a restarted server is a new candidate). */
  identity?: string;
  timings: LeaseTimings;
  logger?: Logger;
  onStartedLeading(): Promise<void> | void;
  onStoppedLeading(): Promise<void> | void;
}

function metrics() {
  const get = <T>(name: string, make: () => T): T => (promClient.register.getSingleMetric(name) as T | undefined) ?? make();
  return {
    leading: get('kubelite_leader_is_leader', () => new promClient.Gauge({ name: 'kubelite_leader_is_leader', help: '1 while this server holds the leader Lease (runs controllers, scheduler, repairs)', labelNames: ['lease'] })),
    transitions: get('kubelite_leader_transitions_total', () => new promClient.Counter({ name: 'kubelite_leader_transitions_total', help: 'Times this server started or stopped leading', labelNames: ['lease', 'to'] })),
    leaseTransitions: get('kubelite_leader_lease_transitions', () => new promClient.Gauge({ name: 'kubelite_leader_lease_transitions', help: 'The Lease\'s spec.leaseTransitions as last read (changes of holder, cluster-wide)', labelNames: ['lease'] })),
  };
}

export class LeaderElector {
  readonly identity: string;
  private seen: Observation | undefined;
  private lastRenew = -Infinity;
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();
  private readonly m = metrics();

  constructor(private readonly opts: ElectorOptions) {
    const bad = checkTimings(opts.timings);
    if (bad) throw new Error(`leader election: ${bad}`);
    this.identity = opts.identity ?? `${os.hostname()}_${crypto.randomBytes(4).toString('hex')}`;
    this.m.leading.set({ lease: opts.name }, 0);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    const loop = async () => {
      if (this.stopped) return;
      await (this.running = this.tick());
      if (!this.stopped) this.timer = setTimeout(loop, this.opts.timings.retryPeriodMs);
    };
    void loop();
  }

  /** Stops trying; a leader stops its work and releases the Lease so a follower takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    if (!this.leading) return;
    await this.setLeading(false);
    try {
      const cur = await this.opts.client.get<Lease>(R.leases, this.opts.namespace, this.opts.name);
      if (cur.spec?.holderIdentity === this.identity) await this.opts.client.update(R.leases, released(cur, microTime()));
    } catch (err) {
      this.opts.logger?.debug({ err: String(err) }, 'leader lease not released (it expires by itself)');
    }
  }

  /** One try: acquire or renew, or note who leads. */
  async tick(): Promise<void> {
    const { client, namespace, name, timings } = this.opts;
    const now = performance.now();
    try {
      let current: Lease | undefined;
      try {
        current = await client.get<Lease>(R.leases, namespace, name);
      } catch (err) {
        if (!isStatusError(err, 'NotFound')) throw err;
      }
      this.seen = observe(this.seen, current, now);
      if (current?.spec?.leaseTransitions !== undefined) this.m.leaseTransitions.set({ lease: name }, current.spec.leaseTransitions);
      const step = decide(current, this.seen, this.identity, now, microTime(), timings, { namespace, name });
      if (step.action === 'wait') {
        if (this.leading) await this.setLeading(false);
        return;
      }
      const written = step.action === 'create' ? await client.create<Lease>(R.leases, step.lease) : await client.update<Lease>(R.leases, step.lease);
      this.seen = observe(this.seen, written, performance.now());
      this.lastRenew = now;
      if (step.action === 'update' && step.acquiring) this.opts.logger?.info({ lease: `${namespace}/${name}`, identity: this.identity, previous: current?.spec?.holderIdentity || undefined }, 'acquired the leader lease');
      if (!this.leading) await this.setLeading(true);
    } catch (err) {
      // Lost a race (409) or the store is away: a leader keeps leading until its renew deadline.
      if (!isStatusError(err, 'Conflict') && !isStatusError(err, 'AlreadyExists')) this.opts.logger?.warn({ err: (err as Error).message }, 'leader election: lease not written');
      if (this.leading && now - this.lastRenew > timings.renewDeadlineMs) {
        this.opts.logger?.warn({ lease: `${namespace}/${name}`, sinceRenewMs: Math.round(now - this.lastRenew) }, 'could not renew the leader lease in time: stepping down');
        await this.setLeading(false);
      }
    }
  }

  private async setLeading(leading: boolean): Promise<void> {
    if (this.leading === leading) return;
    this.leading = leading;
    this.m.leading.set({ lease: this.opts.name }, leading ? 1 : 0);
    this.m.transitions.inc({ lease: this.opts.name, to: leading ? 'leader' : 'follower' });
    this.opts.logger?.info({ identity: this.identity, leading }, leading ? 'started leading' : 'stopped leading');
    try {
      await (leading ? this.opts.onStartedLeading() : this.opts.onStoppedLeading());
    } catch (err) {
      this.opts.logger?.error({ err: String(err) }, `${leading ? 'starting' : 'stopping'} the leader's work failed`);
    }
  }
}
