// Pod volumes on the host, under <dataDir>/pods/<uid>/volumes/<name>. configMap and secret volumes are
// written the kubelet's atomic way: the files live in a timestamped directory, `..data` points at it,
// and each visible name is a symlink through `..data`; an update swaps `..data` with one rename, so a
// container never reads half a new version (and sees it without a restart, through its bind mount).

import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Volume } from '../api/types.js';
import { downwardAPIFiles, projectedFiles, tokenSources, type TokenSource } from './projected.js';
import { claimVolumePath, configMapFiles, MountError, podDir, secretFiles, volumeKind, volumeSources, type VolumeFile, type VolumeKind } from './volumes-plan.js';

export interface ObjectLookup {
  configMap(name: string): ConfigMap | undefined;
  secret(name: string): Secret | undefined;
  /** A service account token for a projected volume's source (the token manager). */
  token?(pod: Pod, src: TokenSource): Promise<string>;
  podIP?: string;
  hostIP?: string;
  nodeAllocatable?: { cpuMillis: number; memoryBytes: number };
  claim?(name: string): PersistentVolumeClaim | undefined;
  volume?(name: string): PersistentVolume | undefined;
}

function contentHash(files: VolumeFile[]): string {
  const h = crypto.createHash('sha256');
  for (const f of files) h.update(`${f.path}\0${f.mode}\0${f.content.length}\0`).update(f.content);
  return h.digest('hex');
}

async function lstat(p: string) {
  try {
    return await fs.lstat(p);
  } catch {
    return undefined;
  }
}

/** Writes files into dir atomically (see the file comment); stale names disappear. */
export async function writeAtomic(dir: string, files: VolumeFile[]): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  const stamp = new Date().toISOString().replace(/[-:]/g, '_').replace(/\..*$/, '');
  const tsName = `..${stamp}.${crypto.randomBytes(4).toString('hex')}`;
  const tsDir = path.join(dir, tsName);
  await fs.mkdir(tsDir, { mode: 0o755 });
  for (const f of files) {
    const target = path.join(tsDir, f.path);
    await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
    await fs.writeFile(target, f.content);
    await fs.chmod(target, f.mode & 0o7777);
  }
  const tmpLink = path.join(dir, '..data_tmp');
  await fs.rm(tmpLink, { force: true });
  await fs.symlink(tsName, tmpLink);
  await fs.rename(tmpLink, path.join(dir, '..data'));

  const tops = new Set(files.map((f) => f.path.split('/')[0]));
  for (const t of tops) {
    const link = path.join(dir, t);
    const st = await lstat(link);
    if (st?.isSymbolicLink()) continue;
    if (st) await fs.rm(link, { recursive: true, force: true });
    await fs.symlink(path.join('..data', t), link);
  }
  for (const entry of await fs.readdir(dir)) {
    if (entry === '..data' || entry === tsName) continue;
    if (entry.startsWith('..') || !tops.has(entry)) await fs.rm(path.join(dir, entry), { recursive: true, force: true });
  }
}

async function checkHostPath(volume: string, p: string, type: string): Promise<void> {
  const st = await fs.stat(p).catch(() => undefined);
  const fail = (what: string) => {
    throw new MountError(volume, `hostPath type check failed: ${p} is not ${what}`);
  };
  switch (type) {
    case '':
      return;
    case 'DirectoryOrCreate':
      if (!st) await fs.mkdir(p, { recursive: true, mode: 0o755 });
      else if (!st.isDirectory()) fail('a directory');
      return;
    case 'Directory':
      if (!st?.isDirectory()) fail('a directory');
      return;
    case 'FileOrCreate':
      if (!st) await fs.writeFile(p, '', { mode: 0o644, flag: 'a' });
      else if (!st.isFile()) fail('a file');
      return;
    case 'File':
      if (!st?.isFile()) fail('a file');
      return;
    case 'Socket':
      if (!st?.isSocket()) fail('a socket file');
      return;
    case 'CharDevice':
      if (!st?.isCharacterDevice()) fail('a character device');
      return;
    case 'BlockDevice':
      if (!st?.isBlockDevice()) fail('a block device');
      return;
    default:
      throw new MountError(volume, `unknown hostPath type ${JSON.stringify(type)}`);
  }
}

export class VolumeManager {
  /** dir -> hash of what was last written there, so an unchanged configMap is not rewritten each sync. */
  private readonly written = new Map<string, string>();

  constructor(private readonly dataDir: string) {}

  /** Makes every volume of the Pod exist with current contents; throws MountError naming the first problem. */
  async setUp(pod: Pod, lookup: ObjectLookup): Promise<Map<string, { kind: VolumeKind; hostPath: string }>> {
    const sources = volumeSources(pod, this.dataDir);
    for (const v of pod.spec.volumes ?? []) {
      const src = sources.get(v.name)!;
      const kind = volumeKind(v);
      if (kind === 'emptyDir') {
        if (!this.written.has(src.hostPath)) {
          await fs.mkdir(src.hostPath, { recursive: true });
          await fs.chmod(src.hostPath, 0o777);
          this.written.set(src.hostPath, 'dir');
        }
      } else if (kind === 'configMap' || kind === 'secret' || kind === 'projected' || kind === 'downwardAPI') {
        const files = await this.filesOf(pod, v, kind, lookup);
        const hash = contentHash(files);
        if (this.written.get(src.hostPath) !== hash || !(await lstat(path.join(src.hostPath, '..data')))) {
          await writeAtomic(src.hostPath, files);
          this.written.set(src.hostPath, hash);
        }
      } else if (kind === 'hostPath') {
        await checkHostPath(v.name, src.hostPath, v.hostPath!.type ?? '');
      } else if (kind === 'persistentVolumeClaim') {
        const claim = lookup.claim?.(v.persistentVolumeClaim!.claimName);
        const { path: dir, volumeName } = claimVolumePath(v, claim, claim?.spec.volumeName ? lookup.volume?.(claim.spec.volumeName) : undefined);
        const st = await fs.stat(dir).catch(() => undefined);
        if (!st?.isDirectory()) {
          // Never an empty stand-in: the data is gone, and the Pod must say so instead of starting.
          throw new MountError(v.name, `the directory ${dir} of persistent volume "${volumeName}" is missing (deleted outside kubelite?): its data is gone; recreate the directory, or delete the claim "${claim!.metadata.name}" to provision a new volume`);
        }
        sources.set(v.name, { kind, hostPath: dir });
      }
    }
    return sources;
  }

  private async filesOf(pod: Pod, v: Volume, kind: VolumeKind, lookup: ObjectLookup): Promise<VolumeFile[]> {
    if (kind === 'configMap') return configMapFiles(v, lookup.configMap(v.configMap!.name));
    if (kind === 'secret') return secretFiles(v, lookup.secret(v.secret!.secretName));
    const inputs = { configMap: lookup.configMap, secret: lookup.secret, podIP: lookup.podIP, hostIP: lookup.hostIP, nodeAllocatable: lookup.nodeAllocatable ?? { cpuMillis: 0, memoryBytes: 0 } };
    if (kind === 'downwardAPI') return downwardAPIFiles(v, pod, inputs);
    const tokens = new Map<number, string>();
    for (const src of tokenSources(v)) {
      if (!lookup.token) throw new MountError(v.name, 'service account tokens are not available on this node');
      try {
        tokens.set(src.index, await lookup.token(pod, src));
      } catch (err) {
        throw new MountError(v.name, `failed to fetch token: ${(err as Error).message}`);
      }
    }
    return projectedFiles(v, pod, { ...inputs, tokens });
  }

  /** Removes everything the agent kept on disk for a Pod. */
  async tearDown(uid: string): Promise<void> {
    const dir = podDir(this.dataDir, uid);
    for (const k of [...this.written.keys()]) if (k.startsWith(dir + path.sep)) this.written.delete(k);
    await fs.rm(dir, { recursive: true, force: true });
  }

  /** Pod uids that have a directory here (for the orphan sweep). */
  async podUids(): Promise<string[]> {
    try {
      return (await fs.readdir(path.join(this.dataDir, 'pods'))).filter((d) => /^[A-Za-z0-9-]+$/.test(d));
    } catch {
      return [];
    }
  }
}
