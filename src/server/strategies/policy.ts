// NetworkPolicies (stored and listed, not enforced: every write says so, and so does the object's
// annotation `kubectl describe` shows), PriorityClasses (the system ones may not be deleted), and
// HorizontalPodAutoscalers served as autoscaling/v1 while stored as autoscaling/v2.

import type { KObject } from '../../api/types.js';
import { R } from '../../api/resources.js';
import { errors } from '../../api/errors.js';
import { SYSTEM_PRIORITY_CLASSES } from '../../api/validation/policy.js';
import { hpaFromV1, hpaToV1 } from '../../api/hpa-convert.js';
import { applyDefaults } from '../../api/validation/index.js';
import type { RegistryStrategy } from '../strategy.js';

export const NETWORK_POLICY_ANNOTATION = 'kubelite.io/enforcement';
export const NETWORK_POLICY_NOTICE = 'not enforced: kubelite stores NetworkPolicies but has no network policy data plane, so traffic to and from the selected pods is not restricted';

function annotate(obj: KObject): void {
  obj.metadata.annotations = { ...(obj.metadata.annotations ?? {}), [NETWORK_POLICY_ANNOTATION]: NETWORK_POLICY_NOTICE };
}

export const networkPolicyStrategy: RegistryStrategy = {
  prepareForCreate: annotate,
  prepareForUpdate: (next) => annotate(next),
  warnings: () => [`NetworkPolicy is ${NETWORK_POLICY_NOTICE}`],
};

export const priorityClassStrategy: RegistryStrategy = {
  checkDelete(obj) {
    const name = obj.metadata.name!;
    if (SYSTEM_PRIORITY_CLASSES[name] !== undefined) throw errors.forbidden(R.priorityclasses, name, `the ${name} priority class is reserved for system use and may not be deleted`);
  },
};

export const hpaV1Strategy: RegistryStrategy = {
  conversion: {
    toStorage(obj) {
      const v2 = hpaFromV1(obj);
      // What autoscaling/v2 defaults (a CPU target of 80% when none is given) holds for v1 writes too.
      applyDefaults(R.horizontalpodautoscalers, v2);
      return v2;
    },
    fromStorage: hpaToV1,
  },
};
