// Controller history (Kubernetes' pkg/controller/history) for StatefulSets and DaemonSets: each pod
// template becomes a ControllerRevision whose `data` is the strategic merge patch that restores it
// (`{"spec":{"template":{..., "$patch":"replace"}}}`, what `kubectl rollout undo` applies), named
// <owner>-<hash of the data>, numbered 1, 2, 3, ... A template seen before gets its old revision back
// with the next number, as the StatefulSet controller does.

import type { ControllerRevision, KObject, PodTemplateSpec } from '../../api/types.js';
import { ownerRefFor } from './adopt.js';
import { canonicalJSON, safeEncodeString } from './deployment-util.js';
import { controllerRef } from './pod-status.js';
import { parseTime } from './time.js';

/** The label every revision carries with its hash (controller.kubernetes.io/hash). */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';

function fnv32a(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The data of a revision of this template. */
export function revisionData(template: PodTemplateSpec): { spec: { template: Record<string, unknown> } } {
  return { spec: { template: { ...structuredClone(template), $patch: 'replace' } } };
}

/** The template a revision restores. */
export function templateOf(rev: ControllerRevision): PodTemplateSpec | undefined {
  const t = (rev.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec?.template;
  if (!t) return undefined;
  const { $patch: _p, ...rest } = t;
  return rest as unknown as PodTemplateSpec;
}

/** HashControllerRevision: FNV-32a of the data (and the collision count), safe-encoded. */
export function revisionHash(data: unknown, collisionCount?: number): string {
  let h = fnv32a(new TextEncoder().encode(canonicalJSON(data)));
  if (collisionCount) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(b, h);
  }
  return safeEncodeString(String(h));
}

export function revisionName(owner: KObject, hash: string): string {
  const prefix = owner.metadata.name ?? '';
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/** A new revision object of `owner` for `template` (the caller creates it). */
export function newRevision(owner: KObject, template: PodTemplateSpec, revision: number, collisionCount?: number): ControllerRevision {
  const data = revisionData(template);
  const hash = revisionHash(data, collisionCount);
  const annotations = { ...(owner.metadata.annotations ?? {}) };
  delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: revisionName(owner, hash),
      namespace: owner.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash },
      ...(Object.keys(annotations).length ? { annotations } : {}),
      ownerReferences: [ownerRefFor(owner)],
    },
    data,
    revision,
  };
}

export function sortRevisions(revs: readonly ControllerRevision[]): ControllerRevision[] {
  return [...revs].sort((a, b) => a.revision - b.revision || (parseTime(a.metadata.creationTimestamp) ?? 0) - (parseTime(b.metadata.creationTimestamp) ?? 0) || (a.metadata.name! < b.metadata.name! ? -1 : 1));
}

export function equalRevisionData(a: unknown, b: unknown): boolean {
  return canonicalJSON(a) === canonicalJSON(b);
}

export interface RevisionStep {
  /** The revision of the current template (existing or to create). */
  update: ControllerRevision;
  /** Create `update` (it is new). */
  create?: ControllerRevision;
  /** Give an existing revision the next number (a template seen before became current again). */
  renumber?: { revision: ControllerRevision; to: number };
  /** Bump collisionCount: a revision of that name holds other data. */
  collisionCount: number;
}

/**
 * The revision of `template` among the owner's revisions: an equal one (renumbered if it is not the
 * latest), or a new one numbered after the latest (with the collision count bumped past names that
 * hold other data).
 */
export function updateRevisionFor(owner: KObject, template: PodTemplateSpec, revisions: readonly ControllerRevision[], collisionCount = 0): RevisionStep {
  const sorted = sortRevisions(revisions.filter((r) => controllerRef(r)?.uid === owner.metadata.uid));
  const next = (sorted.at(-1)?.revision ?? 0) + 1;
  const data = revisionData(template);
  const equal = sorted.filter((r) => equalRevisionData(r.data, data));
  if (equal.length) {
    const found = equal.at(-1)!;
    if (found === sorted.at(-1)) return { update: found, collisionCount };
    return { update: { ...found, revision: next }, renumber: { revision: found, to: next }, collisionCount };
  }
  let cc = collisionCount;
  for (let i = 0; i < 100; i++) {
    const rev = newRevision(owner, template, next, cc);
    if (!revisions.some((r) => r.metadata.name === rev.metadata.name)) return { update: rev, create: rev, collisionCount: cc };
    cc++;
  }
  throw new Error(`no free revision name for ${owner.metadata.name}`);
}

/** Revisions beyond the history limit that no live pod or status names, oldest first. */
export function revisionsToPrune(revisions: readonly ControllerRevision[], live: ReadonlySet<string>, limit: number): ControllerRevision[] {
  const dead = sortRevisions(revisions).filter((r) => !live.has(r.metadata.name!));
  return dead.length > limit ? dead.slice(0, dead.length - limit) : [];
}
