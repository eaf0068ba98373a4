// Defaulting of the workload and storage kinds (pkg/apis/apps/v1, batch/v1, core/v1, storage/v1
// defaults.go), called from applyDefaults.

import { defaultPodSpec } from './defaults.js';
import { isObj, listAt, type Obj } from './field.js';

function set<T>(o: Obj, key: string, value: T): void {
  if (o[key] === undefined) o[key] = value;
}

function objIn(o: Obj, key: string): Obj | undefined {
  return isObj(o[key]) ? (o[key] as Obj) : undefined;
}

function templateSpec(spec: Obj): void {
  const ps = objIn(objIn(spec, 'template') ?? {}, 'spec');
  if (ps) defaultPodSpec(ps);
}

function defaultClaimSpec(spec: Obj): void {
  set(spec, 'volumeMode', 'Filesystem');
}

function defaultStatefulSet(spec: Obj): void {
  set(spec, 'replicas', 1);
  set(spec, 'podManagementPolicy', 'OrderedReady');
  const us = objIn(spec, 'updateStrategy') ?? {};
  set(us, 'type', 'RollingUpdate');
  if (us.type === 'RollingUpdate') {
    const ru = objIn(us, 'rollingUpdate') ?? {};
    set(ru, 'partition', 0);
    us.rollingUpdate = ru;
  }
  spec.updateStrategy = us;
  set(spec, 'revisionHistoryLimit', 10);
  const policy = objIn(spec, 'persistentVolumeClaimRetentionPolicy') ?? {};
  set(policy, 'whenDeleted', 'Retain');
  set(policy, 'whenScaled', 'Retain');
  spec.persistentVolumeClaimRetentionPolicy = policy;
  for (const t of listAt(spec.volumeClaimTemplates)) {
    if (!isObj(t)) continue;
    const ts = objIn(t, 'spec');
    if (ts) defaultClaimSpec(ts);
    // A template's status is meaningless; Kubernetes stores it as phase Pending.
    set(t, 'status', { phase: 'Pending' });
  }
  templateSpec(spec);
}

function defaultDaemonSet(spec: Obj): void {
  const us = objIn(spec, 'updateStrategy') ?? {};
  set(us, 'type', 'RollingUpdate');
  if (us.type === 'RollingUpdate') {
    const ru = objIn(us, 'rollingUpdate') ?? {};
    set(ru, 'maxUnavailable', 1);
    set(ru, 'maxSurge', 0);
    us.rollingUpdate = ru;
  }
  spec.updateStrategy = us;
  set(spec, 'revisionHistoryLimit', 10);
  templateSpec(spec);
}

/** JobSpec defaults; completions and parallelism default together, as in batch/v1 SetDefaults_Job. */
export function defaultJobSpec(spec: Obj): void {
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  set(spec, 'parallelism', 1);
  set(spec, 'backoffLimit', spec.backoffLimitPerIndex !== undefined ? 2147483647 : 6);
  set(spec, 'completionMode', 'NonIndexed');
  set(spec, 'suspend', false);
  if (spec.podFailurePolicy === undefined) set(spec, 'podReplacementPolicy', 'TerminatingOrFailed');
  else set(spec, 'podReplacementPolicy', 'Failed');
  templateSpec(spec);
}

function defaultCronJob(spec: Obj): void {
  set(spec, 'concurrencyPolicy', 'Allow');
  set(spec, 'suspend', false);
  set(spec, 'successfulJobsHistoryLimit', 3);
  set(spec, 'failedJobsHistoryLimit', 1);
  const jts = objIn(objIn(spec, 'jobTemplate') ?? {}, 'spec');
  if (jts) defaultJobSpec(jts);
}

/** Kubernetes' defaults for the kinds of this file, in place. */
export function defaultWorkloadKind(kind: string, obj: Obj): void {
  const spec = objIn(obj, 'spec');
  switch (kind) {
    case 'StatefulSet':
      if (spec) defaultStatefulSet(spec);
      break;
    case 'DaemonSet':
      if (spec) defaultDaemonSet(spec);
      break;
    case 'Job':
      if (spec) defaultJobSpec(spec);
      break;
    case 'CronJob':
      if (spec) defaultCronJob(spec);
      break;
    case 'PersistentVolumeClaim':
      if (spec) defaultClaimSpec(spec);
      break;
    case 'PersistentVolume':
      if (spec) {
        set(spec, 'persistentVolumeReclaimPolicy', 'Retain');
        set(spec, 'volumeMode', 'Filesystem');
      }
      break;
    case 'StorageClass':
      set(obj, 'reclaimPolicy', 'Delete');
      set(obj, 'volumeBindingMode', 'Immediate');
      break;
  }
}
