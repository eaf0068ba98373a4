// Table columns of the workload and storage kinds, as Kubernetes' printers print them
// (pkg/printers/internalversion: printStatefulSet, printDaemonSet, printJob, printCronJob,
// printPersistentVolumeClaim, printPersistentVolume, printStorageClass, printControllerRevision).

import type { ColumnDefinition, Printer } from './printers.js';
import type { ControllerRevision, CronJob, DaemonSet, Job, KObject, LabelSelector, PersistentVolume, PersistentVolumeClaim, PodTemplateSpec, StatefulSet, StorageClass } from './types.js';
import { labelSelectorToString } from './selectors.js';
import { humanAge, humanDuration } from '../util/time.js';
import { controllerRefOf } from './owner.js';
import { DEFAULT_CLASS_ANNOTATION, BETA_STORAGE_CLASS_ANNOTATION } from './well-known.js';

function col(name: string, type: ColumnDefinition['type'] = 'string', priority = 0, format = '', description = ''): ColumnDefinition {
  return { name, type, format, description, priority };
}
const NAME = col('Name', 'string', 0, 'name', 'Name must be unique within a namespace.');
const AGE = col('Age', 'string', 0, '', 'CreationTimestamp is a timestamp representing the server time when this object was created.');
const CONTAINERS = col('Containers', 'string', 1, '', 'Names of each container in the template.');
const IMAGES = col('Images', 'string', 1, '', 'Images referenced by each container in the template.');
const SELECTOR = col('Selector', 'string', 1, '', 'A label query over pods.');
const age = (o: KObject, now: number) => humanAge(o.metadata.creationTimestamp, now);

function containers(t: PodTemplateSpec | undefined): [string, string] {
  const cs = t?.spec?.containers ?? [];
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image).join(',')];
}

function selector(sel: LabelSelector | undefined): string {
  return sel ? labelSelectorToString(sel) || '<none>' : '<none>';
}

const statefulsets: Printer = {
  columns: [NAME, col('Ready', 'string', 0, '', 'Number of the pod with ready state'), AGE, CONTAINERS, IMAGES],
  cells(o, now) {
    const s = o as StatefulSet;
    return [s.metadata.name!, `${s.status?.readyReplicas ?? 0}/${s.spec.replicas ?? 1}`, age(s, now), ...containers(s.spec.template)];
  },
};

const daemonsets: Printer = {
  columns: [
    NAME,
    col('Desired', 'integer', 0, '', 'The total number of nodes that should be running the daemon pod.'),
    col('Current', 'integer', 0, '', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.'),
    col('Ready', 'integer', 0, '', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.'),
    col('Up-to-date', 'integer', 0, '', 'The total number of nodes that are running updated daemon pod.'),
    col('Available', 'integer', 0, '', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.'),
    col('Node Selector', 'string', 0, '', 'NodeSelector is a selector which must be true for the pod to fit on a node.'),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
  ],
  cells(o, now) {
    const d = o as DaemonSet;
    const st = d.status;
    const ns = Object.entries(d.spec.template?.spec?.nodeSelector ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
    return [d.metadata.name!, st?.desiredNumberScheduled ?? 0, st?.currentNumberScheduled ?? 0, st?.numberReady ?? 0, st?.updatedNumberScheduled ?? 0, st?.numberAvailable ?? 0, ns || '<none>', age(d, now), ...containers(d.spec.template), selector(d.spec.selector)];
  },
};

function hasCondition(job: Job, type: string): boolean {
  return (job.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

/** The STATUS column of `kubectl get jobs` (Kubernetes 1.30+). */
export function jobStatusWord(job: Job): string {
  if (hasCondition(job, 'Complete')) return 'Complete';
  if (hasCondition(job, 'Failed')) return 'Failed';
  if (job.metadata.deletionTimestamp) return 'Terminating';
  if (hasCondition(job, 'Suspended')) return 'Suspended';
  if (hasCondition(job, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

const jobs: Printer = {
  columns: [
    NAME,
    col('Status', 'string', 0, '', 'Status of the job.'),
    col('Completions', 'string', 0, '', 'The number of pods which reached phase Succeeded.'),
    col('Duration', 'string', 0, '', 'Time required to complete the job.'),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
  ],
  cells(o, now) {
    const j = o as Job;
    const succeeded = j.status?.succeeded ?? 0;
    let completions: string;
    if (j.spec.completions !== undefined) completions = `${succeeded}/${j.spec.completions}`;
    else completions = (j.spec.parallelism ?? 0) > 1 ? `${succeeded}/1 of ${j.spec.parallelism}` : `${succeeded}/1`;
    const start = j.status?.startTime ? Date.parse(j.status.startTime) : undefined;
    const end = j.status?.completionTime ? Date.parse(j.status.completionTime) : now;
    const duration = start === undefined ? '' : humanDuration(Math.max(0, end - start));
    return [j.metadata.name!, jobStatusWord(j), completions, duration, age(j, now), ...containers(j.spec.template), selector(j.spec.selector)];
  },
};

const cronjobs: Printer = {
  columns: [
    NAME,
    col('Schedule', 'string', 0, '', 'The schedule in Cron format.'),
    col('Timezone', 'string', 0, '', 'The time zone name for the given schedule.'),
    col('Suspend', 'boolean', 0, '', 'This flag tells the controller to suspend subsequent executions.'),
    col('Active', 'integer', 0, '', 'A list of pointers to currently running jobs.'),
    col('Last Schedule', 'string', 0, '', 'Information when was the last time the job was successfully scheduled.'),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
  ],
  cells(o, now) {
    const c = o as CronJob;
    const last = c.status?.lastScheduleTime ? humanAge(c.status.lastScheduleTime, now) : '<none>';
    const jt = c.spec.jobTemplate?.spec;
    return [c.metadata.name!, c.spec.schedule, c.spec.timeZone ?? '<none>', c.spec.suspend ? 'True' : 'False', c.status?.active?.length ?? 0, last, age(c, now), ...containers(jt?.template), selector(jt?.selector)];
  },
};

const MODE_SHORT: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };

export function accessModesString(modes: readonly string[] | undefined): string {
  return (modes ?? []).map((m) => MODE_SHORT[m] ?? m).join(',');
}

/** The class a claim or volume names: spec.storageClassName, else the beta annotation. */
export function storageClassOf(o: PersistentVolumeClaim | PersistentVolume): string {
  return o.spec.storageClassName ?? o.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? '';
}

const persistentvolumeclaims: Printer = {
  columns: [
    NAME,
    col('Status', 'string', 0, '', 'phase represents the current phase of PersistentVolumeClaim.'),
    col('Volume', 'string', 0, '', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
    col('Capacity', 'string', 0, '', 'capacity represents the actual resources of the underlying volume.'),
    col('Access Modes', 'string', 0, '', 'accessModes contains the actual access modes the volume backing the PVC has.'),
    col('StorageClass', 'string', 0, '', 'StorageClass of the pvc'),
    col('VolumeAttributesClass', 'string', 0, '', 'VolumeAttributesClass of the pvc'),
    AGE,
    col('VolumeMode', 'string', 1, '', 'volumeMode defines what type of volume is required by the claim.'),
  ],
  cells(o, now) {
    const c = o as PersistentVolumeClaim;
    const phase = c.metadata.deletionTimestamp ? 'Terminating' : (c.status?.phase ?? 'Pending');
    const bound = c.spec.volumeName ? c.status?.capacity?.storage ?? '' : '';
    const modes = c.spec.volumeName ? accessModesString(c.status?.accessModes) : '';
    return [c.metadata.name!, phase, c.spec.volumeName ?? '', bound, modes, storageClassOf(c) || '<unset>', '<unset>', age(c, now), c.spec.volumeMode ?? 'Filesystem'];
  },
};

const persistentvolumes: Printer = {
  columns: [
    NAME,
    col('Capacity', 'string', 0, '', 'capacity is the description of the persistent volume\'s resources and capacity.'),
    col('Access Modes', 'string', 0, '', 'accessModes contains all ways the volume can be mounted.'),
    col('Reclaim Policy', 'string', 0, '', 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.'),
    col('Status', 'string', 0, '', 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
    col('Claim', 'string', 0, '', 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
    col('StorageClass', 'string', 0, '', 'StorageClass of the pv'),
    col('VolumeAttributesClass', 'string', 0, '', 'VolumeAttributesClass of the pv'),
    col('Reason', 'string', 0, '', 'reason is a brief CamelCase string that describes any failure.'),
    AGE,
    col('VolumeMode', 'string', 1, '', 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.'),
  ],
  cells(o, now) {
    const v = o as PersistentVolume;
    const ref = v.spec.claimRef;
    const claim = ref ? `${ref.namespace ?? ''}/${ref.name ?? ''}` : '';
    const phase = v.metadata.deletionTimestamp ? 'Terminating' : (v.status?.phase ?? 'Pending');
    return [v.metadata.name!, v.spec.capacity?.storage ?? '', accessModesString(v.spec.accessModes), v.spec.persistentVolumeReclaimPolicy ?? 'Retain', phase, claim, storageClassOf(v), '<unset>', v.status?.reason ?? '', age(v, now), v.spec.volumeMode ?? 'Filesystem'];
  },
};

const storageclasses: Printer = {
  columns: [
    NAME,
    col('Provisioner', 'string', 0, '', 'provisioner indicates the type of the provisioner.'),
    col('ReclaimPolicy', 'string', 0, '', 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.'),
    col('VolumeBindingMode', 'string', 0, '', 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.'),
    col('AllowVolumeExpansion', 'string', 0, '', 'allowVolumeExpansion shows whether the storage class allow volume expand.'),
    AGE,
  ],
  cells(o, now) {
    const sc = o as StorageClass;
    const isDefault = sc.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true';
    return [isDefault ? `${sc.metadata.name} (default)` : sc.metadata.name!, sc.provisioner, sc.reclaimPolicy ?? 'Delete', sc.volumeBindingMode ?? 'Immediate', String(sc.allowVolumeExpansion ?? false), age(sc, now)];
  },
};

const controllerrevisions: Printer = {
  columns: [NAME, col('Controller', 'string', 0, '', 'Controller of the object'), col('Revision', 'string', 0, '', 'Revision indicates the revision of the state represented by Data.'), AGE],
  cells(o, now) {
    const cr = o as ControllerRevision;
    const ref = controllerRefOf(cr);
    const owner = ref ? `${ref.kind.toLowerCase()}.${ref.apiVersion.split('/').length > 1 ? ref.apiVersion.split('/')[0] : ''}/${ref.name}`.replace('./', '/') : '<none>';
    return [cr.metadata.name!, owner, cr.revision, age(cr, now)];
  },
};

export const WORKLOAD_PRINTERS: Record<string, Printer> = { statefulsets, daemonsets, jobs, cronjobs, persistentvolumeclaims, persistentvolumes, storageclasses, controllerrevisions };
