// The scheduler's view of the cluster for one batch: static per-node facts (allocatable, taints,
// readiness) and running sums of what bound pods use (requests, pod count, host ports, siblings per
// controller). Built once from the informer caches, then updated in place by `assume` as the batch
// binds pods, so each decision costs O(nodes) and never re-sums pods.

import type { Node, Pod, Taint, Toleration } from '../api/types.js';
import { HostPortSet, podHostPorts, type HostPort } from './host-ports.js';
import { nodeAllocatable, podNonZeroRequests, podRequests, type Allocatable, type Resources } from './resources.js';
import { schedulingTaints } from './taints.js';

export interface NodeState {
  name: string;
  node: Node;
  allocatable: Allocatable;
  taints: Taint[];
  unschedulable: boolean;
  requested: Resources;
  nonZeroRequested: Resources;
  podCount: number;
  ports: HostPortSet;
  /** controller owner uid -> number of its pods on this node */
  owners: Map<string, number>;
}

/** Per-pod facts the filters and scores need, computed once per pod. */
export interface PodFacts {
  requests: Resources;
  nonZero: Resources;
  ports: HostPort[];
  tolerations: Toleration[];
  controllerUid?: string;
}

export function controllerUid(pod: Pod): string | undefined {
  return pod.metadata.ownerReferences?.find((r) => r.controller)?.uid;
}

export function podFacts(pod: Pod): PodFacts {
  return {
    requests: podRequests(pod),
    nonZero: podNonZeroRequests(pod),
    ports: podHostPorts(pod),
    tolerations: pod.spec?.tolerations ?? [],
    controllerUid: controllerUid(pod),
  };
}

function isTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

export class ClusterSnapshot {
  readonly nodes: NodeState[];
  private readonly byName = new Map<string, NodeState>();

  constructor(nodes: readonly Node[], boundPods: readonly Pod[]) {
    this.nodes = nodes.map((node) => ({
      name: node.metadata.name ?? '',
      node,
      allocatable: nodeAllocatable(node),
      taints: schedulingTaints(node),
      unschedulable: node.spec?.unschedulable === true,
      requested: { cpuMillis: 0, memoryBytes: 0 },
      nonZeroRequested: { cpuMillis: 0, memoryBytes: 0 },
      podCount: 0,
      ports: new HostPortSet(),
      owners: new Map(),
    }));
    for (const n of this.nodes) this.byName.set(n.name, n);
    // Terminal pods free their resources (kube-scheduler's informer drops them); pods still
    // terminating keep theirs until they are gone, as in Kubernetes.
    for (const pod of boundPods) {
      if (!pod.spec?.nodeName || isTerminal(pod)) continue;
      this.assume(pod, pod.spec.nodeName);
    }
  }

  node(name: string): NodeState | undefined {
    return this.byName.get(name);
  }

  /** Counts the pod against the node, as if bound. A node not in the snapshot is ignored. */
  assume(pod: Pod, nodeName: string, facts: PodFacts = podFacts(pod)): void {
    const n = this.byName.get(nodeName);
    if (!n) return;
    n.requested.cpuMillis += facts.requests.cpuMillis;
    n.requested.memoryBytes += facts.requests.memoryBytes;
    n.nonZeroRequested.cpuMillis += facts.nonZero.cpuMillis;
    n.nonZeroRequested.memoryBytes += facts.nonZero.memoryBytes;
    n.podCount++;
    for (const p of facts.ports) n.ports.add(p);
    if (facts.controllerUid) n.owners.set(facts.controllerUid, (n.owners.get(facts.controllerUid) ?? 0) + 1);
  }
}
