// apps/v1 StatefulSet, DaemonSet and ControllerRevision.

import { APPS, CORE, enumOf, freeForm, int, int64, intOrString, keyedList, arr, META, obj, ref, root, str, time, type Schema } from './builders.js';

function conditionSchema(): Schema {
  return obj({ type: str(), status: str(), lastTransitionTime: time(), reason: str(), message: str() }, { required: ['type', 'status'] });
}

export function workloadSchemas(): Record<string, Schema> {
  const selector = ref(`${META}LabelSelector`, 'A label query over pods that should match the replica count. It must match the pod template\'s labels.');
  const template = ref(`${CORE}PodTemplateSpec`, 'The object that describes the pod that will be created.');
  return {
    [`${APPS}StatefulSet`]: root(
      { group: 'apps', version: 'v1', kind: 'StatefulSet' },
      'StatefulSet represents a set of pods with consistent identities: a stable network name (through the headless Service in serviceName) and stable storage (one claim per ordinal from volumeClaimTemplates).',
      {
        spec: ref(`${APPS}StatefulSetSpec`, 'Spec defines the desired identities of pods in this set.'),
        status: ref(`${APPS}StatefulSetStatus`, 'Status is the current status of Pods in this StatefulSet.'),
      },
    ),
    [`${APPS}StatefulSetSpec`]: obj(
      {
        replicas: int('replicas is the desired number of replicas of the given Template; defaults to 1.'),
        selector,
        template,
        volumeClaimTemplates: arr(ref(`${CORE}PersistentVolumeClaim`), { type: 'atomic', description: 'volumeClaimTemplates is a list of claims that pods are allowed to reference; each pod gets one claim per template, named <template>-<statefulset>-<ordinal>.' }),
        serviceName: str('serviceName is the name of the (headless) Service that governs this StatefulSet; pods get DNS names <pod>.<serviceName>.<namespace>.svc.<cluster domain>.'),
        podManagementPolicy: enumOf(['OrderedReady', 'Parallel'], 'podManagementPolicy controls how pods are created during initial scale up, when replacing pods, and when scaling down; defaults to OrderedReady.'),
        updateStrategy: ref(`${APPS}StatefulSetUpdateStrategy`, 'updateStrategy indicates the StatefulSetUpdateStrategy that will be employed to update Pods when a revision is made to Template.'),
        revisionHistoryLimit: int('revisionHistoryLimit is the maximum number of revisions that will be maintained in the StatefulSet\'s revision history; defaults to 10.'),
        minReadySeconds: int('Minimum number of seconds for which a newly created pod should be ready without any of its container crashing for it to be considered available.'),
        persistentVolumeClaimRetentionPolicy: ref(`${APPS}StatefulSetPersistentVolumeClaimRetentionPolicy`, 'persistentVolumeClaimRetentionPolicy describes the lifecycle of persistent volume claims created from volumeClaimTemplates.'),
        ordinals: ref(`${APPS}StatefulSetOrdinals`, 'ordinals controls the numbering of replica indices in a StatefulSet.'),
      },
      { required: ['selector', 'template'] },
    ),
    [`${APPS}StatefulSetUpdateStrategy`]: obj({
      type: enumOf(['OnDelete', 'RollingUpdate'], 'Type indicates the type of the StatefulSetUpdateStrategy; defaults to RollingUpdate.'),
      rollingUpdate: ref(`${APPS}RollingUpdateStatefulSetStrategy`, 'RollingUpdate is used to communicate parameters when Type is RollingUpdateStatefulSetStrategyType.'),
    }),
    [`${APPS}RollingUpdateStatefulSetStrategy`]: obj({
      partition: int('Partition indicates the ordinal at which the StatefulSet should be partitioned for updates: pods with a lower ordinal keep the old revision. Defaults to 0.'),
      maxUnavailable: intOrString('The maximum number of pods that can be unavailable during the update.'),
    }),
    [`${APPS}StatefulSetPersistentVolumeClaimRetentionPolicy`]: obj({
      whenDeleted: enumOf(['Retain', 'Delete'], 'WhenDeleted specifies what happens to PVCs created from StatefulSet VolumeClaimTemplates when the StatefulSet is deleted; defaults to Retain.'),
      whenScaled: enumOf(['Retain', 'Delete'], 'WhenScaled specifies what happens to PVCs created from StatefulSet VolumeClaimTemplates when the StatefulSet is scaled down; defaults to Retain.'),
    }),
    [`${APPS}StatefulSetOrdinals`]: obj({ start: int('start is the number representing the first replica\'s index; defaults to 0.') }),
    [`${APPS}StatefulSetStatus`]: obj(
      {
        observedGeneration: int64(),
        replicas: int(),
        readyReplicas: int(),
        currentReplicas: int(),
        updatedReplicas: int(),
        currentRevision: str(),
        updateRevision: str(),
        collisionCount: int(),
        conditions: keyedList(ref(`${APPS}StatefulSetCondition`), 'type'),
        availableReplicas: int(),
      },
      { required: ['replicas'] },
    ),
    [`${APPS}StatefulSetCondition`]: conditionSchema(),

    [`${APPS}DaemonSet`]: root(
      { group: 'apps', version: 'v1', kind: 'DaemonSet' },
      'DaemonSet represents the configuration of a daemon set: one pod on every eligible node.',
      {
        spec: ref(`${APPS}DaemonSetSpec`, 'The desired behavior of this daemon set.'),
        status: ref(`${APPS}DaemonSetStatus`, 'The current status of this daemon set.'),
      },
    ),
    [`${APPS}DaemonSetSpec`]: obj(
      {
        selector,
        template,
        updateStrategy: ref(`${APPS}DaemonSetUpdateStrategy`, 'An update strategy to replace existing DaemonSet pods with new pods.'),
        minReadySeconds: int('The minimum number of seconds for which a newly created DaemonSet pod should be ready without any of its container crashing, for it to be considered available.'),
        revisionHistoryLimit: int('The number of old history to retain to allow rollback; defaults to 10.'),
      },
      { required: ['selector', 'template'] },
    ),
    [`${APPS}DaemonSetUpdateStrategy`]: obj({
      type: enumOf(['OnDelete', 'RollingUpdate'], 'Type of daemon set update; defaults to RollingUpdate.'),
      rollingUpdate: ref(`${APPS}RollingUpdateDaemonSet`, 'Rolling update config params. Present only if type = "RollingUpdate".'),
    }),
    [`${APPS}RollingUpdateDaemonSet`]: obj({
      maxUnavailable: intOrString('The maximum number of DaemonSet pods that can be unavailable during the update; defaults to 1.'),
      maxSurge: intOrString('The maximum number of nodes with an existing available DaemonSet pod that can have an updated DaemonSet pod during an update; defaults to 0.'),
    }),
    [`${APPS}DaemonSetStatus`]: obj(
      {
        currentNumberScheduled: int(),
        numberMisscheduled: int(),
        desiredNumberScheduled: int(),
        numberReady: int(),
        observedGeneration: int64(),
        updatedNumberScheduled: int(),
        numberAvailable: int(),
        numberUnavailable: int(),
        collisionCount: int(),
        conditions: keyedList(ref(`${APPS}DaemonSetCondition`), 'type'),
      },
      { required: ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady'] },
    ),
    [`${APPS}DaemonSetCondition`]: conditionSchema(),

    [`${APPS}ControllerRevision`]: root(
      { group: 'apps', version: 'v1', kind: 'ControllerRevision' },
      'ControllerRevision implements an immutable snapshot of state data: a StatefulSet or DaemonSet pod template, as the patch that restores it.',
      {
        data: freeForm('Data is the serialized representation of the state.'),
        revision: int64('Revision indicates the revision of the state represented by Data.'),
      },
      ['revision'],
    ),
  };
}
