// The StatefulSet controller's decision (Kubernetes' pkg/controller/statefulset, defaultStatefulSetControl):
// pods named <set>-<ordinal> with stable hostnames (subdomain = serviceName) and one claim per
// volumeClaimTemplate and ordinal (<template>-<set>-<ordinal>). OrderedReady creates ordinals one by
// one, each after the previous is Running and Ready, and removes them highest first, one at a time;
// Parallel does both at once. RollingUpdate replaces pods whose revision is not the update revision,
// highest ordinal first, down to `partition`; OnDelete leaves that to the user. Pure: the caller passes
// the set, its pods and claims, and the revisions (logic/history.ts).

import type { ControllerRevision, PersistentVolumeClaim, Pod, PodTemplateSpec, StatefulSet, StatefulSetStatus, Volume } from '../../api/types.js';
import { CONTROLLER_REVISION_HASH, POD_INDEX, STATEFULSET_POD_NAME } from '../../api/well-known.js';
import { ownerRefFor } from './adopt.js';
import { templateOf } from './history.js';
import { isPodAvailable, isPodReady, isPodTerminal } from './pod-status.js';
import { statusEqual } from './status-equal.js';

export type StatefulSetAction =
  | { kind: 'createClaims'; ordinal: number; claims: PersistentVolumeClaim[] }
  | { kind: 'createPod'; ordinal: number; pod: Pod }
  | { kind: 'deletePod'; pod: Pod; reason: 'failed' | 'scaleDown' | 'update' }
  /** whenScaled: Delete — the claims of a condemned pod get the pod as owner, so they go with it. */
  | { kind: 'ownClaimsByPod'; pod: Pod; claims: string[] };

export interface StatefulSetPlan {
  actions: StatefulSetAction[];
  status: StatefulSetStatus;
  statusChanged: boolean;
  /** Look again later (minReadySeconds). */
  requeueAfterMs?: number;
}

/** `web-3` -> 3 when the pod's name is <set>-<ordinal>; undefined otherwise. */
export function ordinalOf(set: StatefulSet, pod: Pod): number | undefined {
  const prefix = `${set.metadata.name}-`;
  const name = pod.metadata.name ?? '';
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

export function claimName(set: StatefulSet, template: string, ordinal: number): string {
  return `${template}-${set.metadata.name}-${ordinal}`;
}

export function podRevision(pod: Pod): string | undefined {
  return pod.metadata.labels?.[CONTROLLER_REVISION_HASH];
}

/** The claims a pod of this ordinal uses, as the StatefulSet creates them. */
export function claimsFor(set: StatefulSet, ordinal: number): PersistentVolumeClaim[] {
  const policy = set.spec.persistentVolumeClaimRetentionPolicy;
  return (set.spec.volumeClaimTemplates ?? []).map((t) => {
    const name = claimName(set, t.metadata.name ?? '', ordinal);
    const labels = { ...(t.metadata.labels ?? {}), ...(set.spec.selector?.matchLabels ?? {}) };
    const claim: PersistentVolumeClaim = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name, namespace: set.metadata.namespace, labels, ...(t.metadata.annotations ? { annotations: { ...t.metadata.annotations } } : {}) },
      spec: structuredClone(t.spec),
    };
    // whenDeleted: Delete — the claims belong to the set, and the garbage collector takes them with it.
    if (policy?.whenDeleted === 'Delete') claim.metadata.ownerReferences = [{ ...ownerRefFor(set), controller: false, blockOwnerDeletion: true }];
    return claim;
  });
}

/** The pod of `ordinal` at the given revision (template from that revision, or the set's own). */
export function podForOrdinal(set: StatefulSet, ordinal: number, revision: ControllerRevision | undefined, template: PodTemplateSpec): Pod {
  const name = `${set.metadata.name}-${ordinal}`;
  const meta = template.metadata ?? {};
  const spec = structuredClone(template.spec);
  const claimVolumes: Volume[] = (set.spec.volumeClaimTemplates ?? []).map((t) => ({ name: t.metadata.name ?? '', persistentVolumeClaim: { claimName: claimName(set, t.metadata.name ?? '', ordinal) } }));
  const claimed = new Set(claimVolumes.map((v) => v.name));
  spec.volumes = [...(spec.volumes ?? []).filter((v) => !claimed.has(v.name)), ...claimVolumes];
  if (!spec.volumes.length) delete spec.volumes;
  spec.hostname = name;
  if (set.spec.serviceName) spec.subdomain = set.spec.serviceName;
  const labels: Record<string, string> = { ...(meta.labels ?? {}), [STATEFULSET_POD_NAME]: name, [POD_INDEX]: String(ordinal) };
  if (revision) labels[CONTROLLER_REVISION_HASH] = revision.metadata.name!;
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: set.metadata.namespace, labels, ownerReferences: [ownerRefFor(set)] },
    spec,
  };
  if (meta.annotations && Object.keys(meta.annotations).length) pod.metadata.annotations = { ...meta.annotations };
  return pod;
}

function healthy(pod: Pod, minReady: number, now: Date): boolean {
  return !pod.metadata.deletionTimestamp && pod.status?.phase === 'Running' && isPodAvailable(pod, minReady, now);
}

export interface StatefulSetInput {
  set: StatefulSet;
  /** Pods the set owns. */
  pods: readonly Pod[];
  /** Names of the claims that exist in the set's namespace. */
  claims: ReadonlySet<string>;
  current: ControllerRevision;
  update: ControllerRevision;
  collisionCount?: number;
  now: Date;
}

export function planStatefulSet(input: StatefulSetInput): StatefulSetPlan {
  const { set, now, current, update } = input;
  const replicas = set.spec.replicas ?? 1;
  const start = set.spec.ordinals?.start ?? 0;
  const end = start + replicas;
  const parallel = set.spec.podManagementPolicy === 'Parallel';
  const minReady = set.spec.minReadySeconds ?? 0;
  const strategy = set.spec.updateStrategy?.type ?? 'RollingUpdate';
  const partition = strategy === 'RollingUpdate' ? set.spec.updateStrategy?.rollingUpdate?.partition ?? 0 : 0;
  const actions: StatefulSetAction[] = [];

  const byOrdinal = new Map<number, Pod>();
  const condemned: Pod[] = [];
  for (const p of input.pods) {
    const o = ordinalOf(set, p);
    if (o === undefined) continue;
    if (o >= start && o < end) byOrdinal.set(o, p);
    else condemned.push(p);
  }
  condemned.sort((a, b) => (ordinalOf(set, b) ?? 0) - (ordinalOf(set, a) ?? 0));

  const currentTemplate = templateOf(current) ?? set.spec.template;
  const updateTemplate = set.spec.template;
  const newPod = (ordinal: number) => {
    // Ordinals below the partition stay at the current revision (RollingUpdate only).
    const atCurrent = strategy === 'RollingUpdate' && ordinal - start < partition && current.metadata.name !== update.metadata.name;
    return atCurrent ? podForOrdinal(set, ordinal, current, currentTemplate) : podForOrdinal(set, ordinal, update, updateTemplate);
  };

  // Status from the pods as they are now (computeReplicaStatus).
  const status: StatefulSetStatus = { ...(set.status ?? { replicas: 0 }) };
  let count = 0;
  let ready = 0;
  let available = 0;
  let currentReplicas = 0;
  let updatedReplicas = 0;
  let nextAvailable: number | undefined;
  for (const p of input.pods) {
    if (ordinalOf(set, p) === undefined || p.metadata.deletionTimestamp || !p.status?.phase) continue;
    count++;
    if (isPodReady(p) && p.status?.phase === 'Running') {
      ready++;
      if (isPodAvailable(p, minReady, now)) available++;
      else if (minReady) nextAvailable = Math.min(nextAvailable ?? Infinity, minReady * 1000);
    }
    if (podRevision(p) === current.metadata.name) currentReplicas++;
    if (podRevision(p) === update.metadata.name) updatedReplicas++;
  }
  Object.assign(status, { replicas: count, readyReplicas: ready, availableReplicas: available, currentReplicas, updatedReplicas, currentRevision: current.metadata.name, updateRevision: update.metadata.name });
  if (set.metadata.generation !== undefined) status.observedGeneration = set.metadata.generation;
  if (input.collisionCount) status.collisionCount = input.collisionCount;
  else delete status.collisionCount;
  // completeRollingUpdate: once every pod runs the update revision and is ready, it is the current one.
  if (strategy === 'RollingUpdate' && updatedReplicas === replicas && ready === replicas && count === replicas) {
    status.currentRevision = update.metadata.name;
    status.currentReplicas = updatedReplicas;
  }

  if (!set.metadata.deletionTimestamp) {
    // 1. Replace failed pods, create missing ones (claims first), in ordinal order.
    let blocked = false;
    for (let o = start; o < end; o++) {
      const pod = byOrdinal.get(o);
      if (pod && pod.status?.phase === 'Failed' && !pod.metadata.deletionTimestamp) {
        actions.push({ kind: 'deletePod', pod, reason: 'failed' });
        if (!parallel) {
          blocked = true;
          break;
        }
        continue;
      }
      if (!pod) {
        const missing = claimsFor(set, o).filter((c) => !input.claims.has(c.metadata.name!));
        if (missing.length) actions.push({ kind: 'createClaims', ordinal: o, claims: missing });
        actions.push({ kind: 'createPod', ordinal: o, pod: newPod(o) });
        if (!parallel) {
          blocked = true;
          break;
        }
        continue;
      }
      // OrderedReady: the next ordinal waits until this one runs and is ready.
      if (!parallel && !healthy(pod, minReady, now)) {
        blocked = true;
        break;
      }
    }

    // 2. Scale down: the highest ordinal first; OrderedReady one at a time and only when all else is healthy.
    if (!blocked && condemned.length) {
      const unhealthy = [...byOrdinal.values()].some((p) => !healthy(p, minReady, now));
      const terminating = condemned.some((p) => p.metadata.deletionTimestamp);
      const victims = parallel ? condemned.filter((p) => !p.metadata.deletionTimestamp) : unhealthy || terminating ? [] : condemned.slice(0, 1);
      for (const pod of victims) {
        if (set.spec.persistentVolumeClaimRetentionPolicy?.whenScaled === 'Delete') {
          const o = ordinalOf(set, pod)!;
          const names = claimsFor(set, o).map((c) => c.metadata.name!).filter((n) => input.claims.has(n));
          if (names.length) actions.push({ kind: 'ownClaimsByPod', pod, claims: names });
        }
        actions.push({ kind: 'deletePod', pod, reason: 'scaleDown' });
      }
      if (!parallel) blocked = true;
    }

    // 3. Rolling update: highest ordinal first, down to the partition, one pod at a time.
    if (!blocked && !condemned.length && strategy === 'RollingUpdate') {
      const all = [...byOrdinal.entries()].sort((a, b) => b[0] - a[0]);
      const someUnhealthy = all.some(([, p]) => !healthy(p, minReady, now));
      if (!someUnhealthy) {
        for (const [o, pod] of all) {
          if (o - start < partition) break;
          if (podRevision(pod) !== update.metadata.name) {
            actions.push({ kind: 'deletePod', pod, reason: 'update' });
            break;
          }
        }
      }
    }
  }

  return { actions, status, statusChanged: !statusEqual(set.status, status), ...(nextAvailable !== undefined ? { requeueAfterMs: nextAvailable } : {}) };
}
