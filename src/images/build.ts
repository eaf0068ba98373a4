// buildImages: for each requested image, hash its recipe and inputs, keep the image when that hash is
// already on it, otherwise build the rootfs in a temp dir and `docker import` it with its config.

import Dockerode from 'dockerode';
import fs from 'node:fs/promises';
import { withBuildLock } from './build-lock.js';
import { dockerChanges } from './changes.js';
import { importRootfs, inspectImage, removeReplacedImage } from './docker-import.js';
import { recipeHash } from './hash.js';
import { entryDigests, hostInputs } from './host-inputs.js';
import { recipeFor } from './recipes.js';
import { ALL_IMAGE_KEYS, DEFAULT_IMAGE_KEYS, IMAGE_LABELS, IMAGES, imageKeyOf, type ImageKey } from './refs.js';
import { makeTempDir, materializeRootfs, tarDirectory } from './rootfs.js';

export interface BuildImagesOptions {
  docker?: Dockerode;
  /** Rebuild even when the image carries the current hash. */
  force?: boolean;
  log?: (line: string) => void;
  /** Keys (`echo`) or refs (`kubelite/echo:1`); default: echo and pause. `['all']` or ALL_IMAGE_KEYS: node too. */
  only?: string[];
}

export interface BuiltImage {
  key: ImageKey;
  ref: string;
  id: string;
  /** The content hash the image is labelled with. */
  hash: string;
  /** false: it was already up to date. */
  built: boolean;
  /** Wall time spent on this image, hashing included. */
  seconds: number;
  sizeBytes: number;
}

/** Keys named by `only`, in the order of ALL_IMAGE_KEYS; unknown names are an error. */
export function selectImageKeys(only?: readonly string[]): ImageKey[] {
  if (!only) return [...DEFAULT_IMAGE_KEYS];
  if (only.includes('all')) return [...ALL_IMAGE_KEYS];
  const keys = new Set<ImageKey>();
  for (const name of only) {
    const key = imageKeyOf(name);
    if (!key) throw new Error(`unknown image ${JSON.stringify(name)}: kubelite builds ${ALL_IMAGE_KEYS.map((k) => `${k} (${IMAGES[k]})`).join(', ')}, and cluster-node (the node image)`);
    keys.add(key);
  }
  return ALL_IMAGE_KEYS.filter((k) => keys.has(k));
}

// Concurrent callers in one process (server start and a test, say) share a build.
const inflight = new Map<ImageKey, Promise<BuiltImage>>();

export async function buildImages(opts: BuildImagesOptions = {}): Promise<BuiltImage[]> {
  const docker = opts.docker ?? new Dockerode();
  const log = opts.log ?? (() => undefined);
  const keys = selectImageKeys(opts.only);
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(`cannot build ${keys.map((k) => IMAGES[k]).join(', ')}: the Docker engine does not answer (${(err as Error).message}); run scripts/ensure-docker.sh as root`);
  }
  const results: BuiltImage[] = [];
  // one after the other: imports are disk- and CPU-bound, and hosts have few cores
  for (const key of keys) {
    let job = inflight.get(key);
    if (!job || opts.force) {
      const started = buildOne(docker, key, opts.force ?? false, log);
      const forget = () => {
        if (inflight.get(key) === started) inflight.delete(key);
      };
      started.then(forget, forget);
      inflight.set(key, started);
      job = started;
    }
    results.push(await job);
  }
  return results;
}

/**
 * Builds the kubelite images among `names` that are missing or out of date. Names that are not kubelite
 * images are ignored, so callers can pass every image a Pod uses.
 */
export async function ensureImages(docker: Dockerode, names: readonly string[], log?: (line: string) => void): Promise<BuiltImage[]> {
  const keys = [...new Set(names.map(imageKeyOf).filter((k): k is ImageKey => k !== undefined))];
  if (keys.length === 0) return [];
  return buildImages({ docker, only: keys, log });
}

function secondsSince(start: number): number {
  return Math.round((performance.now() - start) / 10) / 100;
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

async function buildOne(docker: Dockerode, key: ImageKey, force: boolean, log: (line: string) => void): Promise<BuiltImage> {
  const start = performance.now();
  const ref = IMAGES[key];
  const recipe = recipeFor(key, await hostInputs([key]));
  const hash = recipeHash(recipe, await entryDigests(recipe));
  const upToDate = async () => {
    const facts = await inspectImage(docker, ref);
    return facts && facts.labels[IMAGE_LABELS.hash] === hash ? facts : undefined;
  };

  if (!force) {
    const facts = await upToDate();
    if (facts) {
      const seconds = secondsSince(start);
      log(`${ref}: up to date (${hash.slice(0, 12)}), checked in ${seconds}s`);
      return { key, ref, id: facts.id, hash, built: false, seconds, sizeBytes: facts.sizeBytes };
    }
  }

  return withBuildLock(key, async () => {
    // another process may have built it while we waited for the lock
    if (!force) {
      const facts = await upToDate();
      if (facts) {
        const seconds = secondsSince(start);
        log(`${ref}: built meanwhile by another process (${hash.slice(0, 12)}), ${seconds}s`);
        return { key, ref, id: facts.id, hash, built: false, seconds, sizeBytes: facts.sizeBytes };
      }
    }
    const previous = await inspectImage(docker, ref);
    const dir = await makeTempDir(`kubelite-rootfs-${key}-`);
    try {
      const t0 = performance.now();
      const bytes = await materializeRootfs(dir, recipe.entries);
      const rootfsSeconds = secondsSince(t0);
      const t1 = performance.now();
      const tar = tarDirectory(dir);
      const changes = dockerChanges({ ...recipe.config, labels: { ...recipe.config.labels, [IMAGE_LABELS.hash]: hash } });
      let id: string;
      try {
        id = await importRootfs(docker, tar.stream, ref, changes);
      } catch (err) {
        tar.abort();
        throw err;
      }
      await tar.done;
      const importSeconds = secondsSince(t1);
      const facts = await inspectImage(docker, ref);
      if (!facts || facts.labels[IMAGE_LABELS.hash] !== hash) throw new Error(`${ref}: imported, but the image does not carry hash ${hash}`);
      if (previous && previous.id !== facts.id && (await removeReplacedImage(docker, previous.id))) {
        log(`${ref}: removed the image it replaced (${previous.id.slice(7, 19)})`);
      }
      const seconds = secondsSince(start);
      log(`${ref}: built in ${seconds}s (rootfs ${rootfsSeconds}s, ${mb(bytes)}; import ${importSeconds}s), image ${mb(facts.sizeBytes)}, ${id.slice(7, 19)}`);
      return { key, ref, id: facts.id, hash, built: true, seconds, sizeBytes: facts.sizeBytes };
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
}
