// The Docker side of image building: inspect what exists, import a rootfs tar with its config
// (POST /images/create?fromSrc=- with `changes`), and drop the image a rebuild replaced.

import type Dockerode from 'dockerode';
import type { Readable } from 'node:stream';
import { IMAGE_LABELS, splitRef } from './refs.js';

export interface ImageFacts {
  id: string;
  labels: Record<string, string>;
  sizeBytes: number;
  repoTags: string[];
}

function statusCode(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'statusCode' in err ? Number((err as { statusCode: unknown }).statusCode) : undefined;
}

export async function inspectImage(docker: Dockerode, ref: string): Promise<ImageFacts | undefined> {
  try {
    const info = await docker.getImage(ref).inspect();
    return {
      id: info.Id,
      labels: info.Config?.Labels ?? {},
      sizeBytes: info.Size,
      repoTags: info.RepoTags ?? [],
    };
  } catch (err) {
    if (statusCode(err) === 404) return undefined;
    throw err;
  }
}

interface ProgressMessage {
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** Imports a rootfs tar as ref; resolves to the new image id. */
export async function importRootfs(docker: Dockerode, tar: Readable, ref: string, changes: string[]): Promise<string> {
  const { repo, tag } = splitRef(ref);
  const response = await docker.importImage(tar, { repo, tag, changes });
  const messages = await new Promise<ProgressMessage[]>((resolve, reject) => {
    docker.modem.followProgress(response, (err: Error | null, out: ProgressMessage[]) => (err ? reject(err) : resolve(out)));
  });
  const failed = messages.find((m) => m.error || m.errorDetail);
  if (failed) throw new Error(`docker import of ${ref}: ${failed.error ?? failed.errorDetail?.message}`);
  const id = messages
    .map((m) => m.status ?? '')
    .reverse()
    .find((s) => /^sha256:[0-9a-f]{64}$/.test(s));
  if (id) return id;
  const facts = await inspectImage(docker, ref);
  if (!facts) throw new Error(`docker import of ${ref} reported no image`);
  return facts.id;
}

/**
 * After a rebuild moved the tag, the old image is left untagged: remove it if it was one of ours and
 * nothing else still names it. A container still using it keeps it alive (Docker refuses): that is fine.
 */
export async function removeReplacedImage(docker: Dockerode, oldId: string): Promise<boolean> {
  try {
    const info = await docker.getImage(oldId).inspect();
    const ours = Boolean(info.Config?.Labels?.[IMAGE_LABELS.image]);
    const tags = (info.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
    if (!ours || tags.length > 0) return false;
    await docker.getImage(oldId).remove();
    return true;
  } catch {
    return false;
  }
}
