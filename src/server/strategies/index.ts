// The strategy of each kind (see ../strategy.ts); kinds not listed behave as the default.

import { R, type ResourceInfo } from '../../api/resources.js';
import type { RegistryStrategy } from '../strategy.js';
import { namespaceStrategy } from './namespace.js';
import { podStrategy } from './pod.js';
import { scalableStrategy } from './scale.js';
import { eventStrategy, nodeStrategy } from './simple.js';
import { claimStrategy, jobStrategy, volumeStrategy } from './workloads.js';
import { crdStrategy } from './crd.js';
import { hpaV1Strategy, networkPolicyStrategy, priorityClassStrategy } from './policy.js';

export { SYSTEM_NAMESPACES } from './namespace.js';

const DEFAULT_STRATEGY: RegistryStrategy = {};

const STRATEGIES = new Map<ResourceInfo, RegistryStrategy>([
  [R.pods, podStrategy],
  [R.namespaces, namespaceStrategy],
  [R.nodes, nodeStrategy],
  [R.events, eventStrategy],
  [R.deployments, scalableStrategy],
  [R.replicasets, scalableStrategy],
  [R.statefulsets, scalableStrategy],
  [R.jobs, jobStrategy],
  [R.persistentvolumeclaims, claimStrategy],
  [R.persistentvolumes, volumeStrategy],
  [R.customresourcedefinitions, crdStrategy],
  [R.networkpolicies, networkPolicyStrategy],
  [R.priorityclasses, priorityClassStrategy],
  [R.horizontalpodautoscalersV1, hpaV1Strategy],
]);

export function strategyFor(res: ResourceInfo): RegistryStrategy {
  return STRATEGIES.get(res) ?? DEFAULT_STRATEGY;
}
