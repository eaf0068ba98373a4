// What may not change on update for the workload and storage kinds (ValidateStatefulSetUpdate,
// ValidateJobUpdate, ValidatePersistentVolumeClaimUpdate, ValidateStorageClassUpdate, ...).

import { parseQuantity } from '../quantity.js';
import { type Causes, forbidden, invalid, isObj, type Obj, objAt, strAt } from './field.js';
import { semanticEqual } from './update.js';

const IMMUTABLE = 'field is immutable';

function immutable(obj: Obj, old: Obj, paths: string[]): Causes {
  const out: Causes = [];
  for (const path of paths) {
    const get = (o: Obj) => path.split('.').reduce<unknown>((cur, k) => (isObj(cur) ? cur[k] : undefined), o);
    if (!semanticEqual(get(obj), get(old))) out.push(invalid(path, get(obj) ?? null, IMMUTABLE));
  }
  return out;
}

const STS_MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds', 'revisionHistoryLimit'];

function statefulSetUpdate(obj: Obj, old: Obj): Causes {
  const spec = { ...objAt(obj.spec) };
  const oldSpec = { ...objAt(old.spec) };
  for (const f of STS_MUTABLE) {
    delete spec[f];
    delete oldSpec[f];
  }
  if (semanticEqual(spec, oldSpec)) return [];
  return [forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")];
}

function jobUpdate(obj: Obj, old: Obj): Causes {
  const out = immutable(obj, old, ['spec.selector', 'spec.completionMode', 'spec.podFailurePolicy', 'spec.manualSelector']);
  const spec = objAt(obj.spec);
  const oldSpec = objAt(old.spec);
  // Completions may change only together with parallelism in an Indexed Job (elastic Indexed Jobs).
  if (!semanticEqual(spec.completions, oldSpec.completions)) {
    if (!(strAt(spec.completionMode) === 'Indexed' && spec.completions === spec.parallelism)) out.push(invalid('spec.completions', spec.completions ?? null, IMMUTABLE));
  }
  // The template may change only while the Job is suspended and has never started.
  if (!semanticEqual(spec.template, oldSpec.template)) {
    const started = objAt(old.status).startTime !== undefined;
    if (!(oldSpec.suspend === true && !started)) out.push(invalid('spec.template', spec.template ?? null, IMMUTABLE));
  }
  return out;
}

function claimUpdate(obj: Obj, old: Obj): Causes {
  const spec = { ...objAt(obj.spec) };
  const oldSpec = { ...objAt(old.spec) };
  const storage = objAt(objAt(spec.resources).requests).storage;
  const oldStorage = objAt(objAt(oldSpec.resources).requests).storage;
  const out: Causes = [];
  // The binder fills in volumeName once; a bound claim may only grow (not enforced on directories).
  if (!oldSpec.volumeName && spec.volumeName) oldSpec.volumeName = spec.volumeName;
  // Retroactive default class assignment: a claim without a class may get one.
  if (oldSpec.storageClassName === undefined && typeof spec.storageClassName === 'string') oldSpec.storageClassName = spec.storageClassName;
  if (storage !== undefined && oldStorage !== undefined && parseQuantity(storage as string) < parseQuantity(oldStorage as string) && strAt(objAt(old.status).phase) === 'Bound') {
    out.push(forbidden('spec.resources.requests.storage', 'field can not be less than status.capacity'));
  }
  delete spec.resources;
  delete oldSpec.resources;
  if (!semanticEqual(spec, oldSpec)) out.push(forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
  return out;
}

function volumeUpdate(obj: Obj, old: Obj): Causes {
  const out: Causes = [];
  const spec = objAt(obj.spec);
  const oldSpec = objAt(old.spec);
  for (const s of ['hostPath', 'local', 'nfs', 'csi']) {
    if (oldSpec[s] !== undefined && !semanticEqual(spec[s], oldSpec[s])) out.push(forbidden(`spec.${s}`, 'spec.persistentvolumesource is forbidden to update'));
  }
  if (oldSpec.nodeAffinity !== undefined && !semanticEqual(spec.nodeAffinity, oldSpec.nodeAffinity)) out.push(invalid('spec.nodeAffinity', spec.nodeAffinity ?? null, IMMUTABLE));
  return out;
}

/** Update rules of StatefulSet, DaemonSet, Job, CronJob, PVC, PV, StorageClass and ControllerRevision. */
export function validateWorkloadUpdate(kind: string, obj: Obj, old: Obj): Causes {
  switch (kind) {
    case 'StatefulSet':
      return [...immutable(obj, old, ['spec.selector']), ...statefulSetUpdate(obj, old)];
    case 'DaemonSet':
      return immutable(obj, old, ['spec.selector']);
    case 'Job':
      return jobUpdate(obj, old);
    case 'PersistentVolumeClaim':
      return claimUpdate(obj, old);
    case 'PersistentVolume':
      return volumeUpdate(obj, old);
    case 'StorageClass':
      return immutable(obj, old, ['provisioner', 'parameters', 'reclaimPolicy', 'volumeBindingMode']);
    case 'ControllerRevision':
      return immutable(obj, old, ['data']);
    default:
      return [];
  }
}
