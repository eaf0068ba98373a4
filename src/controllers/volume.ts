// The PersistentVolume controller with claim and volume protection (Kubernetes' persistentvolume,
// pvcprotection, pvprotection controllers and the DefaultStorageClass admission plugin): binds claims
// to volumes, tells provisioners which claims to provision (and on which node), releases volumes whose
// claim is gone and lets protected deletions finish. One pass decides everything (planVolumes); a
// burst of changes collapses into one pass. It also creates the default StorageClass `local-path`
// once, as k3s ships it; an existing one is the user's to change.

import type { Node, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../api/types.js';
import { R } from '../api/resources.js';
import { DEFAULT_CLASS_ANNOTATION, DEFAULT_STORAGE_CLASS, LOCAL_PATH_PROVISIONER, PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER } from '../api/well-known.js';
import type { Informer } from '../client/informer.js';
import type { Component, ComponentContext } from '../server/component.js';
import { QueueController, type ControllerOptions, type Startable } from '../client/controller.js';
import { BIND_ANNOTATIONS, defaultClass, planVolumes, type VolumeAction } from './logic/volume-binding.js';
import { errorMessage, isAlreadyExists, isNotFound } from './shared.js';
import { rfc3339 } from '../util/time.js';

const PASS = 'pass';

export function defaultStorageClassObject(): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: DEFAULT_STORAGE_CLASS, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  };
}

export class VolumeController extends QueueController<ComponentContext> implements Component {
  readonly name = 'persistentvolume-binder';
  private claims!: Informer<PersistentVolumeClaim>;
  private volumes!: Informer<PersistentVolume>;
  private classes!: Informer<StorageClass>;
  private pods!: Informer<Pod>;
  private nodes!: Informer<Node>;
  /** The last event per claim uid and reason, so a pass repeats none. */
  private readonly said = new Map<string, string>();

  constructor(opts: ControllerOptions = {}) {
    super({ workers: 1, ...opts });
  }

  protected override get eventSource(): string {
    return 'persistentvolume-controller';
  }

  protected setup(ctx: ComponentContext): Startable[] {
    const pass = () => this.enqueue(PASS);
    this.claims = ctx.informers.for<PersistentVolumeClaim>(R.persistentvolumeclaims);
    this.volumes = ctx.informers.for<PersistentVolume>(R.persistentvolumes);
    this.classes = ctx.informers.for<StorageClass>(R.storageclasses);
    this.pods = ctx.informers.for<Pod>(R.pods);
    this.nodes = ctx.informers.for<Node>(R.nodes);
    this.claims.on({ add: pass, update: pass, delete: pass });
    this.volumes.on({ add: pass, update: pass, delete: pass });
    this.classes.on({ add: pass, update: pass, delete: pass });
    // Pods matter when they use a claim (WaitForFirstConsumer, protection).
    const usesClaim = (p: Pod) => (p.spec.volumes ?? []).some((v) => v.persistentVolumeClaim);
    this.pods.on({
      add: (p) => usesClaim(p) && pass(),
      update: (o, p) => usesClaim(p) && (o.spec.nodeName !== p.spec.nodeName || o.status?.phase !== p.status?.phase || o.metadata.deletionTimestamp !== p.metadata.deletionTimestamp) && pass(),
      delete: (p) => usesClaim(p) && pass(),
    });
    // The DefaultStorageClass admission plugin: a new claim naming no class gets the default one.
    ctx.registry.addAdmission({
      resource: R.persistentvolumeclaims,
      admit: (actx, obj) => {
        if (actx.op !== 'create' || actx.subresource) return;
        const claim = obj as PersistentVolumeClaim;
        if (claim.spec?.storageClassName !== undefined || claim.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] !== undefined) return;
        const dflt = defaultClass(this.classes.list());
        if (dflt) claim.spec.storageClassName = dflt.metadata.name;
      },
    });
    return [this.claims, this.volumes, this.classes, this.pods, this.nodes];
  }

  protected override async synced(): Promise<void> {
    try {
      await this.client.create(R.storageclasses, defaultStorageClassObject());
      this.log.info({ storageClass: DEFAULT_STORAGE_CLASS }, 'StorageClass created (default)');
    } catch (err) {
      if (!isAlreadyExists(err)) this.log.warn({ err: errorMessage(err) }, 'creating the default StorageClass failed');
    }
    this.enqueue(PASS);
  }

  protected async reconcile(): Promise<void> {
    const actions = planVolumes({ claims: this.claims.list(), volumes: this.volumes.list(), classes: this.classes.list(), pods: this.pods.list(), nodes: this.nodes.list() });
    let failure: unknown;
    for (const a of actions) {
      try {
        await this.act(a);
      } catch (err) {
        if (isNotFound(err)) continue;
        failure ??= err;
      }
    }
    if (failure) throw failure;
  }

  private async act(a: VolumeAction): Promise<void> {
    switch (a.kind) {
      case 'event': {
        const k = `${a.claim.metadata.uid}/${a.reason}`;
        if (this.said.get(k) === a.message) return;
        if (this.said.size > 10_000) this.said.clear();
        this.said.set(k, a.message);
        (a.type === 'Warning' ? this.recorder.warning : this.recorder.normal).call(this.recorder, a.claim, a.reason, a.message);
        return;
      }
      case 'setDefaultClass':
        await this.client.patch(R.persistentvolumeclaims, a.claim.metadata.namespace, a.claim.metadata.name!, 'merge', { spec: { storageClassName: a.className } });
        return;
      case 'annotateClaim':
        await this.client.patch(R.persistentvolumeclaims, a.claim.metadata.namespace, a.claim.metadata.name!, 'merge', { metadata: { annotations: a.annotations } });
        return;
      case 'claimPhase':
        await this.client.patch(R.persistentvolumeclaims, a.claim.metadata.namespace, a.claim.metadata.name!, 'merge', { status: { phase: a.phase } }, { subresource: 'status' });
        return;
      case 'volumePhase':
        await this.client.patch(R.persistentvolumes, undefined, a.volume.metadata.name!, 'merge', { status: { phase: a.phase, lastPhaseTransitionTime: rfc3339(), ...(a.message ? { message: a.message } : {}) } }, { subresource: 'status' });
        return;
      case 'removeClaimFinalizer': {
        const rest = (a.claim.metadata.finalizers ?? []).filter((f) => f !== PVC_PROTECTION_FINALIZER);
        await this.client.patch(R.persistentvolumeclaims, a.claim.metadata.namespace, a.claim.metadata.name!, 'merge', { metadata: { finalizers: rest.length ? rest : null, uid: a.claim.metadata.uid } });
        return;
      }
      case 'removeVolumeFinalizer': {
        const rest = (a.volume.metadata.finalizers ?? []).filter((f) => f !== PV_PROTECTION_FINALIZER);
        await this.client.patch(R.persistentvolumes, undefined, a.volume.metadata.name!, 'merge', { metadata: { finalizers: rest.length ? rest : null, uid: a.volume.metadata.uid } });
        return;
      }
      case 'bind':
        await this.bind(a.claim, a.volume);
        return;
    }
  }

  /** Volume first (claimRef, Bound), then the claim (volumeName, Bound with the volume's capacity and modes). */
  private async bind(claim: PersistentVolumeClaim, volume: PersistentVolume): Promise<void> {
    const ns = claim.metadata.namespace;
    const claimRef = { kind: 'PersistentVolumeClaim', namespace: ns, name: claim.metadata.name, uid: claim.metadata.uid, apiVersion: 'v1', resourceVersion: claim.metadata.resourceVersion };
    const ref = volume.spec.claimRef;
    if (!ref || ref.uid !== claim.metadata.uid) {
      await this.client.patch(R.persistentvolumes, undefined, volume.metadata.name!, 'merge', { metadata: { annotations: { [BIND_ANNOTATIONS.volume]: 'yes' } }, spec: { claimRef } });
    }
    if (volume.status?.phase !== 'Bound') {
      await this.client.patch(R.persistentvolumes, undefined, volume.metadata.name!, 'merge', { status: { phase: 'Bound', lastPhaseTransitionTime: rfc3339() } }, { subresource: 'status' });
    }
    if (claim.spec.volumeName !== volume.metadata.name || claim.metadata.annotations?.[BIND_ANNOTATIONS.claim] !== 'yes') {
      await this.client.patch(R.persistentvolumeclaims, ns, claim.metadata.name!, 'merge', { metadata: { annotations: { [BIND_ANNOTATIONS.claim]: 'yes', [BIND_ANNOTATIONS.volume]: 'yes' } }, spec: { volumeName: volume.metadata.name } });
    }
    await this.client.patch(R.persistentvolumeclaims, ns, claim.metadata.name!, 'merge', { status: { phase: 'Bound', accessModes: volume.spec.accessModes, capacity: volume.spec.capacity } }, { subresource: 'status' });
  }
}
