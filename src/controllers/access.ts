// The access component: ServiceAccounts and RBAC upkeep that the API's security rests on, so it runs
// even with --disable controllers (as kube-apiserver's own loops would): the `default` ServiceAccount
// and `kube-root-ca.crt` of every namespace, ClusterRole aggregation, and the ServiceAccount admission
// plugin for Pods.

import type { ServiceAccount } from '../api/types.js';
import { R } from '../api/resources.js';
import type { Component, ComponentContext } from '../server/component.js';
import { ClusterRoleAggregationController } from './clusterrole-aggregation.js';
import { serviceAccountAdmission } from './serviceaccount-admission.js';
import { ServiceAccountsController } from './serviceaccounts.js';

export class AccessComponent implements Component {
  readonly name = 'access';
  private readonly parts: Component[] = [new ServiceAccountsController(), new ClusterRoleAggregationController()];
  private started: Component[] = [];

  async start(ctx: ComponentContext): Promise<void> {
    ctx.registry.addAdmission(serviceAccountAdmission(ctx.informers.for<ServiceAccount>(R.serviceaccounts), ctx.client));
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

export function createAccess(): Component {
  return new AccessComponent();
}
