// Resource arithmetic of the scheduler: what a Pod asks for and what a Node offers. Quantities are
// parsed once into integers (millicores,
// bytes) so the filters compare plain numbers.

import { parseBytes, parseCPUMillis } from '../api/quantity.js';
import { containerRequest, safeQuantity, type Parser } from '../api/qos.js';
import type { Container, Node, Pod } from '../api/types.js';

export interface Resources {
  cpuMillis: number;
  memoryBytes: number;
}

export interface Allocatable extends Resources {
  pods: number;
}

/** kube-scheduler's defaults for a container without requests, used only for scoring (GetNonzeroRequests). */
export const DEFAULT_CPU_REQUEST_MILLIS = 100;
export const DEFAULT_MEMORY_REQUEST_BYTES = 200 * 1024 * 1024;

function containerResources(c: Container, nonZero: boolean): Resources {
  const cpu = containerRequest(c, 'cpu', parseCPUMillis);
  const mem = containerRequest(c, 'memory', parseBytes);
  return {
    cpuMillis: cpu ?? (nonZero ? DEFAULT_CPU_REQUEST_MILLIS : 0),
    memoryBytes: mem ?? (nonZero ? DEFAULT_MEMORY_REQUEST_BYTES : 0),
  };
}

// Init containers run one at a time before the app containers, so a pod needs, per resource, the larger
// of the app containers' sum and the biggest single init container.
function combine(pod: Pod, nonZero: boolean): Resources {
  let cpu = 0;
  let mem = 0;
  for (const c of pod.spec?.containers ?? []) {
    const r = containerResources(c, nonZero);
    cpu += r.cpuMillis;
    mem += r.memoryBytes;
  }
  for (const c of pod.spec?.initContainers ?? []) {
    const r = containerResources(c, nonZero);
    cpu = Math.max(cpu, r.cpuMillis);
    mem = Math.max(mem, r.memoryBytes);
  }
  return { cpuMillis: cpu, memoryBytes: mem };
}

/** What the pod reserves on a node (the NodeResourcesFit filter's arithmetic). */
export function podRequests(pod: Pod): Resources {
  return combine(pod, false);
}

/** Requests with kube-scheduler's non-zero defaults (100m, 200Mi) for unset ones: what scoring uses. */
export function podNonZeroRequests(pod: Pod): Resources {
  return combine(pod, true);
}

/**
 * The node's allocatable cpu/memory/pods (status.allocatable, else status.capacity). A resource the
 * node does not report is unlimited: an agent that has not published its capacity yet should not make
 * its node unschedulable.
 */
export function nodeAllocatable(node: Node): Allocatable {
  const alloc = node.status?.allocatable ?? {};
  const cap = node.status?.capacity ?? {};
  const pick = (name: string, parse: Parser): number => safeQuantity(parse, alloc[name] ?? cap[name]) ?? Infinity;
  return {
    cpuMillis: pick('cpu', parseCPUMillis),
    memoryBytes: pick('memory', parseBytes),
    pods: pick('pods', (q) => Math.floor(Number(q))),
  };
}
