// The access component: ServiceAccounts and RBAC upkeep that the API's security rests on, so it runs
// even with --disable controllers (as kube-apiserver's own loops would): the `default` ServiceAccount
// and `kube-root-ca.crt` of every namespace, ClusterRole aggregation, and the ServiceAccount admission
// plugin for Pods. The admission plugin runs on every server; the loops once per cluster (on the
// leader when several servers share an etcd), as 'services' and 'service-controllers' are split.

import type { ServiceAccount } from '../api/types.js';
import { R } from '../api/resources.js';
import type { Component, ComponentContext } from '../server/component.js';
import { ClusterRoleAggregationController } from './clusterrole-aggregation.js';
import { serviceAccountAdmission } from './serviceaccount-admission.js';
import { ServiceAccountsController } from './serviceaccounts.js';

export interface AccessOptions {
  /** The ServiceAccount admission plugin (default true). */
  admission?: boolean;
  /** The upkeep loops: default ServiceAccounts, kube-root-ca.crt, aggregation (default true). */
  controllers?: boolean;
}

export class AccessComponent implements Component {
  readonly name: string;
  private readonly parts: Component[];
  private started: Component[] = [];

  constructor(private readonly opts: AccessOptions = {}) {
    this.name = opts.admission === false ? 'access-controllers' : 'access';
    this.parts = opts.controllers === false ? [] : [new ServiceAccountsController(), new ClusterRoleAggregationController()];
  }

  async start(ctx: ComponentContext): Promise<void> {
    if (this.opts.admission !== false) ctx.registry.addAdmission(serviceAccountAdmission(ctx.informers.for<ServiceAccount>(R.serviceaccounts), ctx.client));
    for (const p of this.parts) {
      await p.start(ctx);
      this.started.push(p);
    }
  }

  async stop(): Promise<void> {
    for (const p of this.started.reverse()) await p.stop();
    this.started = [];
  }
}

export function createAccess(opts: AccessOptions = {}): Component {
  return new AccessComponent(opts);
}
