// The scheduler's public surface: pure decisions over a cluster snapshot (the loop lives elsewhere).

export * from './schedule.js';
export { ClusterSnapshot, podFacts, controllerUid, type NodeState, type PodFacts } from './snapshot.js';
export * from './resources.js';
export { toleratesTaint, tolerationsTolerate, schedulingTaints, findUntoleratedTaint, nodeReadyStatus } from './taints.js';
export { nodeAffinityMatcher } from './node-affinity.js';
export { podHostPorts } from './host-ports.js';
