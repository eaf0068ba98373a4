// The 'services' server component: the Service semantics that belong to the API whatever else runs —
// ClusterIP/NodePort allocation (registry admission), the Endpoints/EndpointSlice controller and the
// LoadBalancer status controller. The data plane (the proxier) is a separate component, so
// `--disable proxy` leaves the API behaving exactly the same.

import type { Service } from '../api/types.js';
import { R } from '../api/resources.js';
import type { Component, ComponentContext } from '../server/component.js';
import { EndpointsController } from './endpoints-controller.js';
import { LoadBalancerController } from './loadbalancer.js';
import { hostPrimaryIPv4 } from '../host/node-ips.js';
import { ServiceAllocators } from './service-admission.js';
import { SharedServiceAllocations } from './shared-allocations.js';

const REPAIR_PERIOD_MS = 30_000;

export interface ServicesOptions {
  /**
   * Run the Endpoints/EndpointSlice and LoadBalancer controllers here too (default). `kubelite server`
   * runs them as the leader-only 'service-controllers' instead, so several servers never race.
   */
  controllers?: boolean;
}

export class ServicesComponent implements Component {
  readonly name = 'services';
  allocators?: ServiceAllocators;
  readonly endpoints = new EndpointsController();
  lb?: LoadBalancerController;
  private started: { stop(): Promise<void> }[] = [];

  constructor(private readonly opts: ServicesOptions = {}) {}

  private newAllocators(ctx: ComponentContext): ServiceAllocators {
    const { config } = ctx;
    try {
      return new ServiceAllocators({ serviceCIDR: config.serviceCIDR, nodePortRange: config.nodePortRange, clusterDNS: config.clusterDNS, allowedExternalIPs: config.allowedExternalIPs });
    } catch (err) {
      throw new Error(`--service-cidr ${config.serviceCIDR} / --service-node-port-range ${config.nodePortRange.join('-')}: ${(err as Error).message}`);
    }
  }

  async start(ctx: ComponentContext): Promise<void> {
    const log = ctx.logger.child({ component: this.name });
    const allocators = this.newAllocators(ctx);
    this.allocators = allocators;
    if (ctx.config.etcd) {
      // Several servers may allocate at once: every allocation is a compare-and-swap of the shared state.
      ctx.registry.addAdmission(new SharedServiceAllocations(ctx.registry.store, allocators, log).hook());
      if (this.opts.controllers !== false) await this.startControllers(ctx);
      return;
    }
    // Hooks first, gated on the rebuild: a Service written meanwhile waits instead of being missed.
    let rebuilt!: () => void;
    const ready = new Promise<void>((r) => (rebuilt = r));
    ctx.registry.addAdmission(allocators.hook(ready));
    const stored = await ctx.registry.list<Service>(R.services);
    for (const p of allocators.rebuild(stored.items)) log.warn(p);
    rebuilt();
    log.debug({ services: stored.items.length, clusterIPs: allocators.ips.used, nodePorts: allocators.ports.used }, 'service allocators rebuilt');
    if (this.opts.controllers !== false) await this.startControllers(ctx);
  }

  /** The Endpoints/EndpointSlice and LoadBalancer controllers (work that must run once per cluster). */
  async startControllers(ctx: ComponentContext): Promise<void> {
    const { config } = ctx;
    if (config.etcd) this.startRepair(ctx);
    await this.endpoints.start(ctx);
    this.started.push(this.endpoints);
    try {
      this.lb = new LoadBalancerController({ lbPool: config.lbPool, fallbackIPs: () => [hostPrimaryIPv4()] });
    } catch (err) {
      throw new Error(`--lb-pool ${config.lbPool}: ${(err as Error).message}`);
    }
    await this.lb.start(ctx);
    this.started.push(this.lb);
  }

  /** The shared allocation state's repair (kube-apiserver's repair loop): at once, then every 30 s. */
  private startRepair(ctx: ComponentContext): void {
    const shared = new SharedServiceAllocations(ctx.registry.store, this.newAllocators(ctx), ctx.logger.child({ component: 'service-allocation-repair' }));
    let leaks = new Set<string>();
    let busy = false;
    const pass = async () => {
      if (busy) return;
      busy = true;
      try {
        leaks = await shared.repair(leaks);
      } catch (err) {
        ctx.logger.warn({ err: String(err) }, 'service allocation repair failed; retrying next period');
      } finally {
        busy = false;
      }
    };
    void pass();
    const timer = setInterval(() => void pass(), REPAIR_PERIOD_MS);
    timer.unref();
    this.started.push({ stop: async () => clearInterval(timer) });
  }

  async stop(): Promise<void> {
    for (const c of this.started.reverse()) await c.stop();
    this.started = [];
  }
}

export function createServices(opts: ServicesOptions = {}): Component {
  return new ServicesComponent(opts);
}

/** The Service controllers alone, for the leader (see ServicesOptions.controllers). */
export function createServiceControllers(): Component {
  const inner = new ServicesComponent();
  return { name: 'service-controllers', start: (ctx) => inner.startControllers(ctx), stop: () => inner.stop() };
}
