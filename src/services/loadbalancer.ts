// LoadBalancer Services without a cloud: this controller fills in status.loadBalancer.ingress. Without
// --lb-pool a Service gets the nodes' InternalIPs (k3s ServiceLB's way); with a pool, one address per
// Service (spec.loadBalancerIP when it is in the pool and free), which the proxier then puts on its
// local device. The status is the record: the pool is rebuilt from it when the server starts, and an
// address is released when its Service is deleted or stops being a LoadBalancer.

import type { LoadBalancerIngress, Node, Service } from '../api/types.js';
import { R } from '../api/resources.js';
import { isStatusError } from '../api/errors.js';
import type { Informer } from '../client/informer.js';
import { QueueController, type ControllerContext, type Startable } from '../client/controller.js';
import { clone, deepEqual } from '../util/equal.js';
import { IPAllocator, RangeFullError, type Random } from './allocators.js';
import { objectKey } from '../api/keys.js';
import { nodeInternalIPs } from '../host/node-ips.js';

/** A LoadBalancer Service this controller serves (one with a loadBalancerClass belongs to another implementation). */
export function servedByUs(svc: Service): boolean {
  return (svc.spec?.type ?? 'ClusterIP') === 'LoadBalancer' && !svc.spec?.loadBalancerClass;
}

export function currentIngress(svc: Service): LoadBalancerIngress[] {
  return svc.status?.loadBalancer?.ingress ?? [];
}

export function ingressFor(ips: string[]): LoadBalancerIngress[] {
  return ips.map((ip) => ({ ip, ipMode: 'VIP' as const }));
}

export type PoolAssignment = { ok: true; ip: string } | { ok: false; message: string };

/** One address per Service out of --lb-pool, owned by the Service's uid. Pure (in memory). */
export class LBPool {
  private readonly ips: IPAllocator;
  private readonly byOwner = new Map<string, string>();

  constructor(readonly cidr: string, opts: { random?: Random } = {}) {
    this.ips = new IPAllocator(cidr, { maxPrefix: 8, random: opts.random });
  }

  contains(ip: string): boolean {
    return this.ips.contains(ip);
  }

  held(uid: string): string | undefined {
    return this.byOwner.get(uid);
  }

  /** Takes the pool addresses the stored Services' status shows, oldest Service first. Returns problems. */
  rebuild(services: Service[]): string[] {
    this.ips.clear();
    this.byOwner.clear();
    const problems: string[] = [];
    const sorted = services.filter(servedByUs).sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || objectKey(a).localeCompare(objectKey(b)));
    for (const svc of sorted) {
      const uid = svc.metadata.uid ?? objectKey(svc);
      for (const ing of currentIngress(svc)) {
        if (!ing.ip || !this.ips.contains(ing.ip) || this.byOwner.has(uid)) continue;
        const r = this.ips.allocate(ing.ip, uid);
        if (r.ok) this.byOwner.set(uid, ing.ip);
        else problems.push(`service ${objectKey(svc)}: load balancer address ${ing.ip} is also held by ${r.owner}: it gets another one`);
      }
    }
    return problems;
  }

  /** The address `svc` should have: the one it holds, its loadBalancerIP, or the next free one. */
  assign(svc: Service): PoolAssignment {
    const uid = svc.metadata.uid ?? objectKey(svc);
    const current = this.byOwner.get(uid);
    const requested = svc.spec?.loadBalancerIP || undefined;
    if (requested) {
      if (requested === current) return { ok: true, ip: current };
      if (!this.ips.contains(requested)) return { ok: false, message: `spec.loadBalancerIP ${requested} is not in the load balancer pool ${this.cidr}` };
      const r = this.ips.allocate(requested, uid);
      if (!r.ok) return { ok: false, message: `spec.loadBalancerIP ${requested} is already assigned to another Service` };
      if (current) this.ips.release(current, uid);
      this.byOwner.set(uid, requested);
      return { ok: true, ip: requested };
    }
    if (current) return { ok: true, ip: current };
    try {
      const ip = this.ips.allocateNext(uid);
      this.byOwner.set(uid, ip);
      return { ok: true, ip };
    } catch (err) {
      if (err instanceof RangeFullError) return { ok: false, message: `no free address left in the load balancer pool ${this.cidr}` };
      throw err;
    }
  }

  /** True when the Service held an address. */
  release(uid: string): boolean {
    const ip = this.byOwner.get(uid);
    if (ip === undefined) return false;
    this.byOwner.delete(uid);
    this.ips.release(ip, uid);
    return true;
  }

  get used(): number {
    return this.ips.used;
  }
}

export interface LoadBalancerOptions {
  /** --lb-pool; undefined: the nodes' InternalIPs. */
  lbPool?: string;
  /** Addresses to use when no Node object has an InternalIP (the agent is disabled or not registered yet). */
  fallbackIPs: () => string[];
  random?: Random;
}

export class LoadBalancerController extends QueueController {
  readonly name = 'service-lb-controller';
  private svcInf!: Informer<Service>;
  private nodeInf!: Informer<Node>;
  private readonly pool?: LBPool;
  /** Last failure message per Service, so the same problem is not recorded on every retry. */
  private readonly failures = new Map<string, string>();

  constructor(private readonly lbOpts: LoadBalancerOptions) {
    super({ workers: 1, baseDelayMs: 20 });
    if (lbOpts.lbPool) this.pool = new LBPool(lbOpts.lbPool, { random: lbOpts.random });
  }

  protected setup(ctx: ControllerContext): Startable[] {
    this.svcInf = ctx.informers.for<Service>(R.services);
    this.nodeInf = ctx.informers.for<Node>(R.nodes);
    this.svcInf.on({
      add: (s) => this.enqueue(objectKey(s)),
      update: (o, s) => {
        if (o.spec?.type === 'LoadBalancer' || s.spec?.type === 'LoadBalancer' || currentIngress(s).length > 0) this.enqueue(objectKey(s));
      },
      delete: (s) => {
        this.failures.delete(objectKey(s));
        if (this.pool?.release(s.metadata.uid ?? objectKey(s))) this.retryPending();
      },
    });
    const nodesChanged = () => {
      if (!this.pool) this.enqueueAll();
    };
    this.nodeInf.on({ add: nodesChanged, update: (o, n) => !deepEqual(o.status?.addresses, n.status?.addresses) && nodesChanged(), delete: nodesChanged });
    return [this.svcInf, this.nodeInf];
  }

  protected override synced(): void {
    if (this.pool) for (const p of this.pool.rebuild(this.svcInf.list())) this.log.warn(p);
  }

  private enqueueAll(): void {
    for (const s of this.svcInf.list()) if (servedByUs(s)) this.enqueue(objectKey(s));
  }

  /** A pool address came free: Services still waiting for one get another try. */
  private retryPending(): void {
    for (const s of this.svcInf.list()) if (servedByUs(s) && !this.pool?.held(s.metadata.uid ?? objectKey(s))) this.enqueue(objectKey(s));
  }

  private nodeIPs(): string[] {
    const ips = nodeInternalIPs(this.nodeInf.list());
    return ips.length ? ips : this.lbOpts.fallbackIPs();
  }

  protected async reconcile(key: string): Promise<void> {
    const svc = this.svcInf.getByKey(key);
    if (!svc) return;
    const uid = svc.metadata.uid ?? key;
    if (!servedByUs(svc)) {
      if (this.pool?.release(uid)) this.retryPending();
      // A Service that stopped being a LoadBalancer loses its addresses; another implementation's stay.
      if ((svc.spec?.type ?? 'ClusterIP') !== 'LoadBalancer' && currentIngress(svc).length > 0) await this.writeIngress(svc, []);
      this.failures.delete(key);
      return;
    }
    let desired: LoadBalancerIngress[];
    if (this.pool) {
      const a = this.pool.assign(svc);
      if (a.ok) {
        desired = ingressFor([a.ip]);
        this.failures.delete(key);
      } else {
        desired = [];
        if (this.failures.get(key) !== a.message) {
          this.failures.set(key, a.message);
          this.log.warn({ service: key }, a.message);
          this.recorder.warning(svc, 'SyncLoadBalancerFailed', `Error syncing load balancer: ${a.message}`);
        }
      }
    } else {
      desired = ingressFor(this.nodeIPs());
    }
    if (deepEqual(currentIngress(svc), desired)) return;
    await this.writeIngress(svc, desired);
    if (desired.length) this.recorder.normal(svc, 'EnsuredLoadBalancer', `Ensured load balancer: ${desired.map((i) => i.ip).join(', ')}`);
  }

  private async writeIngress(svc: Service, ingress: LoadBalancerIngress[]): Promise<void> {
    const next = clone(svc);
    next.status = { ...(next.status ?? {}), loadBalancer: ingress.length ? { ingress } : {} };
    try {
      await this.client.update(R.services, next, { subresource: 'status' });
    } catch (err) {
      // Deleted meanwhile: nothing left to do. A conflict is retried by the queue with the fresh object.
      if (!isStatusError(err, 'NotFound')) throw err;
    }
  }
}
