// Pod priority (kube-apiserver's Priority admission plugin): the system classes every cluster has,
// one global default at most, and each new Pod's spec.priority and spec.preemptionPolicy resolved from
// its priorityClassName (or the global default) — a Pod naming a class that does not exist, or giving a
// priority of its own that disagrees, is refused with Kubernetes' 403.

import type { KObject, Pod, PriorityClass } from '../api/types.js';
import { R } from '../api/resources.js';
import { errors, isStatusError } from '../api/errors.js';
import { SYSTEM_PRIORITY_CLASSES } from '../api/validation/policy.js';
import type { AdmissionHook } from './admission.js';
import type { Registry } from './registry.js';

const DESCRIPTIONS: Record<string, string> = {
  'system-node-critical': 'Used for system critical pods that must not be moved from their current node.',
  'system-cluster-critical': 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
};

/** Creates system-node-critical and system-cluster-critical if missing; idempotent. */
export async function bootstrapPriorityClasses(registry: Registry): Promise<void> {
  for (const [name, value] of Object.entries(SYSTEM_PRIORITY_CLASSES)) {
    if (await registry.store.get(R.priorityclasses, undefined, name)) continue;
    // Several servers sharing one store may race to create them: the loser's AlreadyExists is fine.
    await registry.create<PriorityClass>(R.priorityclasses, {
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: { name },
      value,
      description: DESCRIPTIONS[name],
      preemptionPolicy: 'PreemptLowerPriority',
    }).catch((err) => {
      if (!isStatusError(err, 'AlreadyExists')) throw err;
    });
  }
}

async function classes(registry: Registry): Promise<PriorityClass[]> {
  return (await registry.store.list(R.priorityclasses)).items as PriorityClass[];
}

function forbiddenPod(pod: Pod, why: string) {
  return errors.forbidden(R.pods, pod.metadata.name ?? pod.metadata.generateName ?? '', why);
}

export function priorityAdmission(registry: Registry): AdmissionHook[] {
  const pods: AdmissionHook = {
    resource: R.pods,
    async admit(ctx, obj) {
      if (ctx.op !== 'create') return;
      const pod = obj as Pod;
      const spec = pod.spec;
      if (!spec) return;
      let pc: PriorityClass | undefined;
      if (spec.priorityClassName) {
        pc = (await registry.store.get(R.priorityclasses, undefined, spec.priorityClassName)) as PriorityClass | undefined;
        if (!pc) throw forbiddenPod(pod, `no PriorityClass with name ${spec.priorityClassName} was found`);
      } else {
        // The oldest global default wins if more than one slipped in.
        pc = (await classes(registry)).filter((c) => c.globalDefault).sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''))[0];
      }
      const priority = pc?.value ?? 0;
      if (spec.priority !== undefined && spec.priority !== priority) {
        throw forbiddenPod(pod, `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`);
      }
      const policy = pc?.preemptionPolicy ?? 'PreemptLowerPriority';
      if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== policy) {
        throw forbiddenPod(pod, `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`);
      }
      spec.priority = priority;
      if (pc) {
        spec.priorityClassName = pc.metadata.name;
        spec.preemptionPolicy = policy;
      }
    },
  };
  const priorityClasses: AdmissionHook = {
    resource: R.priorityclasses,
    async admit(ctx, obj) {
      if (ctx.op === 'delete') return;
      const pc = obj as KObject as PriorityClass;
      if (!pc.globalDefault) return;
      const other = (await classes(registry)).find((c) => c.globalDefault && c.metadata.name !== pc.metadata.name);
      if (other) throw errors.forbidden(R.priorityclasses, pc.metadata.name ?? '', `PriorityClass ${other.metadata.name} is already marked as default. Only one default can exist`);
    },
  };
  return [pods, priorityClasses];
}
