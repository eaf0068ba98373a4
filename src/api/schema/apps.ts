// apps/v1 Deployment and ReplicaSet.

import { APPS, bool, CORE, enumOf, int, int64, intOrString, keyedList, META, obj, ref, root, str, time, type Schema } from './builders.js';

function conditionSchema(extra: Record<string, Schema> = {}): Schema {
  return obj(
    { type: str(), status: str(), lastTransitionTime: time(), reason: str(), message: str(), ...extra },
    { required: ['type', 'status'] },
  );
}

export function appsSchemas(): Record<string, Schema> {
  const selector = ref(`${META}LabelSelector`, 'Label selector for pods; must match the pod template labels. Immutable.');
  const template = ref(`${CORE}PodTemplateSpec`, 'Template describes the pods that will be created.');
  return {
    [`${APPS}Deployment`]: root(
      { group: 'apps', version: 'v1', kind: 'Deployment' },
      'Deployment enables declarative updates for Pods and ReplicaSets.',
      {
        spec: ref(`${APPS}DeploymentSpec`, 'Specification of the desired behavior of the Deployment.'),
        status: ref(`${APPS}DeploymentStatus`, 'Most recently observed status of the Deployment.'),
      },
    ),
    [`${APPS}DeploymentSpec`]: obj(
      {
        replicas: int('Number of desired pods; defaults to 1.'),
        selector,
        template,
        strategy: ref(`${APPS}DeploymentStrategy`, 'The deployment strategy used to replace existing pods with new ones.'),
        minReadySeconds: int('Minimum seconds a new pod must be ready, without any container crashing, to be considered available.'),
        revisionHistoryLimit: int('The number of old ReplicaSets to retain to allow rollback; defaults to 10.'),
        paused: bool('Indicates that the deployment is paused.'),
        progressDeadlineSeconds: int('Maximum seconds for a deployment to make progress before it is considered failed; defaults to 600.'),
      },
      { required: ['selector', 'template'] },
    ),
    [`${APPS}DeploymentStrategy`]: obj({
      type: enumOf(['Recreate', 'RollingUpdate'], 'Type of deployment; defaults to RollingUpdate.'),
      rollingUpdate: ref(`${APPS}RollingUpdateDeployment`, 'Rolling update config parameters; present only if type is RollingUpdate.'),
    }),
    [`${APPS}RollingUpdateDeployment`]: obj({
      maxUnavailable: intOrString('Maximum number (or percentage) of pods that can be unavailable during the update.'),
      maxSurge: intOrString('Maximum number (or percentage) of pods that can be scheduled above the desired number.'),
    }),
    [`${APPS}DeploymentStatus`]: obj({
      observedGeneration: int64(),
      replicas: int(),
      updatedReplicas: int(),
      readyReplicas: int(),
      availableReplicas: int(),
      unavailableReplicas: int(),
      terminatingReplicas: int(),
      conditions: keyedList(ref(`${APPS}DeploymentCondition`), 'type'),
      collisionCount: int(),
    }),
    [`${APPS}DeploymentCondition`]: conditionSchema({ lastUpdateTime: time() }),

    [`${APPS}ReplicaSet`]: root(
      { group: 'apps', version: 'v1', kind: 'ReplicaSet' },
      'ReplicaSet ensures that a specified number of pod replicas are running at any given time.',
      {
        spec: ref(`${APPS}ReplicaSetSpec`, 'Spec defines the specification of the desired behavior of the ReplicaSet.'),
        status: ref(`${APPS}ReplicaSetStatus`, 'Status is the most recently observed status of the ReplicaSet.'),
      },
    ),
    [`${APPS}ReplicaSetSpec`]: obj(
      {
        replicas: int('Number of desired pods; defaults to 1.'),
        minReadySeconds: int('Minimum seconds a new pod must be ready to be considered available.'),
        selector,
        template,
      },
      { required: ['selector'] },
    ),
    [`${APPS}ReplicaSetStatus`]: obj(
      {
        replicas: int(),
        fullyLabeledReplicas: int(),
        readyReplicas: int(),
        availableReplicas: int(),
        terminatingReplicas: int(),
        observedGeneration: int64(),
        conditions: keyedList(ref(`${APPS}ReplicaSetCondition`), 'type'),
      },
      { required: ['replicas'] },
    ),
    [`${APPS}ReplicaSetCondition`]: conditionSchema(),
  };
}
