// Well-known labels and annotations of the workload and storage kinds, with Kubernetes' own keys, so
// the controllers, the agent, the registry strategies and the printers agree on them.

/** Pods of StatefulSets and DaemonSets: the ControllerRevision their template came from. */
export const CONTROLLER_REVISION_HASH = 'controller-revision-hash';
export const STATEFULSET_POD_NAME = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX = 'apps.kubernetes.io/pod-index';
export const DAEMONSET_TEMPLATE_GENERATION = 'pod-template-generation';

export const JOB_CONTROLLER_UID = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME = 'batch.kubernetes.io/job-name';
export const LEGACY_JOB_CONTROLLER_UID = 'controller-uid';
export const LEGACY_JOB_NAME = 'job-name';
export const JOB_COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
export const JOB_COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const CRONJOB_SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
export const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';
export const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';
export const STORAGE_PROVISIONER_ANNOTATION = 'volume.kubernetes.io/storage-provisioner';
export const BETA_STORAGE_PROVISIONER_ANNOTATION = 'volume.beta.kubernetes.io/storage-provisioner';
export const PROVISIONED_BY_ANNOTATION = 'pv.kubernetes.io/provisioned-by';
export const BIND_COMPLETED_ANNOTATION = 'pv.kubernetes.io/bind-completed';
export const BOUND_BY_CONTROLLER_ANNOTATION = 'pv.kubernetes.io/bound-by-controller';
export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';

/** The StorageClass every kubelite server creates, as k3s ships its local-path class. */
export const DEFAULT_STORAGE_CLASS = 'local-path';
/** kubelite's own node-local provisioner: a directory per claim under the node's data dir. */
export const LOCAL_PATH_PROVISIONER = 'kubelite.io/local-path';
