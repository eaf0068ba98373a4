// The node lifecycle controller's decisions (Kubernetes' pkg/controller/nodelifecycle, reduced), pure:
//  - health: a node is alive while the controller *sees* its Lease (or its Ready heartbeat) change; its
//    own clock of those observations is what counts, never the timestamps written by the node, so a
//    restarted controller or a skewed clock never finds healthy nodes stale. Past the grace period the
//    node's conditions go Unknown ("Kubelet stopped posting node status.").
//  - taints: Ready=Unknown -> node.kubernetes.io/unreachable, Ready=False -> node.kubernetes.io/not-ready,
//    each as NoSchedule and NoExecute (timeAdded on the NoExecute one), removed when the node is Ready.
//  - MarkPodsNotReady: when a node stops being Ready, its Pods' Ready condition goes False at once, so
//    they leave every Endpoints before anything else happens.
//  - NoExecute eviction (the taint manager): a Pod that does not tolerate a NoExecute taint is deleted
//    now; one that tolerates it for tolerationSeconds is deleted that long after the taint was added.

import type { Condition, Node, Pod, Taint, Toleration } from '../../api/types.js';
import { toleratesTaint, TAINT_NOT_READY, TAINT_UNREACHABLE } from '../../scheduler/taints.js';
import { isoSeconds, parseTime } from './time.js';

export { TAINT_NOT_READY, TAINT_UNREACHABLE };

export const NODE_CONDITIONS_UNKNOWN_REASON = 'NodeStatusUnknown';
export const NODE_CONDITIONS_UNKNOWN_MESSAGE = 'Kubelet stopped posting node status.';

export function readyCondition(node: Node): Condition | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready');
}

export function readyStatus(node: Node): 'True' | 'False' | 'Unknown' {
  return readyCondition(node)?.status ?? 'Unknown';
}

/** The heartbeat of the node's own status writes (what the controller watches change besides the Lease). */
export function statusHeartbeat(node: Node): string | undefined {
  return readyCondition(node)?.lastHeartbeatTime;
}

/** Is the node past its grace period at `now`, given when a change of its Lease or status was last seen? */
export function isStale(observedAtMs: number, nowMs: number, graceMs: number): boolean {
  return nowMs - observedAtMs > graceMs;
}

/**
 * The controller's own heartbeat. A gap longer than `limitMs` between two looks means this process was
 * stopped (SIGSTOP, a paused container, a starved machine) and saw no Lease change meanwhile, so every
 * node deserves a fresh grace period. Each look is remembered: a stall is reported once, by whichever
 * look comes first after it (the monitor's timer or a reconcile), never again for the same gap.
 */
export class StallDetector {
  constructor(
    private readonly limitMs: number,
    private last: number,
  ) {}

  /** Records a look at `nowMs`; the gap when it was a stall, else undefined. */
  look(nowMs: number): number | undefined {
    const gap = nowMs - this.last;
    this.last = Math.max(this.last, nowMs);
    return gap > this.limitMs ? gap : undefined;
  }
}

/** Every condition Unknown, as the controller writes them for a node that stopped reporting; undefined if already so. */
export function unknownConditions(node: Node, now: Date): Condition[] | undefined {
  const conds = node.status?.conditions ?? [];
  const ts = isoSeconds(now);
  let changed = conds.length === 0;
  const out = conds.map((c) => {
    if (c.status === 'Unknown') return c;
    changed = true;
    return { ...c, status: 'Unknown' as const, reason: NODE_CONDITIONS_UNKNOWN_REASON, message: NODE_CONDITIONS_UNKNOWN_MESSAGE, lastTransitionTime: ts };
  });
  if (!conds.some((c) => c.type === 'Ready')) {
    out.push({ type: 'Ready', status: 'Unknown', reason: NODE_CONDITIONS_UNKNOWN_REASON, message: NODE_CONDITIONS_UNKNOWN_MESSAGE, lastTransitionTime: ts, lastHeartbeatTime: ts });
    changed = true;
  }
  return changed ? out : undefined;
}

const LIFECYCLE_KEYS = [TAINT_NOT_READY, TAINT_UNREACHABLE];

/** The node's taints with the lifecycle ones made to match its Ready status (others kept as they are). */
export function desiredTaints(node: Node, now: Date): Taint[] {
  const own = (node.spec?.taints ?? []).filter((t) => !(LIFECYCLE_KEYS.includes(t.key) && (t.effect === 'NoSchedule' || t.effect === 'NoExecute')));
  const ready = readyStatus(node);
  if (ready === 'True') return own;
  const key = ready === 'False' ? TAINT_NOT_READY : TAINT_UNREACHABLE;
  const had = (effect: Taint['effect']) => node.spec?.taints?.find((t) => t.key === key && t.effect === effect);
  return [...own, had('NoSchedule') ?? { key, effect: 'NoSchedule' }, had('NoExecute') ?? { key, effect: 'NoExecute', timeAdded: isoSeconds(now) }];
}

export function taintsEqual(a: readonly Taint[] | undefined, b: readonly Taint[] | undefined): boolean {
  const k = (t: Taint) => `${t.key}=${t.value ?? ''}:${t.effect}@${t.timeAdded ?? ''}`;
  const x = (a ?? []).map(k).sort();
  const y = (b ?? []).map(k).sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function podReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** The Pods whose Ready condition must go False because their node is not Ready (MarkPodsNotReady). */
export function podsToMarkNotReady(node: Node, pods: readonly Pod[]): Pod[] {
  if (readyStatus(node) === 'True') return [];
  return pods.filter((p) => p.spec?.nodeName === node.metadata.name && !isTerminal(p) && podReady(p));
}

/** A Pod's conditions with Ready (and ContainersReady) False, as MarkPodsNotReady writes them. */
export function notReadyConditions(pod: Pod, now: Date): Condition[] {
  const ts = isoSeconds(now);
  return (pod.status?.conditions ?? []).map((c) =>
    (c.type === 'Ready' || c.type === 'ContainersReady') && c.status === 'True' ? { ...c, status: 'False' as const, reason: 'NodeNotReady', message: 'the node this Pod runs on is not ready', lastTransitionTime: ts } : c,
  );
}

export type EvictionDecision = { evict: true; why: string } | { evict: false; at?: number };

/**
 * When a Pod on a node with NoExecute taints is to go. `at` is when to look again (the earliest
 * toleration running out), undefined when it tolerates them all for ever.
 */
export function evictionFor(pod: Pod, taints: readonly Taint[], nowMs: number): EvictionDecision {
  const noExecute = taints.filter((t) => t.effect === 'NoExecute');
  if (noExecute.length === 0 || pod.metadata.deletionTimestamp || isTerminal(pod)) return { evict: false };
  let earliest: number | undefined;
  for (const taint of noExecute) {
    const matching = (pod.spec?.tolerations ?? []).filter((t) => toleratesTaint(t, taint));
    if (matching.length === 0) return { evict: true, why: `the node has taint {${taint.key}: ${taint.value ?? ''}}:NoExecute, which the Pod does not tolerate` };
    // The longest toleration wins; one without tolerationSeconds tolerates for ever.
    if (matching.some((t) => t.tolerationSeconds === undefined || t.tolerationSeconds === null)) continue;
    const seconds = Math.max(0, ...matching.map((t) => t.tolerationSeconds ?? 0));
    const added = parseTime(taint.timeAdded) ?? nowMs;
    const at = added + seconds * 1000;
    if (at <= nowMs) return { evict: true, why: `it tolerated the node's taint {${taint.key}: ${taint.value ?? ''}}:NoExecute for ${seconds}s` };
    earliest = earliest === undefined ? at : Math.min(earliest, at);
  }
  return { evict: false, at: earliest };
}

/** DefaultTolerationSeconds: the not-ready and unreachable NoExecute tolerations every Pod gets unless it has its own. */
export function withDefaultTolerations(tolerations: readonly Toleration[] | undefined, notReadySeconds: number, unreachableSeconds: number): Toleration[] | undefined {
  const list = [...(tolerations ?? [])];
  const covered = (key: string) => list.some((t) => (t.key === key || (!t.key && t.operator === 'Exists')) && (!t.effect || t.effect === 'NoExecute'));
  let changed = false;
  for (const [key, seconds] of [[TAINT_NOT_READY, notReadySeconds], [TAINT_UNREACHABLE, unreachableSeconds]] as const) {
    if (covered(key)) continue;
    list.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });
    changed = true;
  }
  return changed ? list : undefined;
}
