// core/v1 Volume and its sources. kubelite's agent mounts emptyDir, hostPath, configMap, secret,
// projected and downwardAPI; the rest are typed so manifests written for clusters still validate
// (the agent reports them as unsupported at run time instead).

import { arr, bool, CORE, int, int64, META, obj, quantity, ref, str, strMap, strs, type Schema } from './builders.js';

const c = (name: string, description?: string) => ref(CORE + name, description);
const LOCAL_REF = c('LocalObjectReference');

/** A legacy in-tree plugin source: plain strings/bools/ints plus an optional secretRef. */
function plugin(fields: Record<string, 'str' | 'bool' | 'int' | 'strs' | 'secretRef' | 'map'>, required: string[] = []): Schema {
  const props: Record<string, Schema> = {};
  for (const [k, t] of Object.entries(fields)) {
    props[k] = t === 'str' ? str() : t === 'bool' ? bool() : t === 'int' ? int() : t === 'strs' ? strs() : t === 'map' ? strMap() : LOCAL_REF;
  }
  return obj(props, { required });
}

export const VOLUME_SOURCES = [
  'hostPath',
  'emptyDir',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'secret',
  'nfs',
  'iscsi',
  'glusterfs',
  'persistentVolumeClaim',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'downwardAPI',
  'fc',
  'azureFile',
  'configMap',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'projected',
  'portworxVolume',
  'scaleIO',
  'storageos',
  'csi',
  'ephemeral',
  'image',
] as const;

const SOURCE_SCHEMA: Record<(typeof VOLUME_SOURCES)[number], string> = {
  hostPath: 'HostPathVolumeSource',
  emptyDir: 'EmptyDirVolumeSource',
  gcePersistentDisk: 'GCEPersistentDiskVolumeSource',
  awsElasticBlockStore: 'AWSElasticBlockStoreVolumeSource',
  gitRepo: 'GitRepoVolumeSource',
  secret: 'SecretVolumeSource',
  nfs: 'NFSVolumeSource',
  iscsi: 'ISCSIVolumeSource',
  glusterfs: 'GlusterfsVolumeSource',
  persistentVolumeClaim: 'PersistentVolumeClaimVolumeSource',
  rbd: 'RBDVolumeSource',
  flexVolume: 'FlexVolumeSource',
  cinder: 'CinderVolumeSource',
  cephfs: 'CephFSVolumeSource',
  flocker: 'FlockerVolumeSource',
  downwardAPI: 'DownwardAPIVolumeSource',
  fc: 'FCVolumeSource',
  azureFile: 'AzureFileVolumeSource',
  configMap: 'ConfigMapVolumeSource',
  vsphereVolume: 'VsphereVirtualDiskVolumeSource',
  quobyte: 'QuobyteVolumeSource',
  azureDisk: 'AzureDiskVolumeSource',
  photonPersistentDisk: 'PhotonPersistentDiskVolumeSource',
  projected: 'ProjectedVolumeSource',
  portworxVolume: 'PortworxVolumeSource',
  scaleIO: 'ScaleIOVolumeSource',
  storageos: 'StorageOSVolumeSource',
  csi: 'CSIVolumeSource',
  ephemeral: 'EphemeralVolumeSource',
  image: 'ImageVolumeSource',
};

const KEY_TO_PATH_LIST = arr(c('KeyToPath'), { type: 'atomic' });

export function volumeSchemas(): Record<string, Schema> {
  const volumeProps: Record<string, Schema> = { name: str('Volume name, a DNS_LABEL unique within the pod.') };
  for (const s of VOLUME_SOURCES) volumeProps[s] = c(SOURCE_SCHEMA[s]);
  return {
    [`${CORE}Volume`]: obj(volumeProps, { required: ['name'], description: 'A named volume in a pod; exactly one source.' }),
    [`${CORE}KeyToPath`]: obj({ key: str(), path: str(), mode: int() }, { required: ['key', 'path'] }),
    [`${CORE}HostPathVolumeSource`]: obj({ path: str(), type: str() }, { required: ['path'] }),
    [`${CORE}EmptyDirVolumeSource`]: obj({ medium: str('"" (node default) or "Memory".'), sizeLimit: quantity() }),
    [`${CORE}SecretVolumeSource`]: obj({ secretName: str(), items: KEY_TO_PATH_LIST, defaultMode: int(), optional: bool() }),
    [`${CORE}ConfigMapVolumeSource`]: { ...obj({ name: str(), items: KEY_TO_PATH_LIST, defaultMode: int(), optional: bool() }), 'x-kubernetes-map-type': 'atomic' },
    [`${CORE}PersistentVolumeClaimVolumeSource`]: obj({ claimName: str(), readOnly: bool() }, { required: ['claimName'] }),
    [`${CORE}DownwardAPIVolumeSource`]: obj({ items: arr(c('DownwardAPIVolumeFile')), defaultMode: int() }),
    [`${CORE}DownwardAPIVolumeFile`]: obj(
      { path: str(), fieldRef: c('ObjectFieldSelector'), resourceFieldRef: c('ResourceFieldSelector'), mode: int() },
      { required: ['path'] },
    ),
    [`${CORE}ProjectedVolumeSource`]: obj({ sources: arr(c('VolumeProjection')), defaultMode: int() }),
    [`${CORE}VolumeProjection`]: obj({
      secret: c('SecretProjection'),
      downwardAPI: c('DownwardAPIProjection'),
      configMap: c('ConfigMapProjection'),
      serviceAccountToken: c('ServiceAccountTokenProjection'),
      clusterTrustBundle: c('ClusterTrustBundleProjection'),
      podCertificate: c('PodCertificateProjection'),
    }),
    [`${CORE}SecretProjection`]: obj({ name: str(), items: KEY_TO_PATH_LIST, optional: bool() }),
    [`${CORE}ConfigMapProjection`]: obj({ name: str(), items: KEY_TO_PATH_LIST, optional: bool() }),
    [`${CORE}DownwardAPIProjection`]: obj({ items: arr(c('DownwardAPIVolumeFile')) }),
    [`${CORE}ServiceAccountTokenProjection`]: obj({ audience: str(), expirationSeconds: int64(), path: str() }, { required: ['path'] }),
    [`${CORE}ClusterTrustBundleProjection`]: obj(
      { name: str(), signerName: str(), labelSelector: ref(`${META}LabelSelector`), optional: bool(), path: str() },
      { required: ['path'] },
    ),
    [`${CORE}PodCertificateProjection`]: obj(
      {
        signerName: str(),
        keyType: str(),
        maxExpirationSeconds: int(),
        credentialBundlePath: str(),
        keyPath: str(),
        certificateChainPath: str(),
      },
      { required: ['signerName', 'keyType'] },
    ),
    [`${CORE}CSIVolumeSource`]: obj(
      { driver: str(), readOnly: bool(), fsType: str(), volumeAttributes: strMap(), nodePublishSecretRef: LOCAL_REF },
      { required: ['driver'] },
    ),
    [`${CORE}EphemeralVolumeSource`]: obj({ volumeClaimTemplate: c('PersistentVolumeClaimTemplate') }),
    [`${CORE}PersistentVolumeClaimTemplate`]: obj(
      { metadata: ref(`${META}ObjectMeta`), spec: c('PersistentVolumeClaimSpec') },
      { required: ['spec'] },
    ),
    [`${CORE}PersistentVolumeClaimSpec`]: obj({
      accessModes: strs(),
      selector: ref(`${META}LabelSelector`),
      resources: obj({ limits: strMapQuantity(), requests: strMapQuantity() }),
      volumeName: str(),
      storageClassName: str(),
      volumeMode: str(),
      dataSource: obj({ apiGroup: str(), kind: str(), name: str() }, { required: ['kind', 'name'] }),
      dataSourceRef: obj({ apiGroup: str(), kind: str(), name: str(), namespace: str() }, { required: ['kind', 'name'] }),
      volumeAttributesClassName: str(),
    }),
    [`${CORE}ImageVolumeSource`]: obj({ reference: str(), pullPolicy: str() }),
    [`${CORE}NFSVolumeSource`]: plugin({ server: 'str', path: 'str', readOnly: 'bool' }, ['server', 'path']),
    [`${CORE}GCEPersistentDiskVolumeSource`]: plugin({ pdName: 'str', fsType: 'str', partition: 'int', readOnly: 'bool' }, ['pdName']),
    [`${CORE}AWSElasticBlockStoreVolumeSource`]: plugin({ volumeID: 'str', fsType: 'str', partition: 'int', readOnly: 'bool' }, ['volumeID']),
    [`${CORE}GitRepoVolumeSource`]: plugin({ repository: 'str', revision: 'str', directory: 'str' }, ['repository']),
    [`${CORE}ISCSIVolumeSource`]: obj(
      {
        targetPortal: str(),
        iqn: str(),
        lun: int(),
        iscsiInterface: str(),
        fsType: str(),
        readOnly: bool(),
        portals: strs(),
        chapAuthDiscovery: bool(),
        chapAuthSession: bool(),
        secretRef: LOCAL_REF,
        initiatorName: str(),
      },
      { required: ['targetPortal', 'iqn', 'lun'] },
    ),
    [`${CORE}GlusterfsVolumeSource`]: plugin({ endpoints: 'str', path: 'str', readOnly: 'bool' }, ['endpoints', 'path']),
    [`${CORE}RBDVolumeSource`]: plugin(
      { monitors: 'strs', image: 'str', fsType: 'str', pool: 'str', user: 'str', keyring: 'str', secretRef: 'secretRef', readOnly: 'bool' },
      ['monitors', 'image'],
    ),
    [`${CORE}FlexVolumeSource`]: plugin({ driver: 'str', fsType: 'str', secretRef: 'secretRef', readOnly: 'bool', options: 'map' }, ['driver']),
    [`${CORE}CinderVolumeSource`]: plugin({ volumeID: 'str', fsType: 'str', readOnly: 'bool', secretRef: 'secretRef' }, ['volumeID']),
    [`${CORE}CephFSVolumeSource`]: plugin(
      { monitors: 'strs', path: 'str', user: 'str', secretFile: 'str', secretRef: 'secretRef', readOnly: 'bool' },
      ['monitors'],
    ),
    [`${CORE}FlockerVolumeSource`]: plugin({ datasetName: 'str', datasetUUID: 'str' }),
    [`${CORE}FCVolumeSource`]: plugin({ targetWWNs: 'strs', lun: 'int', fsType: 'str', readOnly: 'bool', wwids: 'strs' }),
    [`${CORE}AzureFileVolumeSource`]: plugin({ secretName: 'str', shareName: 'str', readOnly: 'bool' }, ['secretName', 'shareName']),
    [`${CORE}VsphereVirtualDiskVolumeSource`]: plugin(
      { volumePath: 'str', fsType: 'str', storagePolicyName: 'str', storagePolicyID: 'str' },
      ['volumePath'],
    ),
    [`${CORE}QuobyteVolumeSource`]: plugin(
      { registry: 'str', volume: 'str', readOnly: 'bool', user: 'str', group: 'str', tenant: 'str' },
      ['registry', 'volume'],
    ),
    [`${CORE}AzureDiskVolumeSource`]: plugin(
      { diskName: 'str', diskURI: 'str', cachingMode: 'str', fsType: 'str', readOnly: 'bool', kind: 'str' },
      ['diskName', 'diskURI'],
    ),
    [`${CORE}PhotonPersistentDiskVolumeSource`]: plugin({ pdID: 'str', fsType: 'str' }, ['pdID']),
    [`${CORE}PortworxVolumeSource`]: plugin({ volumeID: 'str', fsType: 'str', readOnly: 'bool' }, ['volumeID']),
    [`${CORE}ScaleIOVolumeSource`]: plugin(
      {
        gateway: 'str',
        system: 'str',
        secretRef: 'secretRef',
        sslEnabled: 'bool',
        protectionDomain: 'str',
        storagePool: 'str',
        storageMode: 'str',
        volumeName: 'str',
        fsType: 'str',
        readOnly: 'bool',
      },
      ['gateway', 'system', 'secretRef'],
    ),
    [`${CORE}StorageOSVolumeSource`]: plugin({ volumeName: 'str', volumeNamespace: 'str', fsType: 'str', readOnly: 'bool', secretRef: 'secretRef' }),
  };
}

function strMapQuantity(): Schema {
  return { type: 'object', additionalProperties: quantity() };
}

