// The CustomResourceDefinition controller (apiextensions-apiserver's naming, establishing and
// finalizing controllers): accepts a definition's names and marks it Established (the server starts
// serving it on that status), and when a definition is deleted, deletes every object of it in every
// namespace, then removes the cleanup finalizer so the definition itself goes. The objects are found
// through the definition alone (api/crd/resources.ts), never through the server's own tables.

import type { CustomResourceDefinition, KObject } from '../api/types.js';
import { R } from '../api/resources.js';
import { CRD_CLEANUP_FINALIZER, crdStorageResource } from '../api/crd/resources.js';
import type { Informer } from '../client/informer.js';
import type { Component, ComponentContext } from '../server/component.js';
import { QueueController, type ControllerOptions, type Startable } from '../client/controller.js';
import { crdStatus, statusEqual } from './logic/index.js';
import { isConflict, isNotFound } from './shared.js';
import { rfc3339 } from '../util/time.js';

export class CRDController extends QueueController<ComponentContext> implements Component {
  readonly name = 'crd-controller';
  private crdInf!: Informer<CustomResourceDefinition>;
  private readonly attempts = new Map<string, number>();

  constructor(opts: ControllerOptions = {}) {
    super({ workers: 2, ...opts });
  }

  protected setup(ctx: ComponentContext): Startable[] {
    this.crdInf = ctx.informers.for<CustomResourceDefinition>(R.customresourcedefinitions);
    this.crdInf.on({
      add: (c) => this.enqueue(c.metadata.name!),
      update: (o, c) => {
        this.enqueue(c.metadata.name!);
        // A definition whose names changed may free or take names another one waits for.
        if (JSON.stringify(o.spec?.names) !== JSON.stringify(c.spec?.names)) this.requeueGroup(c.spec.group, c.metadata.name!);
      },
      delete: (c) => {
        this.attempts.delete(c.metadata.name!);
        this.requeueGroup(c.spec.group, c.metadata.name!);
      },
    });
    return [this.crdInf];
  }

  private requeueGroup(group: string, except: string): void {
    for (const o of this.crdInf.list()) if (o.spec?.group === group && o.metadata.name !== except) this.enqueue(o.metadata.name!);
  }

  protected async reconcile(name: string): Promise<void> {
    const crd = this.crdInf.get(undefined, name);
    if (!crd) return;
    const others = this.crdInf.list().filter((o) => o.metadata.name !== name);
    if (crd.metadata.deletionTimestamp) return this.finalize(crd, others);
    await this.writeStatus(crd, crdStatus(crd, others, rfc3339(this.now())));
  }

  private async writeStatus(crd: CustomResourceDefinition, status: CustomResourceDefinition['status']): Promise<void> {
    if (statusEqual(crd.status, status)) return;
    try {
      await this.client.update<CustomResourceDefinition>(R.customresourcedefinitions, { ...crd, status }, { subresource: 'status' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Deletes the definition's objects; once none is left, lets the definition go. */
  private async finalize(crd: CustomResourceDefinition, others: CustomResourceDefinition[]): Promise<void> {
    const name = crd.metadata.name!;
    if (!(crd.metadata.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER)) return;
    const res = crdStorageResource(crd);
    let remaining = 0;
    if (res) {
      const list = await this.client.list<KObject>(res);
      for (const obj of list.items) {
        remaining++;
        if (obj.metadata.deletionTimestamp) continue;
        try {
          await this.client.delete(res, obj.metadata.namespace, obj.metadata.name!, { preconditions: { uid: obj.metadata.uid } });
        } catch (err) {
          if (!isNotFound(err) && !isConflict(err)) throw err;
        }
      }
      // Objects deleted without finalizers are gone now: count what really remains.
      if (remaining > 0) remaining = (await this.client.list<KObject>(res)).items.length;
    }
    await this.writeStatus(crd, crdStatus(crd, others, rfc3339(this.now()), { remaining }));
    if (remaining > 0) {
      const n = (this.attempts.get(name) ?? 0) + 1;
      this.attempts.set(name, n);
      this.enqueueAfter(name, Math.min(200 * 2 ** (n - 1), 5000));
      return;
    }
    this.attempts.delete(name);
    const latest = await this.client.get<CustomResourceDefinition>(R.customresourcedefinitions, undefined, name).catch((err) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (!latest) return;
    const finalizers = (latest.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
    await this.client.patch(R.customresourcedefinitions, undefined, name, 'merge', {
      metadata: { finalizers: finalizers.length ? finalizers : null, resourceVersion: latest.metadata.resourceVersion },
    });
    this.log.info({ crd: name }, 'custom objects deleted; definition finalized');
  }
}
