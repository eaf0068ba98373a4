// Taints and tolerations with Kubernetes' matching rules, plus the taints the node lifecycle controller
// would have put on a node that is not Ready (kubelite has no separate lifecycle controller, so the
// scheduler derives them from the Ready condition).

import type { Node, Taint, Toleration } from '../api/types.js';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

/** v1.Toleration.ToleratesTaint: effect and key must match when set; Exists ignores the value. */
export function toleratesTaint(t: Toleration, taint: Pick<Taint, 'key' | 'value' | 'effect'>): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? 'Equal') {
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

export function tolerationsTolerate(tolerations: readonly Toleration[] | undefined, taint: Pick<Taint, 'key' | 'value' | 'effect'>): boolean {
  return (tolerations ?? []).some((t) => toleratesTaint(t, taint));
}

/** The Ready condition's status: 'True', 'False', or 'Unknown' (also when the node never reported one). */
export function nodeReadyStatus(node: Node): 'True' | 'False' | 'Unknown' {
  const c = node.status?.conditions?.find((x) => x.type === 'Ready');
  return c?.status ?? 'Unknown';
}

/**
 * Taints that keep new pods off the node: its own NoSchedule/NoExecute taints, plus not-ready
 * (Ready=False) or unreachable (Ready=Unknown) as the node lifecycle controller sets them.
 */
export function schedulingTaints(node: Node): Taint[] {
  const own = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
  const ready = nodeReadyStatus(node);
  if (ready !== 'True') {
    const key = ready === 'False' ? TAINT_NOT_READY : TAINT_UNREACHABLE;
    if (!own.some((t) => t.key === key)) own.push({ key, effect: 'NoSchedule' });
  }
  return own;
}

/** The first taint no toleration matches (Kubernetes reports only that one), or undefined. */
export function findUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[] | undefined): Taint | undefined {
  return taints.find((taint) => !tolerationsTolerate(tolerations, taint));
}
