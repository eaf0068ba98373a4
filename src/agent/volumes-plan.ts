// What a Pod's volumes hold and where they live on the host. Pure: configMap/secret contents become a
// list of files (path, bytes, mode) the way the kubelet projects them (items select and rename keys,
// defaultMode/mode set permissions); the adapter in volumes.ts writes them atomically.

import path from 'node:path';
import type { ConfigMap, KeyToPath, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Volume } from '../api/types.js';

export class MountError extends Error {
  constructor(
    readonly volume: string,
    why: string,
  ) {
    super(`MountVolume.SetUp failed for volume "${volume}" : ${why}`);
  }
}

export interface VolumeFile {
  /** Relative to the volume root, normalized, no `..`. */
  path: string;
  content: Buffer;
  mode: number;
}

export type VolumeKind = 'emptyDir' | 'configMap' | 'secret' | 'hostPath' | 'projected' | 'downwardAPI' | 'persistentVolumeClaim' | 'unsupported';

export function volumeKind(v: Volume): VolumeKind {
  if (v.emptyDir) return 'emptyDir';
  if (v.configMap) return 'configMap';
  if (v.secret) return 'secret';
  if (v.hostPath) return 'hostPath';
  if (v.projected) return 'projected';
  if (v.downwardAPI) return 'downwardAPI';
  if (v.persistentVolumeClaim) return 'persistentVolumeClaim';
  return 'unsupported';
}

const VOLUME_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** `<dataDir>/pods/<uid>`: everything the agent keeps on disk for one Pod. */
export function podDir(dataDir: string, uid: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(uid)) throw new Error(`invalid pod uid ${JSON.stringify(uid)}`);
  return path.join(dataDir, 'pods', uid);
}

export function volumeDir(dataDir: string, uid: string, volume: string): string {
  if (!VOLUME_NAME.test(volume) || volume.length > 63) throw new Error(`invalid volume name ${JSON.stringify(volume)}`);
  return path.join(podDir(dataDir, uid), 'volumes', volume);
}

/** A relative path inside a volume: no absolute paths, no `..`, no empty segments. */
export function safeRelative(p: string): string | undefined {
  if (!p || p.startsWith('/') || p.includes('\0')) return undefined;
  const parts = p.split('/');
  if (parts.some((s) => s === '' || s === '.' || s === '..')) return undefined;
  if (parts[0].startsWith('..')) return undefined; // reserved for the atomic writer's ..data
  return parts.join('/');
}

function project(
  volume: string,
  data: Map<string, Buffer>,
  items: KeyToPath[] | undefined,
  defaultMode: number,
  missingKey: (key: string) => string,
  optional: boolean,
): VolumeFile[] {
  const files: VolumeFile[] = [];
  if (items && items.length > 0) {
    for (const it of items) {
      const content = data.get(it.key);
      if (content === undefined) {
        if (optional) continue;
        throw new MountError(volume, missingKey(it.key));
      }
      const rel = safeRelative(it.path);
      if (!rel) throw new MountError(volume, `invalid path ${JSON.stringify(it.path)} for key ${it.key}`);
      files.push({ path: rel, content, mode: it.mode ?? defaultMode });
    }
  } else {
    for (const [key, content] of data) {
      const rel = safeRelative(key);
      if (!rel || rel.includes('/')) continue;
      files.push({ path: rel, content, mode: defaultMode });
    }
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function configMapFiles(v: Volume, cm: ConfigMap | undefined): VolumeFile[] {
  const src = v.configMap!;
  if (!cm) {
    if (src.optional) return [];
    throw new MountError(v.name, `configmap "${src.name}" not found`);
  }
  const data = new Map<string, Buffer>();
  for (const [k, val] of Object.entries(cm.data ?? {})) data.set(k, Buffer.from(val, 'utf8'));
  for (const [k, val] of Object.entries(cm.binaryData ?? {})) data.set(k, Buffer.from(val, 'base64'));
  return project(v.name, data, src.items, src.defaultMode ?? 0o644, (k) => `configmap references non-existent config key: ${k}`, !!src.optional);
}

export function secretFiles(v: Volume, s: Secret | undefined): VolumeFile[] {
  const src = v.secret!;
  if (!s) {
    if (src.optional) return [];
    throw new MountError(v.name, `secret "${src.secretName}" not found`);
  }
  const data = new Map<string, Buffer>();
  for (const [k, val] of Object.entries(s.data ?? {})) data.set(k, Buffer.from(val, 'base64'));
  return project(v.name, data, src.items, src.defaultMode ?? 0o644, (k) => `references non-existent secret key: ${k}`, !!src.optional);
}

/** Where each of the Pod's volumes is on the host (hostPath: the host path itself). */
export function volumeSources(pod: Pod, dataDir: string): Map<string, { kind: VolumeKind; hostPath: string }> {
  const out = new Map<string, { kind: VolumeKind; hostPath: string }>();
  for (const v of pod.spec.volumes ?? []) {
    const kind = volumeKind(v);
    if (kind === 'hostPath') out.set(v.name, { kind, hostPath: path.resolve('/', v.hostPath!.path) });
    else out.set(v.name, { kind, hostPath: volumeDir(dataDir, pod.metadata.uid!, v.name) });
  }
  return out;
}

export interface BindMount {
  source: string;
  target: string;
  readOnly: boolean;
}

/** A container's volumeMounts as bind mounts; subPath resolved below the volume (never above it). */
export function containerMounts(pod: Pod, containerName: string, sources: Map<string, { kind: VolumeKind; hostPath: string }>): BindMount[] {
  const c = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((x) => x.name === containerName);
  const out: BindMount[] = [];
  for (const m of c?.volumeMounts ?? []) {
    const src = sources.get(m.name);
    if (!src) throw new MountError(m.name, `volume "${m.name}" is not defined in the pod`);
    if (src.kind === 'unsupported') throw new MountError(m.name, 'this volume type is not supported by kubelite (emptyDir, configMap, secret, projected, downwardAPI, hostPath and persistentVolumeClaim are)');
    if (!m.mountPath.startsWith('/')) throw new MountError(m.name, `mountPath ${JSON.stringify(m.mountPath)} must be absolute`);
    let source = src.hostPath;
    if (m.subPath) {
      const rel = safeRelative(m.subPath);
      if (!rel) throw new MountError(m.name, `invalid subPath ${JSON.stringify(m.subPath)}`);
      source = path.join(source, rel);
    }
    // Secrets, configMaps and projected volumes are read-only in Kubernetes whatever the mount says.
    const claimReadOnly = src.kind === 'persistentVolumeClaim' && !!pod.spec.volumes?.find((v) => v.name === m.name)?.persistentVolumeClaim?.readOnly;
    const readOnly = !!m.readOnly || src.kind === 'configMap' || src.kind === 'secret' || src.kind === 'projected' || src.kind === 'downwardAPI' || claimReadOnly;
    out.push({ source, target: m.mountPath, readOnly });
  }
  return out;
}

/**
 * The host directory behind a persistentVolumeClaim volume: the claim must be Bound to a volume kubelite
 * can mount (hostPath or local). Throws MountError naming what is missing.
 */
export function claimVolumePath(v: Volume, claim: PersistentVolumeClaim | undefined, volume: PersistentVolume | undefined): { path: string; volumeName: string } {
  const name = v.persistentVolumeClaim!.claimName;
  if (!claim) throw new MountError(v.name, `persistentvolumeclaim "${name}" not found`);
  if (claim.metadata.deletionTimestamp) throw new MountError(v.name, `persistentvolumeclaim "${name}" is being deleted`);
  const volumeName = claim.spec.volumeName;
  if (!volumeName || claim.status?.phase !== 'Bound') throw new MountError(v.name, `persistentvolumeclaim "${name}" is not bound`);
  if (!volume) throw new MountError(v.name, `persistentvolume "${volumeName}" not found`);
  const p = volume.spec.hostPath?.path ?? volume.spec.local?.path;
  if (!p) throw new MountError(v.name, `persistentvolume "${volumeName}" has a volume source kubelite cannot mount (hostPath and local are supported)`);
  return { path: path.resolve('/', p), volumeName };
}

/** The claims of the Pod's volumes that are not Bound yet (the Pod waits for them before it starts). */
export function unboundClaims(pod: Pod, claim: (name: string) => PersistentVolumeClaim | undefined): string[] {
  const out: string[] = [];
  for (const v of pod.spec.volumes ?? []) {
    const name = v.persistentVolumeClaim?.claimName;
    if (!name) continue;
    const c = claim(name);
    if (!c || c.status?.phase !== 'Bound' || !c.spec.volumeName) out.push(name);
  }
  return out;
}
