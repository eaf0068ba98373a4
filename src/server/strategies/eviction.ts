// POST pods/NAME/eviction, as kube-apiserver's eviction REST (pkg/registry/core/pod/storage/eviction.go):
// a Pod covered by a PodDisruptionBudget is deleted only if the budget allows one more disruption,
// which the eviction takes (disruptionsAllowed - 1, the Pod recorded in status.disruptedPods until the
// disruption controller sees it gone). Otherwise 429 TooManyRequests with Kubernetes' words, which is
// what makes `kubectl drain` wait and retry. Pods that are not running (Pending, finished, already
// being deleted) and unhealthy Pods of a budget that is met are evicted without taking from it.

import type { KObject, Pod, PodDisruptionBudget, Eviction, Status } from '../../api/types.js';
import { R } from '../../api/resources.js';
import { errors, isStatusError, StatusError, successStatus } from '../../api/errors.js';
import { isPodReady, pdbSelects } from '../../api/disruption.js';
import type { DeleteOptions } from '../../client/types.js';
import { clone } from '../../util/equal.js';
import { rfc3339 } from '../../util/time.js';
import type { StrategyContext } from '../strategy.js';

const MAX_DISRUPTED_PODS = 2000;
const RETRIES = 5;

export const EVICTION_REFUSED = "Cannot evict pod as it would violate the pod's disruption budget.";

function tooManyRequests(message: string): StatusError {
  return new StatusError({
    code: 429,
    reason: 'TooManyRequests',
    message: EVICTION_REFUSED,
    details: { causes: [{ reason: 'DisruptionBudget', message }] },
  });
}

/** The budget check and decrement (checkAndDecrement); throws the 429/403 that refuses the eviction. */
export function takeDisruption(pdb: PodDisruptionBudget, podName: string, now: Date): PodDisruptionBudget {
  const status = pdb.status;
  if (!status || (status.observedGeneration ?? 0) < (pdb.metadata.generation ?? 1)) {
    throw tooManyRequests(`The disruption budget ${pdb.metadata.name} is still being processed by the server.`);
  }
  if (status.disruptionsAllowed < 0) throw errors.forbidden(R.poddisruptionbudgets, pdb.metadata.name!, 'pdb disruptions allowed is negative');
  if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS) {
    throw errors.forbidden(R.poddisruptionbudgets, pdb.metadata.name!, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
  }
  if (status.disruptionsAllowed === 0) {
    throw tooManyRequests(`The disruption budget ${pdb.metadata.name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`);
  }
  const next = clone(pdb);
  const s = next.status!;
  s.disruptionsAllowed--;
  if (s.disruptionsAllowed === 0) {
    s.conditions = (s.conditions ?? []).map((c) => (c.type === 'DisruptionAllowed' ? { ...c, status: 'False' as const, reason: 'InsufficientPods', lastTransitionTime: c.status === 'False' ? c.lastTransitionTime : rfc3339(now) } : c));
  }
  s.disruptedPods = { ...(s.disruptedPods ?? {}), [podName]: rfc3339(now) };
  return next;
}

function canIgnoreBudget(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !!pod.metadata.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending';
}

export async function evict(ctx: StrategyContext, namespace: string, name: string, body: KObject): Promise<KObject | Status> {
  const eviction = (body ?? {}) as Eviction;
  const deleteOptions = (eviction.deleteOptions ?? {}) as DeleteOptions & { dryRun?: string[] };
  const dryRun = Array.isArray(deleteOptions.dryRun) && deleteOptions.dryRun.includes('All');
  const remove = async () => {
    if (!dryRun) await ctx.delete(R.pods, namespace, name, { gracePeriodSeconds: deleteOptions.gracePeriodSeconds, preconditions: deleteOptions.preconditions });
    return successStatus() as unknown as KObject;
  };
  for (let attempt = 0; ; attempt++) {
    const pod = (await ctx.get(R.pods, namespace, name)) as Pod;
    if (deleteOptions.preconditions?.uid && deleteOptions.preconditions.uid !== pod.metadata.uid) {
      throw errors.conflict(R.pods, name, `Precondition failed: UID in precondition: ${deleteOptions.preconditions.uid}, UID in object meta: ${pod.metadata.uid}`);
    }
    if (canIgnoreBudget(pod)) return remove();
    const { items } = await ctx.store.list(R.poddisruptionbudgets, namespace);
    const pdbs = (items as PodDisruptionBudget[]).filter((p) => pdbSelects(p, pod));
    if (pdbs.length === 0) return remove();
    if (pdbs.length > 1) throw errors.internal('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    const pdb = pdbs[0];
    if (!isPodReady(pod)) {
      // An unhealthy Pod does not count towards the budget: evicting it takes nothing when the budget is met.
      if (pdb.spec.unhealthyPodEvictionPolicy === 'AlwaysAllow') return remove();
      const s = pdb.status;
      if (s && s.currentHealthy >= s.desiredHealthy && s.desiredHealthy > 0) return remove();
    }
    const next = takeDisruption(pdb, name, new Date());
    if (dryRun) return successStatus() as unknown as KObject;
    try {
      await ctx.store.update(R.poddisruptionbudgets, next, { expectedResourceVersion: pdb.metadata.resourceVersion });
    } catch (err) {
      if (attempt < RETRIES && isStatusError(err, 'Conflict')) continue;
      throw err;
    }
    return remove();
  }
}
