// PersistentVolumeClaim, PersistentVolume and StorageClass rules (pkg/apis/core/validation,
// pkg/apis/storage/validation).

import { isDNS1123Subdomain, isQualifiedName } from '../names.js';
import { parseQuantity } from '../quantity.js';
import { type Causes, child, each, forbidden, index, invalid, isObj, listAt, notSupported, type Obj, objAt, quantityCauses, required, strAt } from './field.js';
import { validateLabelSelector } from './meta.js';
import type { LabelSelector } from '../types.js';

const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];
const VOLUME_MODES = ['Block', 'Filesystem'];

function accessModes(v: unknown, path: string, requireOne: boolean): Causes {
  const out: Causes = [];
  const modes = listAt<unknown>(v);
  if (requireOne && modes.length === 0) out.push(required(path, 'at least 1 access mode is required'));
  modes.forEach((m, i) => {
    if (typeof m !== 'string' || !ACCESS_MODES.includes(m)) out.push(notSupported(index(path, i), m, ACCESS_MODES));
  });
  if (modes.includes('ReadWriteOncePod') && modes.length > 1) out.push(forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  return out;
}

/** A claim's spec (also a volumeClaimTemplate's and an ephemeral volume's). */
export function validateClaimSpec(spec: Obj, path: string): Causes {
  const out: Causes = [];
  out.push(...accessModes(spec.accessModes, child(path, 'accessModes'), true));
  if (isObj(spec.selector)) out.push(...validateLabelSelector(spec.selector as LabelSelector, child(path, 'selector')));
  const requests = objAt(objAt(spec.resources).requests);
  const storage = requests.storage;
  if (storage === undefined) out.push(required(child(path, 'resources', 'requests', 'storage')));
  else {
    const q = quantityCauses(child(path, 'resources', 'requests', 'storage'), storage);
    out.push(...q);
    if (q.length === 0 && parseQuantity(storage as string | number) <= 0) out.push(invalid(child(path, 'resources', 'requests', 'storage'), storage, 'must be greater than zero'));
  }
  const cls = spec.storageClassName;
  if (typeof cls === 'string' && cls) out.push(...each(child(path, 'storageClassName'), cls, isDNS1123Subdomain(cls)));
  const vm = strAt(spec.volumeMode);
  if (vm && !VOLUME_MODES.includes(vm)) out.push(notSupported(child(path, 'volumeMode'), vm, VOLUME_MODES));
  return out;
}

export function validatePersistentVolumeClaim(obj: Obj): Causes {
  return validateClaimSpec(objAt(obj.spec), 'spec');
}

const PV_SOURCES = ['hostPath', 'local', 'nfs', 'csi', 'gcePersistentDisk', 'awsElasticBlockStore', 'glusterfs', 'rbd', 'iscsi', 'cinder', 'cephfs', 'fc', 'flocker', 'flexVolume', 'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'storageos'];

export function validatePersistentVolume(obj: Obj): Causes {
  const spec = objAt(obj.spec);
  const out: Causes = [];
  out.push(...accessModes(spec.accessModes, 'spec.accessModes', true));
  const storage = objAt(spec.capacity).storage;
  if (storage === undefined) out.push(required('spec.capacity', 'must specify storage'));
  else out.push(...quantityCauses('spec.capacity.storage', storage));
  const policy = strAt(spec.persistentVolumeReclaimPolicy);
  if (policy && !['Delete', 'Recycle', 'Retain'].includes(policy)) out.push(notSupported('spec.persistentVolumeReclaimPolicy', policy, ['Delete', 'Recycle', 'Retain']));
  const sources = PV_SOURCES.filter((s) => spec[s] !== undefined);
  if (sources.length === 0) out.push(required('spec', 'must specify a volume type'));
  for (const s of sources.slice(1)) out.push(forbidden(child('spec', s), 'may not specify more than 1 volume type'));
  for (const s of ['hostPath', 'local'] as const) {
    if (!isObj(spec[s])) continue;
    const p = strAt(spec[s].path);
    if (!p) out.push(required(child('spec', s, 'path')));
    else if (p.split('/').includes('..')) out.push(invalid(child('spec', s, 'path'), p, "must not contain '..'"));
  }
  if (isObj(spec.local) && !isObj(spec.nodeAffinity)) out.push(required('spec.nodeAffinity', 'Local volume requires node affinity'));
  const cls = strAt(spec.storageClassName);
  if (cls) out.push(...each('spec.storageClassName', cls, isDNS1123Subdomain(cls)));
  return out;
}

export function validateStorageClass(obj: Obj): Causes {
  const out: Causes = [];
  const prov = strAt(obj.provisioner);
  if (!prov) out.push(required('provisioner'));
  else out.push(...each('provisioner', prov, isQualifiedName(prov.toLowerCase())));
  const rp = strAt(obj.reclaimPolicy);
  if (rp && !['Delete', 'Retain'].includes(rp)) out.push(notSupported('reclaimPolicy', rp, ['Delete', 'Retain']));
  const mode = strAt(obj.volumeBindingMode);
  if (mode && !['Immediate', 'WaitForFirstConsumer'].includes(mode)) out.push(notSupported('volumeBindingMode', mode, ['Immediate', 'WaitForFirstConsumer']));
  return out;
}
