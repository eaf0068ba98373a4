// core/v1 PersistentVolumeClaim and PersistentVolume; storage.k8s.io/v1 StorageClass.
// (PersistentVolumeClaimSpec itself lives in volume.ts, shared with ephemeral volumes.)

import { bool, CORE, enumOf, freeForm, obj, quantity, ref, root, str, strMap, strs, time, keyedList, type Schema } from './builders.js';
import { STORAGE } from './builders.js';

const quantities = (description?: string): Schema => ({ ...(description ? { description } : {}), type: 'object', additionalProperties: quantity() });

/** Volume sources a PersistentVolume may name; kubelite mounts hostPath and local, the rest are stored as given. */
const OTHER_PV_SOURCES = ['gcePersistentDisk', 'awsElasticBlockStore', 'glusterfs', 'rbd', 'iscsi', 'cinder', 'cephfs', 'fc', 'flocker', 'flexVolume', 'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'storageos', 'csi'];

export function storageSchemas(): Record<string, Schema> {
  const pvSources: Record<string, Schema> = {};
  for (const s of OTHER_PV_SOURCES) pvSources[s] = freeForm();
  return {
    [`${CORE}PersistentVolumeClaim`]: root(
      { group: '', version: 'v1', kind: 'PersistentVolumeClaim' },
      "PersistentVolumeClaim is a user's request for and claim to a persistent volume.",
      {
        spec: ref(`${CORE}PersistentVolumeClaimSpec`, 'spec defines the desired characteristics of a volume requested by a pod author.'),
        status: ref(`${CORE}PersistentVolumeClaimStatus`, 'status represents the current information/status of a persistent volume claim.'),
      },
    ),
    [`${CORE}PersistentVolumeClaimStatus`]: obj({
      phase: enumOf(['Bound', 'Lost', 'Pending'], 'phase represents the current phase of PersistentVolumeClaim.'),
      accessModes: strs('accessModes contains the actual access modes the volume backing the PVC has.'),
      capacity: quantities('capacity represents the actual resources of the underlying volume.'),
      conditions: keyedList(ref(`${CORE}PersistentVolumeClaimCondition`), 'type'),
      allocatedResources: quantities(),
      currentVolumeAttributesClassName: str(),
    }),
    [`${CORE}PersistentVolumeClaimCondition`]: obj(
      { type: str(), status: str(), lastProbeTime: time(), lastTransitionTime: time(), reason: str(), message: str() },
      { required: ['type', 'status'] },
    ),
    [`${CORE}PersistentVolume`]: root(
      { group: '', version: 'v1', kind: 'PersistentVolume' },
      'PersistentVolume (PV) is a storage resource provisioned by an administrator (or a provisioner for a claim), analogous to a node.',
      {
        spec: ref(`${CORE}PersistentVolumeSpec`, 'spec defines a specification of a persistent volume owned by the cluster.'),
        status: ref(`${CORE}PersistentVolumeStatus`, 'status represents the current information/status for the persistent volume.'),
      },
    ),
    [`${CORE}PersistentVolumeSpec`]: obj({
      capacity: quantities('capacity is the description of the persistent volume\'s resources and capacity (recorded; kubelite does not enforce it on a directory).'),
      accessModes: strs('accessModes contains all ways the volume can be mounted.'),
      claimRef: ref(`${CORE}ObjectReference`, 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
      persistentVolumeReclaimPolicy: enumOf(['Delete', 'Recycle', 'Retain'], 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.'),
      storageClassName: str('storageClassName is the name of StorageClass to which this persistent volume belongs.'),
      mountOptions: strs(),
      volumeMode: enumOf(['Block', 'Filesystem'], 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.'),
      nodeAffinity: obj({ required: ref(`${CORE}NodeSelector`) }, { description: 'nodeAffinity defines constraints that limit what nodes this volume can be accessed from.' }),
      volumeAttributesClassName: str(),
      hostPath: ref(`${CORE}HostPathVolumeSource`, 'hostPath represents a directory on the host.'),
      local: obj({ path: str(), fsType: str() }, { required: ['path'], description: 'local represents directly-attached storage with node affinity.' }),
      nfs: ref(`${CORE}NFSVolumeSource`),
      ...pvSources,
    }),
    [`${CORE}PersistentVolumeStatus`]: obj({
      phase: enumOf(['Available', 'Bound', 'Failed', 'Pending', 'Released'], 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
      message: str(),
      reason: str(),
      lastPhaseTransitionTime: time(),
    }),

    [`${STORAGE}StorageClass`]: root(
      { group: 'storage.k8s.io', version: 'v1', kind: 'StorageClass' },
      'StorageClass describes the parameters for a class of storage for which PersistentVolumes can be dynamically provisioned.',
      {
        provisioner: str('provisioner indicates the type of the provisioner (kubelite.io/local-path: a directory per claim on the node).'),
        parameters: strMap('parameters holds the parameters for the provisioner that should create volumes of this storage class.'),
        reclaimPolicy: enumOf(['Delete', 'Retain'], 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes; defaults to Delete.'),
        mountOptions: strs('mountOptions controls the mountOptions for dynamically provisioned PersistentVolumes of this storage class.'),
        allowVolumeExpansion: bool('allowVolumeExpansion shows whether the storage class allow volume expand.'),
        volumeBindingMode: enumOf(['Immediate', 'WaitForFirstConsumer'], 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound; defaults to Immediate.'),
        allowedTopologies: freeForm('allowedTopologies restrict the node topologies where volumes can be dynamically provisioned.'),
      },
      ['provisioner'],
    ),
  };
}


