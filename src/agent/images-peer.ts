// Images without a registry across hosts, as k3s's embedded registry mirror does between its nodes: a
// node reports the images it has in its Node status (status.images, as a kubelet does), and an agent
// that must pull an image no registry has asks a node that has it for a `docker save` stream, through
// the API server (which passes it on from that node's kubelet endpoint), and `docker load`s it. The
// choice of nodes and the status list are pure; the save/load calls are the thin adapter.

import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { Node, NodeStatus } from '../api/types.js';
import type { Informer } from '../client/informer.js';
import type { LeveledLogger } from '../util/log.js';
import type { DockerRuntime } from './docker.js';

type ContainerImage = NonNullable<NodeStatus['images']>[number];

/** Kubernetes' nodeStatusMaxImages. */
export const MAX_STATUS_IMAGES = 50;

export interface LocalImage {
  id: string;
  repoTags: string[];
  size: number;
}

/** status.images from `docker image ls`: tagged images, biggest first (as the kubelet sorts them), at most 50. */
export function statusImages(images: readonly LocalImage[]): ContainerImage[] {
  return images
    .map((i): ContainerImage & { sizeBytes: number } => ({ names: [...i.repoTags.filter((t) => t && t !== "<none>:<none>"), i.id].filter(Boolean), sizeBytes: i.size }))
    .filter((i) => i.names.length > 1)
    .sort((a, b) => b.sizeBytes - a.sizeBytes || (a.names[0] < b.names[0] ? -1 : 1))
    .slice(0, MAX_STATUS_IMAGES);
}

/** `busybox` -> `busybox:latest`; a digest or a tag is kept. Pure. */
export function normalizeImageRef(ref: string): string {
  if (ref.includes('@')) return ref;
  const slash = ref.lastIndexOf('/');
  return ref.slice(slash + 1).includes(':') ? ref : `${ref}:latest`;
}

function nodeReady(n: Node): boolean {
  return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/**
 * Nodes to ask for `image`, best first: Ready nodes whose status lists it, then the other Ready nodes
 * (a fresh image is listed only at their next status update). Never `self`.
 */
export function imageSources(nodes: readonly Node[], image: string, self: string): string[] {
  const want = normalizeImageRef(image);
  const listed: string[] = [];
  const others: string[] = [];
  for (const n of nodes) {
    const name = n.metadata.name ?? '';
    if (!name || name === self || !nodeReady(n)) continue;
    const has = (n.status?.images ?? []).some((i) => (i.names ?? []).some((x) => x === image || normalizeImageRef(x) === want));
    (has ? listed : others).push(name);
  }
  return [...listed.sort(), ...others.sort()];
}

/** Image names a node may hand out: plain references, never a path or an option. Pure. */
export function checkImageName(name: unknown): string {
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9._\-/:@]{0,254}$/i.test(name) || name.includes('..')) throw new Error(`image name ${JSON.stringify(name)} is not a valid reference`);
  return name;
}

/** This engine's images, for the Node's status. */
export async function listLocalImages(docker: Dockerode): Promise<LocalImage[]> {
  const list = await docker.listImages();
  return list.map((i) => ({ id: i.Id, repoTags: i.RepoTags ?? [], size: i.Size }));
}

/** `docker save IMAGE` as a stream; undefined when this engine does not have it. */
export async function saveImage(docker: Dockerode, name: string): Promise<Readable | undefined> {
  try {
    await docker.getImage(name).inspect();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
  return (await docker.getImage(name).get()) as unknown as Readable;
}

/** `docker load` of a saved image stream; rejects with the engine's message. */
export async function loadImage(docker: Dockerode, tar: Readable): Promise<void> {
  const res = (await docker.loadImage(tar, { quiet: true })) as unknown as Readable;
  await new Promise<void>((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => (text += d));
    res.on('error', reject);
    res.on('end', () => {
      const err = /"error(?:Detail)?":\s*(?:\{"message":)?"([^"]+)"/.exec(text);
      if (err) reject(new Error(err[1]));
      else resolve();
    });
  });
}

/** status.images; undefined (keep what is there) when the engine does not answer. */
export async function nodeStatusImages(docker: Dockerode): Promise<ContainerImage[] | undefined> {
  try {
    return statusImages(await listLocalImages(docker));
  } catch {
    return undefined;
  }
}

export interface PeerImageDeps {
  /** A `docker save` stream of `image` from `node`, through the API server. */
  fetch(node: string, image: string): Promise<Readable>;
  nodes: Informer<Node>;
  self: string;
  runtime: DockerRuntime;
  log: LeveledLogger;
}

/** Loads `image` from another node that has it (k3s's embedded mirror, through the API server); false if none has it. */
export async function fetchImageFromPeers(d: PeerImageDeps, image: string): Promise<boolean> {
  for (const node of imageSources(d.nodes.list(), image, d.self).slice(0, 8)) {
    try {
      await loadImage(d.runtime.docker, await d.fetch(node, image));
      if (await d.runtime.imagePresent(image)) {
        d.log.info({ image, from: node }, 'image loaded from another node');
        return true;
      }
    } catch (err) {
      d.log.debug({ image, node, err: (err as Error).message }, 'node does not give the image');
    }
  }
  return false;
}
