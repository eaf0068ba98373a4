// ClusterRole aggregation (kube-controller-manager's clusterrole-aggregation controller): a ClusterRole
// with an aggregationRule holds the rules of every ClusterRole its selectors match, so a chart's
// ClusterRole labelled `rbac.authorization.k8s.io/aggregate-to-edit: "true"` extends `edit` (and,
// through it, `admin`). Any ClusterRole change looks at every aggregated role again: there are few.

import type { ClusterRole } from '../api/types.js';
import { R } from '../api/resources.js';
import type { Informer } from '../client/informer.js';
import type { Component, ComponentContext } from '../server/component.js';
import { QueueController, type Startable } from '../client/controller.js';
import { deepEqual } from '../util/equal.js';
import { aggregatedRules } from './logic/accounts.js';
import { isNotFound } from './shared.js';

export class ClusterRoleAggregationController extends QueueController<ComponentContext> implements Component {
  readonly name = 'clusterrole-aggregation-controller';
  private roles!: Informer<ClusterRole>;

  constructor() {
    super({ workers: 1, baseDelayMs: 100 });
  }

  protected setup(ctx: ComponentContext): Startable[] {
    this.roles = ctx.informers.for<ClusterRole>(R.clusterroles);
    const all = () => {
      for (const r of this.roles.list()) if (r.aggregationRule) this.enqueue(r.metadata.name!);
    };
    this.roles.on({ add: all, update: all, delete: all });
    return [this.roles];
  }

  protected async reconcile(name: string): Promise<void> {
    const role = this.roles.get(undefined, name);
    if (!role?.aggregationRule) return;
    const rules = aggregatedRules(role, this.roles.list());
    if (deepEqual(rules, role.rules ?? [])) return;
    try {
      await this.client.update(R.clusterroles, { ...role, rules });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
