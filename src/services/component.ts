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

export class ServicesComponent implements Component {
  readonly name = 'services';
  allocators?: ServiceAllocators;
  readonly endpoints = new EndpointsController();
  lb?: LoadBalancerController;
  private started: { stop(): Promise<void> }[] = [];

  async start(ctx: ComponentContext): Promise<void> {
    const { config } = ctx;
    const log = ctx.logger.child({ component: this.name });
    let allocators: ServiceAllocators;
    try {
      allocators = new ServiceAllocators({ serviceCIDR: config.serviceCIDR, nodePortRange: config.nodePortRange, clusterDNS: config.clusterDNS, allowedExternalIPs: config.allowedExternalIPs });
    } catch (err) {
      throw new Error(`--service-cidr ${config.serviceCIDR} / --service-node-port-range ${config.nodePortRange.join('-')}: ${(err as Error).message}`);
    }
    this.allocators = allocators;
    // Hooks first, gated on the rebuild: a Service written meanwhile waits instead of being missed.
    let rebuilt!: () => void;
    const ready = new Promise<void>((r) => (rebuilt = r));
    ctx.registry.addAdmission(allocators.hook(ready));
    const stored = await ctx.registry.list<Service>(R.services);
    for (const p of allocators.rebuild(stored.items)) log.warn(p);
    rebuilt();
    log.debug({ services: stored.items.length, clusterIPs: allocators.ips.used, nodePorts: allocators.ports.used }, 'service allocators rebuilt');

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

  async stop(): Promise<void> {
    for (const c of this.started.reverse()) await c.stop();
    this.started = [];
  }
}

export function createServices(): Component {
  return new ServicesComponent();
}
