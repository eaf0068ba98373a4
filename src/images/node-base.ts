// The node image's base: a Debian rootfs from debootstrap, imported as kubelite/cluster-node-base:<hash>.
// That image is the cache: a rebuild after a kubelite change only adds the top layer on it, and
// debootstrap runs again only when the package list changes (or the image was removed).

import type Dockerode from 'dockerode';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { exec } from '../util/exec.js';
import { withBuildLock } from './build-lock.js';
import { dockerChanges } from './changes.js';
import { importRootfs, inspectImage } from './docker-import.js';
import { BASE_RECIPE, baseHash, baseImageRef, debootstrapArgs, NODE_BASE_REPO, NODE_IMAGE_LABELS, type BaseRecipe } from './node-image-plan.js';
import { tarDirectory } from './rootfs.js';

export const DEFAULT_DEBIAN_MIRROR = 'http://deb.debian.org/debian';

export interface BaseImage {
  ref: string;
  hash: string;
  id: string;
  built: boolean;
  seconds: number;
}

export interface BaseOptions {
  log: (line: string) => void;
  mirror?: string;
  /** Where the rootfs is made (about 600 MB while it exists); default the OS temp dir. */
  workDir?: string;
  recipe?: BaseRecipe;
}

async function debootstrapBinary(): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    if (!dir) continue;
    const f = path.join(dir, 'debootstrap');
    try {
      await fs.access(f, fs.constants.X_OK);
      return f;
    } catch {
      /* next */
    }
  }
  throw new Error('building the node image needs debootstrap (apt-get install debootstrap)');
}

/** Mount points at or below dir (debootstrap mounts proc and sys in its target and may leave them when it fails). */
async function mountsBelow(dir: string): Promise<string[]> {
  const text = await fs.readFile('/proc/self/mounts', 'utf8').catch(() => '');
  return text
    .split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && (m === dir || m.startsWith(dir + '/')))
    .sort((a, b) => b.length - a.length);
}

/** Removes a rootfs directory, never descending into something still mounted below it. */
export async function removeRootfs(dir: string): Promise<void> {
  for (const m of await mountsBelow(dir)) await exec('umount', ['-l', m]);
  const left = await mountsBelow(dir);
  if (left.length) throw new Error(`not removing ${dir}: ${left.join(', ')} still mounted`);
  await fs.rm(dir, { recursive: true, force: true });
}

export async function ensureBaseImage(docker: Dockerode, opts: BaseOptions): Promise<BaseImage> {
  const start = performance.now();
  const recipe = opts.recipe ?? BASE_RECIPE;
  const hash = baseHash(recipe);
  const ref = baseImageRef(hash);
  const current = async () => {
    const facts = await inspectImage(docker, ref);
    return facts && facts.labels[NODE_IMAGE_LABELS.hash] === hash ? facts : undefined;
  };
  const seconds = () => Math.round((performance.now() - start) / 10) / 100;
  const have = await current();
  if (have) return { ref, hash, id: have.id, built: false, seconds: seconds() };

  return withBuildLock('cluster-node-base', async () => {
    const meanwhile = await current();
    if (meanwhile) return { ref, hash, id: meanwhile.id, built: false, seconds: seconds() };
    if (process.getuid?.() !== 0) throw new Error('building the node image\'s base (debootstrap) needs root');
    const debootstrap = await debootstrapBinary();
    const mirror = opts.mirror ?? process.env.KUBELITE_DEBIAN_MIRROR ?? DEFAULT_DEBIAN_MIRROR;
    const work = await fs.mkdtemp(path.join(opts.workDir ?? os.tmpdir(), 'kubelite-node-base-'));
    const rootfs = path.join(work, 'rootfs');
    try {
      opts.log(`${ref}: debootstrap of Debian ${recipe.suite} (${recipe.variant} + ${recipe.packages.length} packages) from ${mirror}; this takes a minute or two, once`);
      const r = await exec(debootstrap, debootstrapArgs(recipe, rootfs, mirror), { timeoutMs: 30 * 60_000 });
      if (r.code !== 0) {
        const tail = (r.stdout + r.stderr).trim().split('\n').slice(-8).join('\n  ');
        let hint = '';
        try {
          hint = (await fs.readFile(path.join(rootfs, 'debootstrap/debootstrap.log'), 'utf8')).trim().split('\n').slice(-5).join('\n  ');
        } catch {
          /* no log */
        }
        throw new Error(`debootstrap failed (exit ${r.code}):\n  ${tail}${hint ? `\n  debootstrap.log:\n  ${hint}` : ''}`);
      }
      await removeRootfsMountsOnly(rootfs);
      for (const p of recipe.trim) await fs.rm(path.join(rootfs, p), { recursive: true, force: true });
      // Docker provides these per container; the host's copies must not leak into the image.
      await fs.writeFile(path.join(rootfs, 'etc/hostname'), '');
      await fs.rm(path.join(rootfs, 'etc/resolv.conf'), { force: true });
      await fs.chmod(rootfs, 0o755);
      const t1 = performance.now();
      const tar = tarDirectory(rootfs);
      const changes = dockerChanges({
        cmd: ['/bin/bash'],
        env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
        exposedPorts: [],
        workdir: '/',
        labels: { [NODE_IMAGE_LABELS.image]: 'cluster-node-base', [NODE_IMAGE_LABELS.hash]: hash },
      });
      let id: string;
      try {
        id = await importRootfs(docker, tar.stream, ref, changes);
      } catch (err) {
        tar.abort();
        throw err;
      }
      await tar.done;
      opts.log(`${ref}: imported in ${Math.round(performance.now() - t1) / 1000}s`);
      await removeOlderBases(docker, ref, opts.log);
      return { ref, hash, id, built: true, seconds: seconds() };
    } finally {
      await removeRootfs(work);
    }
  });
}

async function removeRootfsMountsOnly(dir: string): Promise<void> {
  for (const m of await mountsBelow(dir)) await exec('umount', ['-l', m]);
}

/** Other tags of the base that no image or container uses any more (Docker refuses those that are). */
async function removeOlderBases(docker: Dockerode, keep: string, log: (line: string) => void): Promise<void> {
  const images = await docker.listImages({ filters: { reference: [NODE_BASE_REPO] } });
  for (const img of images) {
    const tags = (img.RepoTags ?? []).filter((t) => t.startsWith(`${NODE_BASE_REPO}:`));
    if (tags.includes(keep) || img.Labels?.[NODE_IMAGE_LABELS.image] !== 'cluster-node-base') continue;
    try {
      for (const t of tags) await docker.getImage(t).remove();
      log(`removed the older base ${tags.join(', ')}`);
    } catch {
      /* still used by a node image: kept */
    }
  }
}
