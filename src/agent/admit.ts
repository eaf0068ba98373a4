// The kubelet's admission check (lifecycle/predicate.go): a Pod bound here whose requests do not fit
// what the node has left is refused with OutOfcpu / OutOfmemory / OutOfpods, instead of hanging or
// being handed to Docker with a limit it rejects. Pure.

import type { Pod } from '../api/types.js';
import { parseBytes, parseCPUMillis } from '../api/quantity.js';

export interface NodeAllocatable {
  cpuMillis: number;
  memoryBytes: number;
  pods: number;
}

export interface Requests {
  cpuMillis: number;
  memoryBytes: number;
}

/** Effective requests: the app containers' sum, or the largest init container if that is more. */
export function podRequests(pod: Pod): Requests {
  const sum: Requests = { cpuMillis: 0, memoryBytes: 0 };
  const of = (c: { resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> } }): Requests => {
    const r = c.resources?.requests ?? {};
    const l = c.resources?.limits ?? {};
    const cpu = r.cpu ?? l.cpu;
    const mem = r.memory ?? l.memory;
    return { cpuMillis: cpu !== undefined ? parseCPUMillis(cpu) : 0, memoryBytes: mem !== undefined ? parseBytes(mem) : 0 };
  };
  for (const c of pod.spec.containers) {
    const r = of(c);
    sum.cpuMillis += r.cpuMillis;
    sum.memoryBytes += r.memoryBytes;
  }
  for (const c of pod.spec.initContainers ?? []) {
    const r = of(c);
    sum.cpuMillis = Math.max(sum.cpuMillis, r.cpuMillis);
    sum.memoryBytes = Math.max(sum.memoryBytes, r.memoryBytes);
  }
  return sum;
}

export type Admission = { ok: true } | { ok: false; reason: string; message: string };

/** `admitted`: the other Pods this node already runs (not terminal). */
export function admitPod(pod: Pod, admitted: Pod[], alloc: NodeAllocatable): Admission {
  const want = podRequests(pod);
  const used: Requests = { cpuMillis: 0, memoryBytes: 0 };
  for (const p of admitted) {
    if (p.metadata.uid === pod.metadata.uid) continue;
    const r = podRequests(p);
    used.cpuMillis += r.cpuMillis;
    used.memoryBytes += r.memoryBytes;
  }
  const others = admitted.filter((p) => p.metadata.uid !== pod.metadata.uid).length;
  const reject = (resource: string, requested: number, usedN: number, capacity: number): Admission => ({
    ok: false,
    reason: `OutOf${resource}`,
    message: `Pod was rejected: Node didn't have enough resource: ${resource}, requested: ${requested}, used: ${usedN}, capacity: ${capacity}`,
  });
  if (others + 1 > alloc.pods) return reject('pods', 1, others, alloc.pods);
  if (want.cpuMillis > 0 && used.cpuMillis + want.cpuMillis > alloc.cpuMillis) return reject('cpu', want.cpuMillis, used.cpuMillis, alloc.cpuMillis);
  if (want.memoryBytes > 0 && used.memoryBytes + want.memoryBytes > alloc.memoryBytes) return reject('memory', want.memoryBytes, used.memoryBytes, alloc.memoryBytes);
  return { ok: true };
}
