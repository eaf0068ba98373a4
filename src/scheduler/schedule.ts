// The scheduling decision, kube-scheduler's default profile reduced to what kubelite needs: the filters
// NodeUnschedulable, TaintToleration, NodeAffinity, NodePorts and NodeResourcesFit (in that order,
// first failure wins, except that resources may report several shortages), then a lexicographic score:
// fewest pods of the same controller on the node, then LeastAllocated, then a random pick among ties.
// Pure: the cluster comes in as arguments, randomness through `rand`.

import type { Condition, Node, Pod } from '../api/types.js';
import { objectKey } from '../api/keys.js';
import { ClusterSnapshot, podFacts, type NodeState, type PodFacts } from './snapshot.js';
import { nodeAffinityMatcher, type NodeMatcher } from './node-affinity.js';
import { findUntoleratedTaint, tolerationsTolerate, TAINT_UNSCHEDULABLE } from './taints.js';

export type ScheduleResult = { node: string } | { unschedulable: string; reasons: Record<string, number> };

export interface ScheduleOptions {
  /** Tie-breaker among equally good nodes; defaults to Math.random. */
  rand?: () => number;
  /** Append kube-scheduler's " preemption: ..." sentence (kubelite never preempts); default true. */
  preemptionMessage?: boolean;
  /** VolumeBinding's node filter: the nodes the Pod's bound volumes can be reached from (local volumes). */
  volumeNodes?: (pod: Pod) => NodeMatcher | undefined;
}

export const REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
export const REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const REASON_PORTS = "node(s) didn't have free ports for the requested pod ports";
export const REASON_CPU = 'Insufficient cpu';
export const REASON_MEMORY = 'Insufficient memory';
export const REASON_PODS = 'Too many pods';
export const REASON_VOLUME_NODE_AFFINITY = 'node(s) had volume node affinity conflict';
export const NO_NODES_MESSAGE = 'no nodes available to schedule pods';

export function untoleratedTaintReason(key: string, value: string | undefined): string {
  return `node(s) had untolerated taint {${key}: ${value ?? ''}}`;
}

export function isScheduled(r: ScheduleResult): r is { node: string } {
  return 'node' in r;
}

/** The key scheduleBatch results are stored under: `namespace/name`. */
/** True for a pod this scheduler should place: unbound, alive, and addressed to the default scheduler. */
export function needsScheduling(pod: Pod): boolean {
  const phase = pod.status?.phase;
  const scheduler = pod.spec?.schedulerName;
  return (
    !pod.spec?.nodeName &&
    !pod.metadata.deletionTimestamp &&
    phase !== 'Succeeded' &&
    phase !== 'Failed' &&
    (scheduler === undefined || scheduler === '' || scheduler === 'default-scheduler')
  );
}

/** The PodScheduled=False condition kube-scheduler records on a pod it could not place. */
export function unschedulableCondition(message: string, now: Date): Condition {
  return {
    type: 'PodScheduled',
    status: 'False',
    reason: 'Unschedulable',
    message,
    lastProbeTime: null,
    lastTransitionTime: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

/**
 * kube-scheduler's FitError text: "0/N nodes are available: <count reason, ...>." with the entries
 * sorted as Go's sort.Strings sorts the "count reason" strings, plus the preemption sentence.
 */
export function fitErrorMessage(numNodes: number, reasons: Record<string, number>, preemption = true): string {
  const entries = Object.entries(reasons)
    .map(([reason, n]) => `${n} ${reason}`)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let msg = `0/${numNodes} nodes are available:`;
  if (entries.length) msg += ` ${entries.join(', ')}.`;
  if (preemption) msg += ` preemption: 0/${numNodes} nodes are available: ${numNodes} Preemption is not helpful for scheduling.`;
  return msg;
}

interface PreparedPod {
  pod: Pod;
  facts: PodFacts;
  affinity: NodeMatcher;
  volumes?: NodeMatcher;
  toleratesUnschedulable: boolean;
}

function prepare(pod: Pod, opts: ScheduleOptions = {}): PreparedPod {
  const facts = podFacts(pod);
  return {
    pod,
    facts,
    affinity: nodeAffinityMatcher(pod),
    volumes: opts.volumeNodes?.(pod),
    toleratesUnschedulable: tolerationsTolerate(facts.tolerations, { key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' }),
  };
}

/** The reasons the node cannot take the pod; empty when it fits. */
function filter(p: PreparedPod, n: NodeState): string[] {
  if (n.unschedulable && !p.toleratesUnschedulable) return [REASON_UNSCHEDULABLE];
  const taint = findUntoleratedTaint(n.taints, p.facts.tolerations);
  if (taint) return [untoleratedTaintReason(taint.key, taint.value)];
  if (!p.affinity(n.node)) return [REASON_NODE_AFFINITY];
  if (p.volumes && !p.volumes(n.node)) return [REASON_VOLUME_NODE_AFFINITY];
  if (p.facts.ports.length && n.ports.anyConflict(p.facts.ports)) return [REASON_PORTS];
  const out: string[] = [];
  if (n.podCount + 1 > n.allocatable.pods) out.push(REASON_PODS);
  const req = p.facts.requests;
  // As in NodeResourcesFit, a resource the pod does not request is never "insufficient".
  if (req.cpuMillis > 0 && req.cpuMillis > n.allocatable.cpuMillis - n.requested.cpuMillis) out.push(REASON_CPU);
  if (req.memoryBytes > 0 && req.memoryBytes > n.allocatable.memoryBytes - n.requested.memoryBytes) out.push(REASON_MEMORY);
  return out;
}

// LeastAllocated's per-resource score, in Kubernetes' integer arithmetic (0..100).
function leastAllocated(requested: number, capacity: number): number {
  if (!Number.isFinite(capacity)) return 100;
  if (capacity <= 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * 100) / capacity);
}

function allocationScore(p: PreparedPod, n: NodeState): number {
  const cpu = leastAllocated(n.nonZeroRequested.cpuMillis + p.facts.nonZero.cpuMillis, n.allocatable.cpuMillis);
  const mem = leastAllocated(n.nonZeroRequested.memoryBytes + p.facts.nonZero.memoryBytes, n.allocatable.memoryBytes);
  return Math.floor((cpu + mem) / 2);
}

function decide(snapshot: ClusterSnapshot, p: PreparedPod, opts: ScheduleOptions): ScheduleResult {
  const nodes = snapshot.nodes;
  if (nodes.length === 0) return { unschedulable: NO_NODES_MESSAGE, reasons: {} };
  const reasons: Record<string, number> = {};
  let best: NodeState[] = [];
  let bestSiblings = Infinity;
  let bestScore = -1;
  const uid = p.facts.controllerUid;
  for (const n of nodes) {
    const failed = filter(p, n);
    if (failed.length) {
      for (const r of failed) reasons[r] = (reasons[r] ?? 0) + 1;
      continue;
    }
    const siblings = uid ? (n.owners.get(uid) ?? 0) : 0;
    if (siblings > bestSiblings) continue;
    const score = allocationScore(p, n);
    if (siblings < bestSiblings || score > bestScore) {
      best = [n];
      bestSiblings = siblings;
      bestScore = score;
    } else if (score === bestScore) {
      best.push(n);
    }
  }
  if (best.length === 0) return { unschedulable: fitErrorMessage(nodes.length, reasons, opts.preemptionMessage ?? true), reasons };
  const rand = opts.rand ?? Math.random;
  const i = Math.min(best.length - 1, Math.max(0, Math.floor(rand() * best.length)));
  return { node: best[i].name };
}

/** Places one pod against a snapshot; on success the snapshot counts the pod on its node. */
export function scheduleOn(snapshot: ClusterSnapshot, pod: Pod, opts: ScheduleOptions = {}): ScheduleResult {
  // A pod that names its node is bound as is, as kube-scheduler never sees such pods.
  if (pod.spec?.nodeName) {
    snapshot.assume(pod, pod.spec.nodeName);
    return { node: pod.spec.nodeName };
  }
  const p = prepare(pod, opts);
  const result = decide(snapshot, p, opts);
  if (isScheduled(result)) snapshot.assume(pod, result.node, p.facts);
  return result;
}

/**
 * Chooses a node for one pod. `podsOnNodes` are the bound pods (terminal ones are ignored); for many
 * pods at once use scheduleBatch, which sums them only once.
 */
export function schedule(pod: Pod, nodes: readonly Node[], podsOnNodes: readonly Pod[], opts: ScheduleOptions = {}): ScheduleResult {
  return scheduleOn(new ClusterSnapshot(nodes, podsOnNodes), pod, opts);
}

/** kube-scheduler's queue order: higher priority first, then older pods, then by key for determinism. */
export function schedulingOrder(a: Pod, b: Pod): number {
  const pa = a.spec?.priority ?? 0;
  const pb = b.spec?.priority ?? 0;
  if (pa !== pb) return pb - pa;
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = objectKey(a);
  const kb = objectKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * Schedules pending pods in queue order, each decision seeing the ones before it (resources, ports,
 * sibling spreading). Returns results by `namespace/name`, in the order decided.
 */
export function scheduleBatch(
  pending: readonly Pod[],
  nodes: readonly Node[],
  bound: readonly Pod[],
  opts: ScheduleOptions = {},
): Map<string, ScheduleResult> {
  const snapshot = new ClusterSnapshot(nodes, bound);
  const out = new Map<string, ScheduleResult>();
  const fixed = pending.filter((p) => p.spec?.nodeName);
  const free = pending.filter((p) => !p.spec?.nodeName).sort(schedulingOrder);
  for (const pod of [...fixed, ...free]) out.set(objectKey(pod), scheduleOn(snapshot, pod, opts));
  return out;
}

export { ClusterSnapshot } from './snapshot.js';
