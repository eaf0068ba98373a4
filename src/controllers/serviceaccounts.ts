// Every namespace gets a `default` ServiceAccount (kube-controller-manager's serviceaccounts-controller)
// and the `kube-root-ca.crt` ConfigMap with the cluster CA (its root-ca-cert-publisher), which the
// token volume of every Pod reads its ca.crt from. A deleted one comes back; a namespace being
// deleted is left alone. The key is the namespace's name.

import fs from 'node:fs';
import path from 'node:path';
import type { ConfigMap, Namespace, ServiceAccount } from '../api/types.js';
import { R } from '../api/resources.js';
import type { Informer } from '../client/informer.js';
import type { Component, ComponentContext } from '../server/component.js';
import { QueueController, type Startable } from '../client/controller.js';
import { DEFAULT_SERVICE_ACCOUNT, defaultServiceAccount, ROOT_CA_CONFIGMAP, rootCAConfigMap } from './logic/accounts.js';
import { isAlreadyExists, isNotFound } from './shared.js';

export class ServiceAccountsController extends QueueController<ComponentContext> implements Component {
  readonly name = 'serviceaccount-controller';
  private namespaces!: Informer<Namespace>;
  private accounts!: Informer<ServiceAccount>;
  private configMaps!: Informer<ConfigMap>;
  private caPem = '';

  constructor(private readonly caFile?: string) {
    super({ workers: 2, baseDelayMs: 100 });
  }

  protected setup(ctx: ComponentContext): Startable[] {
    this.caPem = fs.readFileSync(this.caFile ?? path.join(ctx.config.dataDir, 'pki', 'ca.crt'), 'utf8');
    this.namespaces = ctx.informers.for<Namespace>(R.namespaces);
    this.accounts = ctx.informers.for<ServiceAccount>(R.serviceaccounts);
    this.configMaps = ctx.informers.for<ConfigMap>(R.configmaps);
    this.namespaces.on({ add: (ns) => this.enqueue(ns.metadata.name!), update: (_o, ns) => this.enqueue(ns.metadata.name!) });
    const mine = (o: ServiceAccount | ConfigMap, name: string) => {
      if (o.metadata.name === name) this.enqueue(o.metadata.namespace!);
    };
    this.accounts.on({ delete: (sa) => mine(sa, DEFAULT_SERVICE_ACCOUNT) });
    this.configMaps.on({ update: (_o, cm) => mine(cm, ROOT_CA_CONFIGMAP), delete: (cm) => mine(cm, ROOT_CA_CONFIGMAP) });
    return [this.namespaces, this.accounts, this.configMaps];
  }

  protected async reconcile(namespace: string): Promise<void> {
    const ns = this.namespaces.get(undefined, namespace);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    if (!this.accounts.get(namespace, DEFAULT_SERVICE_ACCOUNT)) await this.createIgnoringRaces(() => this.client.create(R.serviceaccounts, defaultServiceAccount(namespace)));
    const cm = this.configMaps.get(namespace, ROOT_CA_CONFIGMAP);
    const want = rootCAConfigMap(namespace, this.caPem);
    if (!cm) await this.createIgnoringRaces(() => this.client.create(R.configmaps, want));
    else if (cm.data?.['ca.crt'] !== this.caPem) await this.client.update(R.configmaps, { ...cm, data: want.data });
  }

  /** Someone else created it first, or the namespace went away meanwhile: nothing to do. */
  private async createIgnoringRaces(create: () => Promise<unknown>): Promise<void> {
    try {
      await create();
    } catch (err) {
      if (isAlreadyExists(err) || isNotFound(err)) return;
      if ((err as { status?: { reason?: string } }).status?.reason === 'Forbidden') return; // namespace terminating
      throw err;
    }
  }
}
