// What the eviction subresource and the disruption controller share about PodDisruptionBudgets (pure):
// which budgets cover a Pod, when a Pod counts as healthy, and Kubernetes' scaling of an
// int-or-percent against a count.

import type { IntOrString, Pod, PodDisruptionBudget } from './types.js';
import { labelSelectorMatcher } from './selectors.js';

/** Evictions the API admitted but the disruption controller has not yet seen deleted expire after this. */
export const DISRUPTED_POD_TIMEOUT_MS = 2 * 60 * 1000;

/** policy/v1: a null selector selects no pods, an empty one every pod of the namespace. */
export function pdbSelects(pdb: PodDisruptionBudget, pod: Pod): boolean {
  if (pdb.metadata.namespace !== pod.metadata.namespace) return false;
  const sel = pdb.spec?.selector;
  if (!sel) return false;
  return labelSelectorMatcher(sel)(pod.metadata.labels);
}

export function isPodReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** intstr.GetScaledValueFromIntOrPercent: an integer as is, `N%` of `total` rounded up or down. */
export function scaledValue(v: IntOrString, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) {
    const n = Number(v);
    if (Number.isInteger(n)) return n;
    throw new Error(`invalid value for IntOrString: invalid value "${v}": must be an integer or percentage`);
  }
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}
