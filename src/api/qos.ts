// A Pod's QoS class (Kubernetes' ComputePodQOS) and the request arithmetic it shares with the scheduler.
// Quantities are parsed here into integers (millicores, bytes) so callers compare plain numbers.

import { parseBytes, parseCPUMillis } from './quantity.js';
import type { Container, Pod } from './types.js';

export type Parser = (q: string | number) => number;

// Validation refuses malformed quantities; one that slipped through must not crash the scheduler loop,
// so it counts as absent.
export function safeQuantity(parse: Parser, q: string | number | undefined): number | undefined {
  if (q === undefined || q === null) return undefined;
  try {
    const v = parse(q);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A container's request for one resource; Kubernetes defaults an unset request to the limit. */
export function containerRequest(c: Container, name: string, parse: Parser): number | undefined {
  const req = c.resources?.requests?.[name];
  if (req !== undefined) return safeQuantity(parse, req);
  const lim = c.resources?.limits?.[name];
  return lim !== undefined ? safeQuantity(parse, lim) : undefined;
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
      const lim = safeQuantity(parse, c.resources?.limits?.[name]);
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
