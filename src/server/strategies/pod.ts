// Pods: a new Pod is Pending with its QoS class; its node never changes once bound; a Pod that runs
// somewhere is deleted gracefully (its node stops it, then completes the deletion); binding and
// eviction are its POST subresources.

import type { Binding, KObject, Pod } from '../../api/types.js';
import { R } from '../../api/resources.js';
import { errors, isStatusError, successStatus } from '../../api/errors.js';
import { qosClass } from '../../api/qos.js';
import type { DeleteOptions } from '../../client/types.js';
import { clone, deepEqual } from '../../util/equal.js';
import { rfc3339 } from '../../util/time.js';
import type { RegistryStrategy, StrategyContext } from '../strategy.js';
import { evict } from './eviction.js';

const BIND_RETRIES = 5;

export function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

function forceRemoval(pod: KObject): boolean {
  return pod.metadata.deletionGracePeriodSeconds === 0;
}

async function bind(ctx: StrategyContext, namespace: string, name: string, binding: Binding): Promise<KObject> {
  const node = binding?.target?.name;
  if (!node) throw errors.invalid('Binding', name, [{ field: 'target.name', reason: 'FieldValueRequired', message: 'Required value' }]);
  for (let attempt = 0; ; attempt++) {
    const pod = (await ctx.get(R.pods, namespace, name)) as Pod;
    if (pod.metadata.deletionTimestamp) throw errors.conflict(R.pods, name, 'pod is being deleted, cannot be assigned to a host');
    if (pod.spec.nodeName) throw errors.conflict(R.pods, name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
    const next = clone(pod);
    next.spec.nodeName = node;
    const conditions = (next.status ??= {}).conditions ?? [];
    next.status.conditions = [...conditions.filter((c) => c.type !== 'PodScheduled'), { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339() }];
    try {
      await ctx.store.update(R.pods, next, { expectedResourceVersion: pod.metadata.resourceVersion });
      return successStatus() as unknown as KObject;
    } catch (err) {
      if (attempt < BIND_RETRIES && isStatusError(err, 'Conflict')) continue;
      throw err;
    }
  }
}

export const podStrategy: RegistryStrategy = {
  // As the API server does: a new Pod is Pending with its QoS class (kubectl describe prints both).
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending', qosClass: qosClass(obj as Pod) };
  },

  validateUpdate(next, old) {
    const n = next as Pod;
    const o = old as Pod;
    if (n.spec && o.spec.nodeName && !deepEqual(n.spec.nodeName, o.spec.nodeName)) {
      throw errors.invalid('Pod', old.metadata.name!, [
        {
          field: 'spec.nodeName',
          reason: 'FieldValueForbidden',
          message: 'Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations)',
        },
      ]);
    }
  },

  // A running Pod still needs its node to stop it; the agent completes that deletion.
  removableAfterFinalizers(obj) {
    const pod = obj as Pod;
    return !(pod.spec.nodeName && !isTerminal(pod) && !forceRemoval(pod));
  },

  beginGracefulDelete(old, next, opts) {
    const pod = old as Pod;
    const grace = opts.gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    // A Pod that runs somewhere must be stopped by its node first: mark it and let the agent finish.
    if (!pod.spec.nodeName || isTerminal(pod) || grace <= 0) return false;
    const deadline = new Date(Date.now() + grace * 1000);
    const current = old.metadata.deletionTimestamp ? Date.parse(old.metadata.deletionTimestamp) : Infinity;
    if (deadline.getTime() < current) {
      next.metadata.deletionTimestamp = rfc3339(deadline);
      next.metadata.deletionGracePeriodSeconds = grace;
    }
    return true;
  },

  createSubresource: {
    binding: (ctx, namespace, name, body) => bind(ctx, namespace, name, body as Binding),
    eviction: (ctx, namespace, name, body) => evict(ctx, namespace, name, body),
  },
};
