// The `kubernetes` Service in `default` (kube-apiserver's own endpoint reconciler): ClusterIP = the
// first address of the service CIDR, port 443, and Endpoints naming where Pods reach the API (the
// pod bridge's gateway, or the address the API is bound to). Recreated or repaired whenever someone
// deletes or edits it. Started by the server once it listens where the Endpoints point.

import type { Endpoints, Service } from '../api/types.js';
import { R } from '../api/resources.js';
import type { Informer } from '../client/informer.js';
import type { Component, ComponentContext } from '../server/component.js';
import { QueueController, type Startable } from '../client/controller.js';
import { semanticEqual } from '../api/validation/index.js';
import { KUBERNETES_SERVICE, kubernetesEndpoints, kubernetesService } from './logic/accounts.js';
import { isAlreadyExists, isNotFound } from './shared.js';

export interface KubernetesServiceOptions {
  clusterIP: string;
  /** Where Pods reach the API: undefined leaves the Service without Endpoints (no address Pods can use). */
  endpoint?: { ip: string; port: number };
  /** The Service's targetPort (the API's port). */
  port: number;
}

const KEY = `${KUBERNETES_SERVICE.namespace}/${KUBERNETES_SERVICE.name}`;

export class KubernetesServiceController extends QueueController<ComponentContext> implements Component {
  readonly name = 'kubernetes-service';
  private services!: Informer<Service>;
  private endpoints!: Informer<Endpoints>;

  constructor(private readonly o: KubernetesServiceOptions) {
    super({ workers: 1, baseDelayMs: 200 });
  }

  protected setup(ctx: ComponentContext): Startable[] {
    this.services = ctx.informers.for<Service>(R.services);
    this.endpoints = ctx.informers.for<Endpoints>(R.endpoints);
    const ours = (o: { metadata: { namespace?: string; name?: string } }) => {
      if (o.metadata.namespace === KUBERNETES_SERVICE.namespace && o.metadata.name === KUBERNETES_SERVICE.name) this.enqueue(KEY);
    };
    for (const inf of [this.services, this.endpoints] as Informer<Service | Endpoints>[]) inf.on({ add: ours, update: (_o, n) => ours(n), delete: ours });
    return [this.services, this.endpoints];
  }

  protected override synced(): void {
    this.enqueue(KEY);
  }

  protected async reconcile(): Promise<void> {
    const { namespace, name } = KUBERNETES_SERVICE;
    const want = kubernetesService(this.o.clusterIP, this.o.port);
    const svc = this.services.get(namespace, name);
    if (!svc) await this.create(() => this.client.create(R.services, want));
    else if (svc.spec.clusterIP !== this.o.clusterIP) {
      this.log.warn({ have: svc.spec.clusterIP, want: this.o.clusterIP }, 'the kubernetes Service has another ClusterIP (the service CIDR changed?): leaving it as it is');
    } else if (!semanticEqual(svc.spec.ports, want.spec.ports)) {
      await this.client.update(R.services, { ...svc, spec: { ...svc.spec, ports: want.spec.ports } });
    }
    const ep = this.endpoints.get(namespace, name);
    if (!this.o.endpoint) return;
    const wantEp = kubernetesEndpoints(this.o.endpoint.ip, this.o.endpoint.port);
    if (!ep) await this.create(() => this.client.create(R.endpoints, wantEp));
    else if (!semanticEqual(ep.subsets, wantEp.subsets)) await this.client.update(R.endpoints, { ...ep, subsets: wantEp.subsets });
  }

  private async create(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (!isAlreadyExists(err) && !isNotFound(err)) throw err;
    }
  }
}
