// The PersistentVolume controller's decisions (Kubernetes' pkg/controller/volume/persistentvolume,
// pvcprotection and pvprotection), over the whole picture at once: claims bind to a volume pre-bound
// to them (a provisioner's) or to the smallest matching Available one; claims for a class with a
// provisioner get the provisioner and node annotations the provisioner waits for (WaitForFirstConsumer:
// the node of the first pod that uses the claim); volumes whose claim went are Released; the protection
// finalizers come off once no pod uses the claim / no claim is bound to the volume. Pure.

import type { Node, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../../api/types.js';
import { parseQuantity } from '../../api/quantity.js';
import { labelSelectorMatcher } from '../../api/selectors.js';
import {
  BETA_STORAGE_CLASS_ANNOTATION,
  BETA_STORAGE_PROVISIONER_ANNOTATION,
  BIND_COMPLETED_ANNOTATION,
  BOUND_BY_CONTROLLER_ANNOTATION,
  DEFAULT_CLASS_ANNOTATION,
  PV_PROTECTION_FINALIZER,
  PVC_PROTECTION_FINALIZER,
  SELECTED_NODE_ANNOTATION,
  STORAGE_PROVISIONER_ANNOTATION,
} from '../../api/well-known.js';
import { isPodTerminal } from './pod-status.js';

export type VolumeAction =
  | { kind: 'bind'; claim: PersistentVolumeClaim; volume: PersistentVolume }
  | { kind: 'setDefaultClass'; claim: PersistentVolumeClaim; className: string }
  | { kind: 'annotateClaim'; claim: PersistentVolumeClaim; annotations: Record<string, string> }
  | { kind: 'claimPhase'; claim: PersistentVolumeClaim; phase: 'Pending' | 'Lost' }
  | { kind: 'volumePhase'; volume: PersistentVolume; phase: 'Available' | 'Released' | 'Failed'; message?: string }
  | { kind: 'removeClaimFinalizer'; claim: PersistentVolumeClaim }
  | { kind: 'removeVolumeFinalizer'; volume: PersistentVolume }
  | { kind: 'event'; claim: PersistentVolumeClaim; type: 'Normal' | 'Warning'; reason: string; message: string };

export interface VolumeWorld {
  claims: readonly PersistentVolumeClaim[];
  volumes: readonly PersistentVolume[];
  classes: readonly StorageClass[];
  pods: readonly Pod[];
  nodes: readonly Node[];
}

/** The default StorageClass (the newest of several, as Kubernetes picks). */
export function defaultClass(classes: readonly StorageClass[]): StorageClass | undefined {
  const defaults = classes.filter((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true' && !c.metadata.deletionTimestamp);
  return defaults.sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || (a.metadata.name! < b.metadata.name! ? -1 : 1))[0];
}

export function claimClass(claim: PersistentVolumeClaim): string | undefined {
  return claim.spec.storageClassName ?? claim.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
}

function volumeClass(v: PersistentVolume): string {
  return v.spec.storageClassName ?? v.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? '';
}

function claimKey(ns: string | undefined, name: string | undefined): string {
  return `${ns ?? ''}/${name ?? ''}`;
}

/** Pods (not finished) that mount the claim, by namespace/claimName. */
export function claimUsers(pods: readonly Pod[]): Map<string, Pod[]> {
  const out = new Map<string, Pod[]>();
  for (const p of pods) {
    if (isPodTerminal(p)) continue;
    for (const v of p.spec.volumes ?? []) {
      const name = v.persistentVolumeClaim?.claimName;
      if (!name) continue;
      const k = claimKey(p.metadata.namespace, name);
      out.set(k, [...(out.get(k) ?? []), p]);
    }
  }
  return out;
}

/** Whether an Available volume can serve the claim (class, modes, size, selector, volume mode). */
export function volumeMatches(claim: PersistentVolumeClaim, v: PersistentVolume): boolean {
  if (volumeClass(v) !== (claimClass(claim) ?? '')) return false;
  const modes = v.spec.accessModes ?? [];
  if (!(claim.spec.accessModes ?? []).every((m) => modes.includes(m))) return false;
  if ((claim.spec.volumeMode ?? 'Filesystem') !== (v.spec.volumeMode ?? 'Filesystem')) return false;
  const want = claim.spec.resources?.requests?.storage;
  const has = v.spec.capacity?.storage;
  if (want !== undefined && (has === undefined || parseQuantity(has) < parseQuantity(want))) return false;
  if (claim.spec.selector && !labelSelectorMatcher(claim.spec.selector)(v.metadata.labels)) return false;
  return true;
}

function isBoundTo(v: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const ref = v.spec.claimRef;
  if (!ref || ref.name !== claim.metadata.name || (ref.namespace ?? '') !== (claim.metadata.namespace ?? '')) return false;
  return !ref.uid || ref.uid === claim.metadata.uid;
}

const EXTERNAL_PROVISIONING = (p: string) =>
  `Waiting for a volume to be created either by the external provisioner '${p}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`;

export function planVolumes(w: VolumeWorld): VolumeAction[] {
  const out: VolumeAction[] = [];
  const users = claimUsers(w.pods);
  const volumes = new Map(w.volumes.map((v) => [v.metadata.name!, v]));
  const classes = new Map(w.classes.map((c) => [c.metadata.name!, c]));
  const claims = new Map(w.claims.map((c) => [claimKey(c.metadata.namespace, c.metadata.name), c]));
  const taken = new Set<string>();
  const dflt = defaultClass(w.classes);

  for (const claim of w.claims) {
    const key = claimKey(claim.metadata.namespace, claim.metadata.name);
    if (claim.metadata.deletionTimestamp) {
      if ((claim.metadata.finalizers ?? []).includes(PVC_PROTECTION_FINALIZER) && !(users.get(key) ?? []).length) out.push({ kind: 'removeClaimFinalizer', claim });
      continue;
    }
    const phase = claim.status?.phase ?? 'Pending';
    const bound = claim.spec.volumeName ? volumes.get(claim.spec.volumeName) : undefined;
    if (phase === 'Bound') {
      if (!bound || !isBoundTo(bound, claim)) {
        out.push({ kind: 'claimPhase', claim, phase: 'Lost' });
        out.push({ kind: 'event', claim, type: 'Warning', reason: 'ClaimLost', message: bound ? 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!' : 'Bound claim has lost its PersistentVolume. Data on the volume is lost!' });
      }
      if (bound) taken.add(bound.metadata.name!);
      continue;
    }
    if (phase === 'Lost') continue;
    // Pending: a volume named by the claim, or one pre-bound to it, or a matching Available one.
    if (claim.spec.volumeName) {
      if (bound && (!bound.spec.claimRef || isBoundTo(bound, claim))) {
        out.push({ kind: 'bind', claim, volume: bound });
        taken.add(bound.metadata.name!);
      } else if (!bound) out.push({ kind: 'event', claim, type: 'Warning', reason: 'FailedBinding', message: `volume "${claim.spec.volumeName}" not found` });
      else out.push({ kind: 'event', claim, type: 'Warning', reason: 'FailedBinding', message: `volume "${claim.spec.volumeName}" already bound to a different claim.` });
      continue;
    }
    const preBound = w.volumes.find((v) => !v.metadata.deletionTimestamp && isBoundTo(v, claim) && v.status?.phase !== 'Released' && v.status?.phase !== 'Failed');
    if (preBound) {
      out.push({ kind: 'bind', claim, volume: preBound });
      taken.add(preBound.metadata.name!);
      continue;
    }
    let className = claimClass(claim);
    if (className === undefined && dflt) {
      // Retroactive default StorageClass assignment (Kubernetes 1.28+).
      out.push({ kind: 'setDefaultClass', claim, className: dflt.metadata.name! });
      className = dflt.metadata.name!;
    }
    const candidates = w.volumes
      .filter((v) => !v.metadata.deletionTimestamp && !v.spec.claimRef && !taken.has(v.metadata.name!) && (v.status?.phase ?? 'Available') !== 'Released' && v.status?.phase !== 'Failed')
      .filter((v) => volumeMatches({ ...claim, spec: { ...claim.spec, storageClassName: className } }, v))
      .sort((a, b) => parseQuantity(a.spec.capacity?.storage ?? '0') - parseQuantity(b.spec.capacity?.storage ?? '0'));
    if (candidates.length) {
      out.push({ kind: 'bind', claim, volume: candidates[0] });
      taken.add(candidates[0].metadata.name!);
      continue;
    }
    if (!className) {
      out.push({ kind: 'event', claim, type: 'Normal', reason: 'FailedBinding', message: 'no persistent volumes available for this claim and no storage class is set' });
      continue;
    }
    const cls = classes.get(className);
    if (!cls) {
      out.push({ kind: 'event', claim, type: 'Warning', reason: 'ProvisioningFailed', message: `storageclass.storage.k8s.io "${className}" not found` });
      continue;
    }
    if (cls.provisioner === 'kubernetes.io/no-provisioner') continue;
    const annotations: Record<string, string> = {};
    const ann = claim.metadata.annotations ?? {};
    if (ann[STORAGE_PROVISIONER_ANNOTATION] !== cls.provisioner) annotations[STORAGE_PROVISIONER_ANNOTATION] = cls.provisioner;
    if (ann[BETA_STORAGE_PROVISIONER_ANNOTATION] !== cls.provisioner) annotations[BETA_STORAGE_PROVISIONER_ANNOTATION] = cls.provisioner;
    if (!ann[SELECTED_NODE_ANNOTATION]) {
      if (cls.volumeBindingMode === 'WaitForFirstConsumer') {
        const consumer = (users.get(key) ?? []).find((p) => p.spec.nodeName && !p.metadata.deletionTimestamp);
        if (consumer) annotations[SELECTED_NODE_ANNOTATION] = consumer.spec.nodeName!;
        else {
          out.push({ kind: 'event', claim, type: 'Normal', reason: 'WaitForFirstConsumer', message: 'waiting for first consumer to be created before binding' });
          if (Object.keys(annotations).length) out.push({ kind: 'annotateClaim', claim, annotations });
          continue;
        }
      } else {
        const ready = w.nodes.filter((n) => !n.spec.unschedulable && n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        const node = [...ready].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1))[0];
        if (node) annotations[SELECTED_NODE_ANNOTATION] = node.metadata.name!;
      }
    }
    if (Object.keys(annotations).length) out.push({ kind: 'annotateClaim', claim, annotations });
    out.push({ kind: 'event', claim, type: 'Normal', reason: 'ExternalProvisioning', message: EXTERNAL_PROVISIONING(cls.provisioner) });
  }

  for (const v of w.volumes) {
    const bindings = out.filter((a): a is Extract<VolumeAction, { kind: 'bind' }> => a.kind === 'bind' && a.volume === v);
    if (v.metadata.deletionTimestamp) {
      const claimed = v.status?.phase === 'Bound' || bindings.length > 0;
      if ((v.metadata.finalizers ?? []).includes(PV_PROTECTION_FINALIZER) && !claimed) out.push({ kind: 'removeVolumeFinalizer', volume: v });
      continue;
    }
    if (bindings.length) continue;
    const ref = v.spec.claimRef;
    const phase = v.status?.phase ?? 'Pending';
    if (!ref) {
      if (phase !== 'Available') out.push({ kind: 'volumePhase', volume: v, phase: 'Available' });
      continue;
    }
    const claim = claims.get(claimKey(ref.namespace, ref.name));
    const gone = !claim || (ref.uid && claim.metadata.uid !== ref.uid);
    if (gone && phase !== 'Released' && phase !== 'Failed' && (phase === 'Bound' || ref.uid)) {
      out.push({ kind: 'volumePhase', volume: v, phase: 'Released' });
    } else if (!gone && phase === 'Pending') {
      // Pre-bound to a claim that is not bound yet: it waits for that claim, Available to no one else.
      out.push({ kind: 'volumePhase', volume: v, phase: 'Available' });
    }
  }
  return out;
}

export const BIND_ANNOTATIONS = { claim: BIND_COMPLETED_ANNOTATION, volume: BOUND_BY_CONTROLLER_ANNOTATION };
