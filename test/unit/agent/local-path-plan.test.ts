import test from 'ava';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../../src/api/types.js';
import { claimDir, claimsToProvision, insideStorageRoot, volumeNode, volumesToReclaim } from '../../../src/agent/local-path-plan.js';

const DATA = '/var/lib/kubelite';
const UID = '0f8fad5b-d9cb-469f-a165-70867728950e';

const cls: StorageClass = { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local-path' }, provisioner: 'kubelite.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer' };

function claim(o: { node?: string; name?: string; uid?: string; ns?: string } = {}): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: o.name ?? 'data-web-0', namespace: o.ns ?? 'default', uid: o.uid ?? UID, annotations: { 'volume.kubernetes.io/storage-provisioner': 'kubelite.io/local-path', 'volume.kubernetes.io/selected-node': o.node ?? 'n1' } },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } }, storageClassName: 'local-path', volumeMode: 'Filesystem' },
    status: { phase: 'Pending' },
  };
}

test('a selected claim gets a directory under <data-dir>/storage and a pre-bound hostPath volume with node affinity', (t) => {
  const [d] = claimsToProvision('n1', DATA, [claim()], [], [cls]);
  t.is(d.dir, `${DATA}/storage/pvc-${UID}_default_data-web-0`);
  t.deepEqual(d.volume.spec.hostPath, { path: d.dir, type: 'Directory' });
  t.is(d.volume.metadata.name, `pvc-${UID}`);
  t.deepEqual(d.volume.spec.capacity, { storage: '2Gi' });
  t.is(d.volume.spec.persistentVolumeReclaimPolicy, 'Delete');
  t.like(d.volume.spec.claimRef, { name: 'data-web-0', namespace: 'default', uid: UID });
  t.is(volumeNode(d.volume), 'n1');
  t.is(d.volume.metadata.annotations!['pv.kubernetes.io/provisioned-by'], 'kubelite.io/local-path');
});

test('other nodes, other provisioners, bound claims and claims that already have a volume are left alone', (t) => {
  t.deepEqual(claimsToProvision('n2', DATA, [claim()], [], [cls]), []);
  t.deepEqual(claimsToProvision('n1', DATA, [claim()], [], [{ ...cls, provisioner: 'example.com/nfs' }]), []);
  t.deepEqual(claimsToProvision('n1', DATA, [{ ...claim(), spec: { ...claim().spec, volumeName: 'x' } }], [], [cls]), []);
  const existing = { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: `pvc-${UID}` }, spec: {} } as PersistentVolume;
  t.deepEqual(claimsToProvision('n1', DATA, [claim()], [existing], [cls]), []);
});

test('names that could escape the storage root are refused', (t) => {
  t.throws(() => claimDir(DATA, claim({ uid: '../../etc' })));
  t.throws(() => claimDir(DATA, claim({ ns: '..' })));
  t.deepEqual(claimsToProvision('n1', DATA, [claim({ uid: '../x' })], [], [cls]), []);
  t.true(insideStorageRoot(DATA, `${DATA}/storage/pvc-x_default_a`));
  t.false(insideStorageRoot(DATA, `${DATA}/storage/pvc-x/../../pods`));
  t.false(insideStorageRoot(DATA, '/etc'));
  t.false(insideStorageRoot(DATA, `${DATA}/storage`));
});

test('only our Released Delete-policy volumes on this node, inside the storage root, are reclaimed', (t) => {
  const [d] = claimsToProvision('n1', DATA, [claim()], [], [cls]);
  const released = { ...d.volume, status: { phase: 'Released' as const } };
  t.deepEqual(volumesToReclaim('n1', DATA, [released]), [{ volume: released, dir: d.dir }]);
  t.deepEqual(volumesToReclaim('n2', DATA, [released]), []);
  t.deepEqual(volumesToReclaim('n1', DATA, [{ ...released, spec: { ...released.spec, persistentVolumeReclaimPolicy: 'Retain' } }]), []);
  t.deepEqual(volumesToReclaim('n1', DATA, [{ ...d.volume, status: { phase: 'Bound' } }]), []);
  t.deepEqual(volumesToReclaim('n1', DATA, [{ ...released, spec: { ...released.spec, hostPath: { path: '/home' } } }]), []);
});
