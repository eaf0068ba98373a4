// `kubelite images build cluster-node`: the node image kubelite runs in when it is a Docker-in-Docker
// node (`kubelite cluster create`, a CI service). Base (debootstrap, cached as an image) + one layer
// with kubelite, committed from a stopped container: no registry, no Dockerfile.

import Dockerode from 'dockerode';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { KUBELITE_VERSION } from '../version.js';
import { buildImages } from './build.js';
import { withBuildLock } from './build-lock.js';
import { dockerChanges } from './changes.js';
import { inspectImage, removeReplacedImage } from './docker-import.js';
import { fileDigest } from './host-inputs.js';
import { compiledKubelite, findPackageRoot, kubeliteDigest, modulesDigest, productionModules } from './kubelite-package.js';
import { ensureBaseImage, type BaseOptions } from './node-base.js';
import { layerEntries, NODE_IMAGE_LABELS, nodeImageConfig, nodeImageHash, nodeImageRef, splitRef, type NodeImageManifest } from './node-image-plan.js';
import { DEFAULT_IMAGE_KEYS, IMAGES } from './refs.js';
import { materializeRootfs, tarDirectory } from './rootfs.js';

export interface NodeImageOptions {
  docker?: Dockerode;
  force?: boolean;
  log?: (line: string) => void;
  /** Debian mirror for debootstrap (default $KUBELITE_DEBIAN_MIRROR, else deb.debian.org). */
  mirror?: string;
  /** Tag (default: this kubelite's version). */
  version?: string;
  workDir?: string;
}

export interface NodeImage {
  ref: string;
  id: string;
  hash: string;
  built: boolean;
  /** Whether debootstrap ran for this build. */
  baseBuilt: boolean;
  seconds: number;
  sizeBytes: number;
}

function secondsSince(start: number): number {
  return Math.round((performance.now() - start) / 10) / 100;
}

/** The images the inner engine gets at start: the Pod infra image and the demo image. */
const SAVED_IMAGES = DEFAULT_IMAGE_KEYS.map((k) => ({ key: k, ref: IMAGES[k] }));

const inflight = new Map<string, Promise<NodeImage>>();

export function buildNodeImage(opts: NodeImageOptions = {}): Promise<NodeImage> {
  const ref = nodeImageRef(opts.version ?? KUBELITE_VERSION);
  let job = inflight.get(ref);
  if (!job || opts.force) {
    job = build(ref, opts);
    const started = job;
    const forget = () => {
      if (inflight.get(ref) === started) inflight.delete(ref);
    };
    started.then(forget, forget);
    inflight.set(ref, started);
  }
  return job;
}

async function build(ref: string, opts: NodeImageOptions): Promise<NodeImage> {
  const start = performance.now();
  const docker = opts.docker ?? new Dockerode();
  const log = opts.log ?? (() => undefined);
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(`cannot build ${ref}: the Docker engine does not answer (${(err as Error).message}); run scripts/ensure-docker.sh as root`);
  }
  const baseOpts: BaseOptions = { log, mirror: opts.mirror, workDir: opts.workDir };
  const base = await ensureBaseImage(docker, baseOpts);
  const saved = await buildImages({ docker, only: SAVED_IMAGES.map((s) => s.key), log });
  const pkg = findPackageRoot();
  const modules = productionModules(pkg);
  const entrypoint = path.join(pkg.root, 'scripts/node-entrypoint.sh');
  const node = await fs.realpath(process.execPath);
  const manifest: NodeImageManifest = {
    ref,
    baseHash: base.hash,
    node: await fileDigest(node),
    kubelite: await kubeliteDigest(pkg),
    modules: modulesDigest(pkg, modules),
    entrypoint: await fileDigest(entrypoint),
    images: Object.fromEntries(SAVED_IMAGES.map((s) => [s.ref, saved.find((b) => b.key === s.key)?.id ?? ''])),
  };
  const hash = nodeImageHash(manifest);
  const current = async () => {
    const facts = await inspectImage(docker, ref);
    return facts && facts.labels[NODE_IMAGE_LABELS.hash] === hash ? facts : undefined;
  };
  if (!opts.force) {
    const facts = await current();
    if (facts) {
      const seconds = secondsSince(start);
      log(`${ref}: up to date (${hash.slice(0, 12)}), checked in ${seconds}s`);
      return { ref, id: facts.id, hash, built: false, baseBuilt: base.built, seconds, sizeBytes: facts.sizeBytes };
    }
  }

  return withBuildLock('cluster-node', async () => {
    if (!opts.force) {
      const facts = await current();
      if (facts) return { ref, id: facts.id, hash, built: false, baseBuilt: base.built, seconds: secondsSince(start), sizeBytes: facts.sizeBytes };
    }
    const previous = await inspectImage(docker, ref);
    const work = await fs.mkdtemp(path.join(opts.workDir ?? os.tmpdir(), 'kubelite-node-image-'));
    try {
      const t0 = performance.now();
      const dist = await compiledKubelite(pkg, path.join(work, 'dist'));
      const compileSeconds = secondsSince(t0);
      // one tarball for all: one `docker load` at start
      const imagesTar = path.join(work, 'images.tar');
      const save = (docker as unknown as { getImages(o: { names: string[] }): Promise<NodeJS.ReadableStream> }).getImages({ names: SAVED_IMAGES.map((s) => s.ref) });
      await pipeline(await save, createWriteStream(imagesTar));
      const layer = path.join(work, 'layer');
      await fs.mkdir(layer, { mode: 0o755 });
      await fs.chmod(layer, 0o755);
      const entries = layerEntries({
        node,
        dist,
        packageJson: path.join(pkg.root, 'package.json'),
        bin: path.join(pkg.root, 'bin/kubelite'),
        root: pkg.root,
        modules,
        entrypoint,
        imagesTar,
      });
      const bytes = await materializeRootfs(layer, entries);
      const t1 = performance.now();
      const id = await commitLayer(docker, base.ref, layer, ref, dockerChanges(nodeImageConfig({ [NODE_IMAGE_LABELS.image]: 'cluster-node', [NODE_IMAGE_LABELS.hash]: hash, [NODE_IMAGE_LABELS.base]: base.hash })));
      const commitSeconds = secondsSince(t1);
      const facts = await inspectImage(docker, ref);
      if (!facts || facts.labels[NODE_IMAGE_LABELS.hash] !== hash) throw new Error(`${ref}: committed, but the image does not carry hash ${hash}`);
      if (previous && previous.id !== facts.id && (await removeReplacedImage(docker, previous.id))) log(`${ref}: removed the image it replaced (${previous.id.slice(7, 19)})`);
      const seconds = secondsSince(start);
      log(`${ref}: built in ${seconds}s (compile ${compileSeconds}s, layer ${(bytes / 1e6).toFixed(1)} MB, commit ${commitSeconds}s), image ${(facts.sizeBytes / 1e6).toFixed(1)} MB, ${id.slice(7, 19)}`);
      return { ref, id: facts.id, hash, built: true, baseBuilt: base.built, seconds, sizeBytes: facts.sizeBytes };
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
  });
}

/** A container of the base (never started) gets the layer's files, then is committed as ref. */
async function commitLayer(docker: Dockerode, baseRef: string, layerDir: string, ref: string, changes: string[]): Promise<string> {
  const container = await docker.createContainer({ Image: baseRef, Cmd: ['/bin/true'], Labels: { [NODE_IMAGE_LABELS.image]: 'cluster-node-build' } });
  try {
    const tar = tarDirectory(layerDir);
    try {
      await container.putArchive(tar.stream, { path: '/' });
    } catch (err) {
      tar.abort();
      throw err;
    }
    await tar.done;
    const { repo, tag } = splitRef(ref);
    const r = (await container.commit({ repo, tag, changes, pause: false })) as { Id?: string };
    if (!r.Id) throw new Error(`docker commit of ${ref} returned no image id`);
    return r.Id;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** Whether ref is a node image (built by kubelite, any version) and the hash it carries. */
export async function nodeImageFacts(docker: Dockerode, ref: string): Promise<{ id: string; hash?: string; ours: boolean } | undefined> {
  const facts = await inspectImage(docker, ref);
  if (!facts) return undefined;
  return { id: facts.id, hash: facts.labels[NODE_IMAGE_LABELS.hash], ours: facts.labels[NODE_IMAGE_LABELS.image] === 'cluster-node' };
}
