// The scale subresource of workloads (autoscaling/v1 Scale): `kubectl scale` and autoscalers read and
// write spec.replicas through it; status.selector is the label selector as a string.

import type { KObject, Scale } from '../../api/types.js';
import { labelSelectorToString } from '../../api/selectors.js';
import { clone } from '../../util/equal.js';
import type { RegistryStrategy } from '../strategy.js';

export function toScale(obj: KObject): Scale {
  const spec = obj.spec as { replicas?: number; selector?: Parameters<typeof labelSelectorToString>[0] };
  const status = (obj.status ?? {}) as { replicas?: number };
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 1 },
    status: { replicas: status.replicas ?? 0, selector: spec.selector ? labelSelectorToString(spec.selector) : '' },
  };
}

export const replicasScale: NonNullable<RegistryStrategy['scale']> = {
  toScale,
  withReplicas(obj, replicas) {
    const next = clone(obj) as KObject & { spec: { replicas?: number } };
    next.spec.replicas = replicas;
    return next;
  },
};

/** Deployments and ReplicaSets: spec.replicas behind the scale subresource. */
export const scalableStrategy: RegistryStrategy = { scale: replicasScale };
