// Resource arithmetic the scheduler and the agent share: what a Pod asks for, what a Node offers, and
// the QoS class that follows from both. Quantities are parsed here once into integers (millicores,
// bytes) so the filters compare plain numbers.

import { parseBytes, parseCPUMillis } from '../api/quantity.js';
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

type Parser = (q: string | number) => number;

// Validation refuses malformed quantities; one that slipped through must not crash the scheduler loop,
// so it counts as absent.
function safe(parse: Parser, q: string | number | undefined): number | undefined {
  if (q === undefined || q === null) return undefined;
  try {
    const v = parse(q);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A container's request for one resource; Kubernetes defaults an unset request to the limit. */
function containerRequest(c: Container, name: string, parse: Parser): number | undefined {
  const req = c.resources?.requests?.[name];
  if (req !== undefined) return safe(parse, req);
  const lim = c.resources?.limits?.[name];
  return lim !== undefined ? safe(parse, lim) : undefined;
}

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
  const pick = (name: string, parse: Parser): number => safe(parse, alloc[name] ?? cap[name]) ?? Infinity;
  return {
    cpuMillis: pick('cpu', parseCPUMillis),
    memoryBytes: pick('memory', parseBytes),
    pods: pick('pods', (q) => Math.floor(Number(q))),
  };
}

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/**
 * Kubernetes' ComputePodQOS over cpu and memory: BestEffort when no container sets a positive request
 * or limit; Guaranteed when every container (init included) has positive cpu and memory limits and the
 * pod's summed requests equal its summed limits; Burstable otherwise. Requests default to limits first,
 * as API defaulting would have done.
 */
export function qosClass(pod: Pod): QOSClass {
  const parsers: Record<string, Parser> = { cpu: parseCPUMillis, memory: parseBytes };
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    const limitsFound = new Set<string>();
    for (const [name, parse] of Object.entries(parsers)) {
      const req = containerRequest(c, name, parse);
      if (req !== undefined && req > 0) requests.set(name, (requests.get(name) ?? 0) + req);
      const lim = safe(parse, c.resources?.limits?.[name]);
      if (lim !== undefined && lim > 0) {
        limitsFound.add(name);
        limits.set(name, (limits.get(name) ?? 0) + lim);
      }
    }
    if (!limitsFound.has('cpu') || !limitsFound.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, req] of requests) {
      if (limits.get(name) !== req) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}
