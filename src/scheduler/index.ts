// The scheduler's public surface: pure decisions over a cluster snapshot, and the loop that binds Pods.

import type { Component } from '../server/component.js';
import { Scheduler, type SchedulerOptions } from './loop.js';

export * from './schedule.js';
export { ClusterSnapshot, podFacts, controllerUid, type NodeState, type PodFacts } from './snapshot.js';
export * from './resources.js';
export { toleratesTaint, tolerationsTolerate, schedulingTaints, findUntoleratedTaint, nodeReadyStatus } from './taints.js';
export { nodeAffinityMatcher } from './node-affinity.js';
export { podHostPorts } from './host-ports.js';
export { Scheduler, type SchedulerOptions } from './loop.js';

export function createScheduler(opts: SchedulerOptions = {}): Component {
  return new Scheduler(opts);
}
