// kubelite's local-path provisioner, decided per node (pure): a claim of a class whose provisioner is
// kubelite.io/local-path, whose selected node is this node, gets a directory
// <dataDir>/storage/pvc-<uid>_<namespace>_<name> and a PersistentVolume pre-bound to it (hostPath,
// node affinity to this node); a released volume of ours with reclaimPolicy Delete loses its
// directory and then its object. Capacity is recorded, not enforced: a directory has no size limit.

import path from 'node:path';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../api/types.js';
import { LOCAL_PATH_PROVISIONER, PROVISIONED_BY_ANNOTATION, SELECTED_NODE_ANNOTATION, STORAGE_PROVISIONER_ANNOTATION } from '../api/well-known.js';

const SAFE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** The directory of all provisioned volumes of this node. */
export function storageRoot(dataDir: string): string {
  return path.join(dataDir, 'storage');
}

/** `pvc-<claim uid>`: the volume of one claim (as the external provisioners name them). */
export function volumeNameFor(claim: PersistentVolumeClaim): string {
  return `pvc-${claim.metadata.uid}`;
}

/** The claim's directory; every part validated so nothing escapes the storage root. */
export function claimDir(dataDir: string, claim: PersistentVolumeClaim): string {
  const uid = claim.metadata.uid ?? '';
  const ns = claim.metadata.namespace ?? '';
  const name = claim.metadata.name ?? '';
  if (!/^[a-f0-9-]+$/i.test(uid) || !SAFE.test(ns) || !SAFE.test(name)) throw new Error(`refusing to make a directory for claim ${JSON.stringify(`${ns}/${name}`)} (uid ${JSON.stringify(uid)})`);
  return path.join(storageRoot(dataDir), `pvc-${uid}_${ns}_${name}`);
}

/** Whether `dir` is a direct child of the storage root (the only place reclaim may delete). */
export function insideStorageRoot(dataDir: string, dir: string): boolean {
  const root = storageRoot(dataDir);
  const resolved = path.resolve(dir);
  return path.dirname(resolved) === root && path.basename(resolved).startsWith('pvc-');
}

export interface ProvisionDecision {
  claim: PersistentVolumeClaim;
  dir: string;
  volume: PersistentVolume;
}

/** Claims this node should provision now: ours, selected for this node, not bound, no volume yet. */
export function claimsToProvision(nodeName: string, dataDir: string, claims: readonly PersistentVolumeClaim[], volumes: readonly PersistentVolume[], classes: readonly StorageClass[]): ProvisionDecision[] {
  const ours = new Map(classes.filter((c) => c.provisioner === LOCAL_PATH_PROVISIONER).map((c) => [c.metadata.name!, c]));
  const volumeNames = new Set(volumes.map((v) => v.metadata.name));
  const preBound = new Set(volumes.map((v) => v.spec.claimRef?.uid).filter(Boolean));
  const out: ProvisionDecision[] = [];
  for (const claim of claims) {
    if (claim.metadata.deletionTimestamp || claim.spec.volumeName || claim.status?.phase === 'Bound') continue;
    const ann = claim.metadata.annotations ?? {};
    if (ann[STORAGE_PROVISIONER_ANNOTATION] !== LOCAL_PATH_PROVISIONER || ann[SELECTED_NODE_ANNOTATION] !== nodeName) continue;
    const cls = ours.get(claim.spec.storageClassName ?? '');
    if (!cls) continue;
    const name = volumeNameFor(claim);
    if (volumeNames.has(name) || preBound.has(claim.metadata.uid)) continue;
    let dir: string;
    try {
      dir = claimDir(dataDir, claim);
    } catch {
      continue;
    }
    out.push({ claim, dir, volume: volumeFor(claim, cls, nodeName, dir) });
  }
  return out;
}

export function volumeFor(claim: PersistentVolumeClaim, cls: StorageClass, nodeName: string, dir: string): PersistentVolume {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: volumeNameFor(claim), annotations: { [PROVISIONED_BY_ANNOTATION]: LOCAL_PATH_PROVISIONER, 'local.path.provisioner/selected-node': nodeName } },
    spec: {
      capacity: { storage: claim.spec.resources?.requests?.storage ?? '0' },
      accessModes: claim.spec.accessModes ?? ['ReadWriteOnce'],
      claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: claim.metadata.namespace, name: claim.metadata.name, uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion },
      persistentVolumeReclaimPolicy: cls.reclaimPolicy ?? 'Delete',
      storageClassName: cls.metadata.name,
      volumeMode: claim.spec.volumeMode ?? 'Filesystem',
      // Directory, not DirectoryOrCreate: a directory deleted by hand must fail the mount, not come back empty.
      hostPath: { path: dir, type: 'Directory' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [nodeName] }] }] } },
    },
  };
}

/** The node a volume lives on (its node affinity), if it names exactly one. */
export function volumeNode(v: PersistentVolume): string | undefined {
  for (const term of v.spec.nodeAffinity?.required?.nodeSelectorTerms ?? []) {
    for (const e of term.matchExpressions ?? []) if (e.key === 'kubernetes.io/hostname' && e.operator === 'In' && e.values?.length === 1) return e.values[0];
  }
  return undefined;
}

/** Our released volumes on this node whose policy is Delete: remove the directory, then the object. */
export function volumesToReclaim(nodeName: string, dataDir: string, volumes: readonly PersistentVolume[]): { volume: PersistentVolume; dir: string }[] {
  const out: { volume: PersistentVolume; dir: string }[] = [];
  for (const v of volumes) {
    if (v.metadata.annotations?.[PROVISIONED_BY_ANNOTATION] !== LOCAL_PATH_PROVISIONER || volumeNode(v) !== nodeName) continue;
    if (v.status?.phase !== 'Released' || (v.spec.persistentVolumeReclaimPolicy ?? 'Retain') !== 'Delete' || v.metadata.deletionTimestamp) continue;
    const dir = v.spec.hostPath?.path ?? v.spec.local?.path;
    if (!dir || !insideStorageRoot(dataDir, dir)) continue;
    out.push({ volume: v, dir });
  }
  return out;
}
