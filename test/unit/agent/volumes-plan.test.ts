import test from 'ava';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from '../../../src/api/types.js';
import { claimVolumePath, containerMounts, MountError, unboundClaims, volumeKind } from '../../../src/agent/volumes-plan.js';

const vol = { name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } };
const claim = (o: Partial<PersistentVolumeClaim['spec']> & { phase?: 'Pending' | 'Bound'; deleting?: boolean } = {}): PersistentVolumeClaim => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: 'data-web-0', namespace: 'default', ...(o.deleting ? { deletionTimestamp: 'x' } : {}) },
  spec: { accessModes: ['ReadWriteOnce'], ...o },
  status: { phase: o.phase ?? 'Bound' },
});
const pv = (spec: Partial<PersistentVolume['spec']>): PersistentVolume => ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pvc-1' }, spec });

test('a bound claim resolves to its volume\'s hostPath or local path', (t) => {
  t.deepEqual(claimVolumePath(vol, claim({ volumeName: 'pvc-1' }), pv({ hostPath: { path: '/var/lib/kubelite/storage/pvc-1_default_data-web-0' } })), { path: '/var/lib/kubelite/storage/pvc-1_default_data-web-0', volumeName: 'pvc-1' });
  t.deepEqual(claimVolumePath(vol, claim({ volumeName: 'pvc-1' }), pv({ local: { path: '/mnt/disk/../disk2' } })).path, '/mnt/disk2');
});

test('what is missing is named in the MountError', (t) => {
  const msg = (f: () => unknown) => (t.throws(f, { instanceOf: MountError }) as Error).message;
  t.is(msg(() => claimVolumePath(vol, undefined, undefined)), 'MountVolume.SetUp failed for volume "data" : persistentvolumeclaim "data-web-0" not found');
  t.regex(msg(() => claimVolumePath(vol, claim({ phase: 'Pending' }), undefined)), /is not bound/);
  t.regex(msg(() => claimVolumePath(vol, claim({ volumeName: 'pvc-1', deleting: true }), undefined)), /is being deleted/);
  t.regex(msg(() => claimVolumePath(vol, claim({ volumeName: 'pvc-1' }), undefined)), /persistentvolume "pvc-1" not found/);
  t.regex(msg(() => claimVolumePath(vol, claim({ volumeName: 'pvc-1' }), pv({ nfs: { server: 'x', path: '/' } }))), /cannot mount \(hostPath and local are supported\)/);
});

test('unbound claims hold the Pod; readOnly claims mount read-only', (t) => {
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-0', namespace: 'default', uid: 'u1' },
    spec: { containers: [{ name: 'c', image: 'i', volumeMounts: [{ name: 'data', mountPath: '/data' }] }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-0', readOnly: true } }, { name: 'tmp', emptyDir: {} }] },
  };
  t.deepEqual(unboundClaims(pod, () => undefined), ['data-web-0']);
  t.deepEqual(unboundClaims(pod, () => claim({ phase: 'Pending' })), ['data-web-0']);
  t.deepEqual(unboundClaims(pod, () => claim({ volumeName: 'pvc-1' })), []);
  t.is(volumeKind(pod.spec.volumes![0]), 'persistentVolumeClaim');
  const mounts = containerMounts(pod, 'c', new Map([['data', { kind: 'persistentVolumeClaim' as const, hostPath: '/srv/pv' }]]));
  t.deepEqual(mounts, [{ source: '/srv/pv', target: '/data', readOnly: true }]);
});
