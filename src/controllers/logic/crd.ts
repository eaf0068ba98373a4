// The status a CustomResourceDefinition should have (apiextensions-apiserver's naming and establishing
// controllers, in one pure step): its names accepted unless another definition of the group holds
// them (NamesAccepted False with the conflict's reason), Established once accepted, its storage
// version recorded in storedVersions, and Terminating while its objects are being deleted.

import type { Condition, CustomResourceDefinition, CustomResourceDefinitionStatus } from '../../api/types.js';
import { RESOURCES } from '../../api/resources.js';
import { nameConflicts } from '../../api/crd/conflicts.js';
import { servedNames, storageVersion } from '../../api/crd/resources.js';

const REASON_OF_FIELD: Record<string, string> = {
  'spec.names.plural': 'PluralConflict',
  'spec.names.singular': 'SingularConflict',
  'spec.names.kind': 'KindConflict',
  'spec.names.listKind': 'ListKindConflict',
};

function setCondition(conditions: Condition[], next: Omit<Condition, 'lastTransitionTime'>, now: string): Condition[] {
  const prev = conditions.find((c) => c.type === next.type);
  const merged: Condition = { ...next, lastTransitionTime: prev && prev.status === next.status ? (prev.lastTransitionTime ?? now) : now };
  return prev ? conditions.map((c) => (c.type === next.type ? merged : c)) : [...conditions, merged];
}

/** The definition's next status, given the other definitions; `now` as RFC 3339. */
export function crdStatus(crd: CustomResourceDefinition, others: readonly CustomResourceDefinition[], now: string, terminating?: { remaining: number }): CustomResourceDefinitionStatus {
  const status = crd.status ?? {};
  let conditions = [...(status.conditions ?? [])];
  // Only other definitions can hold names now: built-in conflicts were refused at admission.
  const builtins = RESOURCES.filter((r) => r.group === crd.spec.group);
  const conflicts = nameConflicts(crd, builtins, others.filter((o) => o.metadata.name !== crd.metadata.name && isAccepted(o)));
  let acceptedNames = status.acceptedNames;
  if (conflicts.length === 0) {
    acceptedNames = servedNames(crd);
    conditions = setCondition(conditions, { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' }, now);
    conditions = setCondition(conditions, { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' }, now);
  } else {
    const first = conflicts[0];
    const reason = REASON_OF_FIELD[first.field ?? ''] ?? 'ShortNamesConflict';
    conditions = setCondition(conditions, { type: 'NamesAccepted', status: 'False', reason, message: conflicts.map((c) => `${c.field}: ${c.message}`).join('; ') }, now);
    // Names accepted earlier keep being served (as Kubernetes does); a definition never accepted is not.
    if (!conditions.some((c) => c.type === 'Established' && c.status === 'True')) {
      conditions = setCondition(conditions, { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' }, now);
    }
  }
  if (terminating) {
    conditions = setCondition(
      conditions,
      terminating.remaining > 0
        ? { type: 'Terminating', status: 'True', reason: 'InstanceDeletionInProgress', message: `CustomResource deletion is in progress: ${terminating.remaining} remaining` }
        : { type: 'Terminating', status: 'True', reason: 'InstanceDeletionCompleted', message: 'removed all instances' },
      now,
    );
  }
  const storage = storageVersion(crd);
  const storedVersions = [...(status.storedVersions ?? [])];
  if (storage && !storedVersions.includes(storage)) storedVersions.push(storage);
  return { conditions, acceptedNames: acceptedNames ?? { plural: '', kind: '' }, storedVersions };
}

function isAccepted(crd: CustomResourceDefinition): boolean {
  return (crd.status?.conditions ?? []).some((c) => c.type === 'NamesAccepted' && c.status === 'True');
}
