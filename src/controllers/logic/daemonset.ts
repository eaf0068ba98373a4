// The DaemonSet controller's decision (Kubernetes' pkg/controller/daemon): one pod per eligible node —
// a node whose labels match the template's nodeSelector/affinity and whose NoSchedule/NoExecute taints
// the template tolerates (with the tolerations every daemon pod gets). Pods are pinned to their node
// with required node affinity on metadata.name, so the scheduler binds them. RollingUpdate replaces
// old pods within maxUnavailable (or, with maxSurge, starts the new pod first); OnDelete waits for the
// user. Pure: nodes, owned pods and the update revision's hash come in.

import type { DaemonSet, DaemonSetStatus, Node, Pod, Toleration } from '../../api/types.js';
import { CONTROLLER_REVISION_HASH, DAEMONSET_TEMPLATE_GENERATION } from '../../api/well-known.js';
import { findUntoleratedTaint, nodeAffinityMatcher } from '../../scheduler/index.js';
import { ownerRefFor } from './adopt.js';
import { scaledValue } from './deployment-util.js';
import { isPodAvailable, isPodReady, isPodTerminal } from './pod-status.js';
import { statusEqual } from './status-equal.js';
import { parseTime } from './time.js';

/** What every daemon pod tolerates (AddOrUpdateDaemonPodTolerations). */
export const DAEMON_TOLERATIONS: Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

export function withDaemonTolerations(tolerations: readonly Toleration[] | undefined): Toleration[] {
  const out = [...(tolerations ?? [])];
  for (const t of DAEMON_TOLERATIONS) if (!out.some((x) => x.key === t.key && x.effect === t.effect && (x.operator ?? 'Equal') === t.operator)) out.push(t);
  return out;
}

/** The daemon pod for a node: the template, pinned to the node, with the daemon tolerations. */
export function daemonPodFor(ds: DaemonSet, nodeName: string, hash: string): Pod {
  const meta = ds.spec.template.metadata ?? {};
  const spec = structuredClone(ds.spec.template.spec);
  const affinity = (spec.affinity ?? {}) as { nodeAffinity?: Record<string, unknown> };
  affinity.nodeAffinity = {
    ...(affinity.nodeAffinity ?? {}),
    requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] },
  };
  spec.affinity = affinity;
  spec.tolerations = withDaemonTolerations(spec.tolerations);
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${ds.metadata.name}-`,
      namespace: ds.metadata.namespace,
      labels: { ...(meta.labels ?? {}), [CONTROLLER_REVISION_HASH]: hash, [DAEMONSET_TEMPLATE_GENERATION]: String(ds.metadata.generation ?? 1) },
      ownerReferences: [ownerRefFor(ds)],
    },
    spec,
  };
  if (meta.annotations && Object.keys(meta.annotations).length) pod.metadata.annotations = { ...meta.annotations };
  return pod;
}

/** Whether the daemon should run on the node: selector/affinity and taints (not readiness). */
export function nodeShouldRunDaemon(ds: DaemonSet, node: Node): boolean {
  const probe = { apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: ds.spec.template.spec } as Pod;
  if (!nodeAffinityMatcher(probe)(node)) return false;
  const taints = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
  return !findUntoleratedTaint(taints, withDaemonTolerations(ds.spec.template.spec.tolerations));
}

/** The node a daemon pod is for: where it runs, or the node its affinity pins it to. */
export function daemonPodNode(pod: Pod): string | undefined {
  if (pod.spec.nodeName) return pod.spec.nodeName;
  const terms = (pod.spec.affinity as { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: { matchFields?: { key: string; values?: string[] }[] }[] } } } | undefined)?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) for (const f of t.matchFields ?? []) if (f.key === 'metadata.name' && f.values?.length === 1) return f.values[0];
  return undefined;
}

export interface DaemonSetPlan {
  create: string[];
  delete: Pod[];
  status: DaemonSetStatus;
  statusChanged: boolean;
  requeueAfterMs?: number;
}

const oldestFirst = (a: Pod, b: Pod) => (parseTime(a.metadata.creationTimestamp) ?? 0) - (parseTime(b.metadata.creationTimestamp) ?? 0) || (a.metadata.name! < b.metadata.name! ? -1 : 1);

export function planDaemonSet(ds: DaemonSet, nodes: readonly Node[], pods: readonly Pod[], hash: string, now: Date, collisionCount?: number): DaemonSetPlan {
  const minReady = ds.spec.minReadySeconds ?? 0;
  const eligible = nodes.filter((n) => nodeShouldRunDaemon(ds, n));
  const eligibleNames = new Set(eligible.map((n) => n.metadata.name!));
  const byNode = new Map<string, Pod[]>();
  for (const p of pods) {
    if (p.metadata.deletionTimestamp) continue;
    const n = daemonPodNode(p);
    if (!n) continue;
    byNode.set(n, [...(byNode.get(n) ?? []), p]);
  }
  const plan: DaemonSetPlan = { create: [], delete: [], status: { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 }, statusChanged: false };
  const updated = (p: Pod) => p.metadata.labels?.[CONTROLLER_REVISION_HASH] === hash;
  const available = (p: Pod) => !isPodTerminal(p) && p.status?.phase === 'Running' && isPodAvailable(p, minReady, now);

  // Per node: create what is missing, delete failed pods and duplicates, and pods on nodes that no longer qualify.
  const nodePods = new Map<string, Pod[]>();
  for (const [node, list] of byNode) {
    if (!eligibleNames.has(node)) {
      plan.delete.push(...list);
      continue;
    }
    const failed = list.filter((p) => p.status?.phase === 'Failed');
    plan.delete.push(...failed);
    const live = list.filter((p) => !failed.includes(p)).sort(oldestFirst);
    // Duplicates: keep one updated and one old at most (a surge in flight), otherwise the oldest.
    const keepNew = live.filter(updated)[0];
    const keepOld = live.filter((p) => !updated(p))[0];
    const keep = [keepNew, keepOld].filter((p): p is Pod => !!p);
    plan.delete.push(...live.filter((p) => !keep.includes(p)));
    nodePods.set(node, keep);
  }
  for (const n of eligible) if (!(nodePods.get(n.metadata.name!) ?? []).length) plan.create.push(n.metadata.name!);

  // Rolling update.
  const strategy = ds.spec.updateStrategy?.type ?? 'RollingUpdate';
  if (strategy === 'RollingUpdate') {
    const desired = eligible.length;
    const maxSurge = scaledValue(ds.spec.updateStrategy?.rollingUpdate?.maxSurge ?? 0, desired, true);
    const maxUnavailable = maxSurge > 0 ? 0 : Math.max(1, scaledValue(ds.spec.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1, desired, true));
    let unavailable = 0;
    const oldOnly: { node: string; pod: Pod }[] = [];
    for (const n of eligible) {
      const list = nodePods.get(n.metadata.name!) ?? [];
      const nw = list.find(updated);
      const old = list.find((p) => !updated(p));
      if (!list.some(available)) unavailable++;
      if (nw && old) {
        // A surge pod that became available replaces the old one.
        if (available(nw)) plan.delete.push(old);
      } else if (old) oldOnly.push({ node: n.metadata.name!, pod: old });
    }
    if (maxSurge > 0) {
      const surging = eligible.filter((n) => (nodePods.get(n.metadata.name!) ?? []).length === 2).length;
      // Old pods that are not available go at once; the others get a new pod beside them, maxSurge at a time.
      let budget = maxSurge - surging;
      for (const { node, pod } of oldOnly) {
        if (!available(pod)) plan.delete.push(pod);
        else if (budget-- > 0) plan.create.push(node);
      }
    } else {
      // Unavailable old pods first, then available ones while the budget lasts.
      const sorted = [...oldOnly].sort((a, b) => Number(available(a.pod)) - Number(available(b.pod)));
      let budget = maxUnavailable - unavailable;
      for (const { pod } of sorted) {
        if (!available(pod)) plan.delete.push(pod);
        else if (budget-- > 0) plan.delete.push(pod);
      }
    }
  }

  // Status.
  const st = plan.status;
  st.desiredNumberScheduled = eligible.length;
  let updatedCount = 0;
  let availableCount = 0;
  for (const n of eligible) {
    const list = nodePods.get(n.metadata.name!) ?? [];
    if (!list.length) continue;
    st.currentNumberScheduled++;
    if (list.some((p) => isPodReady(p) && p.status?.phase === 'Running')) st.numberReady++;
    if (list.some(updated)) updatedCount++;
    if (list.some(available)) availableCount++;
    else if (minReady && list.some(isPodReady)) plan.requeueAfterMs = minReady * 1000;
  }
  for (const node of byNode.keys()) if (!eligibleNames.has(node)) st.numberMisscheduled++;
  st.updatedNumberScheduled = updatedCount;
  st.numberAvailable = availableCount;
  st.numberUnavailable = eligible.length - availableCount;
  if (ds.metadata.generation !== undefined) st.observedGeneration = ds.metadata.generation;
  if (collisionCount) st.collisionCount = collisionCount;
  plan.delete = [...new Set(plan.delete)];
  plan.statusChanged = !statusEqual(ds.status, st);
  return plan;
}
