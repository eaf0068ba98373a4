// Pure decisions of the controllers (ReplicaSet, Deployment, garbage collector), for the informer-driven
// loops to call.

export * from './pod-status.js';
export * from './adopt.js';
export * from './replicaset.js';
export * from './expectations.js';
export * from './deployment.js';
export * from './deployment-util.js';
export * from './rollout-history.js';
export * from './gc.js';
export { statusEqual } from './status-equal.js';
export { isoSeconds } from './time.js';
export * from './job.js';
export * from './cronjob.js';
export * from './history.js';
export * from './statefulset.js';
export * from './daemonset.js';
export * from './volume-binding.js';
export * from './crd.js';
export * from './disruption.js';
export * from './hpa.js';
export * from './hpa-replicas.js';
