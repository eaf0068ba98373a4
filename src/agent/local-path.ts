// The node-local half of the local-path StorageClass: makes the directory of each claim the PV
// controller selected this node for and creates its PersistentVolume; deletes the directory and the
// volume once a Delete-policy volume is released. Runs inside the agent (a remote agent provisions
// on its own host). Decisions are local-path-plan.ts.

import fs from 'node:fs/promises';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../api/types.js';
import { R } from '../api/resources.js';
import { isStatusError } from '../api/errors.js';
import type { Informer } from '../client/informer.js';
import { QueueController, type Startable } from '../client/controller.js';
import type { Component, ComponentContext } from '../server/component.js';
import { claimsToProvision, storageRoot, volumesToReclaim } from './local-path-plan.js';

const PASS = 'pass';

export class LocalPathProvisioner extends QueueController<ComponentContext> implements Component {
  readonly name = 'local-path-provisioner';
  private claims!: Informer<PersistentVolumeClaim>;
  private volumes!: Informer<PersistentVolume>;
  private classes!: Informer<StorageClass>;

  constructor(
    private readonly nodeName: string,
    private readonly dataDir: string,
  ) {
    super({ workers: 1, baseDelayMs: 200 });
  }

  protected override get eventSource(): string {
    return 'kubelite.io/local-path';
  }

  protected setup(ctx: ComponentContext): Startable[] {
    const pass = () => this.enqueue(PASS);
    this.claims = ctx.informers.for<PersistentVolumeClaim>(R.persistentvolumeclaims);
    this.volumes = ctx.informers.for<PersistentVolume>(R.persistentvolumes);
    this.classes = ctx.informers.for<StorageClass>(R.storageclasses);
    this.claims.on({ add: pass, update: pass });
    this.volumes.on({ add: pass, update: pass, delete: pass });
    this.classes.on({ add: pass, update: pass });
    return [this.claims, this.volumes, this.classes];
  }

  protected override synced(): void {
    this.enqueue(PASS);
  }

  protected async reconcile(): Promise<void> {
    const volumes = this.volumes.list();
    for (const d of claimsToProvision(this.nodeName, this.dataDir, this.claims.list(), volumes, this.classes.list())) {
      const what = `${d.claim.metadata.namespace}/${d.claim.metadata.name}`;
      this.recorder.normal(d.claim, 'Provisioning', `External provisioner is provisioning volume for claim "${what}"`);
      await fs.mkdir(storageRoot(this.dataDir), { recursive: true, mode: 0o755 });
      await fs.mkdir(d.dir, { recursive: true });
      // Any user of any image can write to it, as local-path-provisioner makes it (mkdir -m 0777).
      await fs.chmod(d.dir, 0o777);
      try {
        await this.client.create(R.persistentvolumes, d.volume);
        this.recorder.normal(d.claim, 'ProvisioningSucceeded', `Successfully provisioned volume ${d.volume.metadata.name}`);
      } catch (err) {
        if (!isStatusError(err, 'AlreadyExists')) {
          this.recorder.warning(d.claim, 'ProvisioningFailed', `failed to provision volume with StorageClass "${d.claim.spec.storageClassName}": ${(err as Error).message}`);
          throw err;
        }
      }
    }
    for (const r of volumesToReclaim(this.nodeName, this.dataDir, volumes)) {
      await fs.rm(r.dir, { recursive: true, force: true });
      this.log.info({ volume: r.volume.metadata.name, dir: r.dir }, 'released volume deleted (reclaimPolicy Delete)');
      try {
        await this.client.delete(R.persistentvolumes, undefined, r.volume.metadata.name!, { preconditions: { uid: r.volume.metadata.uid } });
      } catch (err) {
        if (!isStatusError(err, 'NotFound')) throw err;
      }
    }
  }
}
