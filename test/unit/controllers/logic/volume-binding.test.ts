import test from 'ava';
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../../../../src/api/types.js';
import { planVolumes, volumeMatches, type VolumeAction, type VolumeWorld } from '../../../../src/controllers/logic/volume-binding.js';

function claim(name: string, o: { cls?: string | null; size?: string; phase?: 'Pending' | 'Bound'; volumeName?: string; annotations?: Record<string, string>; deleting?: boolean; modes?: PersistentVolumeClaim['spec']['accessModes'] } = {}): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, annotations: o.annotations, finalizers: ['kubernetes.io/pvc-protection'], ...(o.deleting ? { deletionTimestamp: '2026-12-07T10:00:00Z' } : {}) },
    spec: { accessModes: o.modes ?? ['ReadWriteOnce'], resources: { requests: { storage: o.size ?? '1Gi' } }, ...(o.cls === null ? {} : { storageClassName: o.cls ?? 'local-path' }), ...(o.volumeName ? { volumeName: o.volumeName } : {}) },
    status: { phase: o.phase ?? 'Pending' },
  };
}

function volume(name: string, o: { cls?: string; size?: string; claimRef?: { name: string; uid?: string }; phase?: PersistentVolume['status'] extends infer S ? (S extends { phase?: infer P } ? P : never) : never; deleting?: boolean; labels?: Record<string, string> } = {}): PersistentVolume {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, uid: `uid-${name}`, labels: o.labels, finalizers: ['kubernetes.io/pv-protection'], ...(o.deleting ? { deletionTimestamp: '2026-12-07T10:00:00Z' } : {}) },
    spec: { capacity: { storage: o.size ?? '1Gi' }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], storageClassName: o.cls ?? 'manual', hostPath: { path: `/srv/${name}` }, ...(o.claimRef ? { claimRef: { namespace: 'default', ...o.claimRef } } : {}) },
    status: { phase: o.phase ?? 'Available' },
  };
}

const cls = (name: string, o: { mode?: StorageClass['volumeBindingMode']; isDefault?: boolean } = {}): StorageClass => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name, ...(o.isDefault ? { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } : {}) },
  provisioner: 'kubelite.io/local-path',
  reclaimPolicy: 'Delete',
  volumeBindingMode: o.mode ?? 'WaitForFirstConsumer',
});

const readyNode: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'True' }] } };

function podUsing(claimName: string, nodeName?: string): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${claimName}`, namespace: 'default' }, spec: { nodeName, containers: [], volumes: [{ name: 'd', persistentVolumeClaim: { claimName } }] }, status: { phase: 'Pending' } };
}

const world = (w: Partial<VolumeWorld>): VolumeWorld => ({ claims: [], volumes: [], classes: [cls('local-path', { isDefault: true })], pods: [], nodes: [readyNode], ...w });
const brief = (a: VolumeAction[]) =>
  a.map((x) => {
    switch (x.kind) {
      case 'bind':
        return `bind ${x.claim.metadata.name}->${x.volume.metadata.name}`;
      case 'event':
        return `event ${x.reason}`;
      case 'annotateClaim':
        return `annotate ${Object.entries(x.annotations).map(([k, v]) => `${k.split('/')[1]}=${v}`).sort().join(',')}`;
      case 'volumePhase':
        return `volume ${x.volume.metadata.name} ${x.phase}`;
      case 'claimPhase':
        return `claim ${x.claim.metadata.name} ${x.phase}`;
      case 'setDefaultClass':
        return `default class ${x.className}`;
      default:
        return x.kind;
    }
  });

test('WaitForFirstConsumer: the claim waits for a scheduled pod, then gets the provisioner and its node', (t) => {
  t.deepEqual(brief(planVolumes(world({ claims: [claim('data')] }))), ['event WaitForFirstConsumer', 'annotate storage-provisioner=kubelite.io/local-path,storage-provisioner=kubelite.io/local-path']);
  t.deepEqual(brief(planVolumes(world({ claims: [claim('data')], pods: [podUsing('data')] }))), ['event WaitForFirstConsumer', 'annotate storage-provisioner=kubelite.io/local-path,storage-provisioner=kubelite.io/local-path'], 'an unscheduled pod is not enough');
  t.deepEqual(brief(planVolumes(world({ claims: [claim('data')], pods: [podUsing('data', 'n1')] }))), ['annotate selected-node=n1,storage-provisioner=kubelite.io/local-path,storage-provisioner=kubelite.io/local-path', 'event ExternalProvisioning']);
});

test('Immediate: the first ready node is selected at once', (t) => {
  const plan = planVolumes(world({ claims: [claim('data', { cls: 'fast' })], classes: [cls('fast', { mode: 'Immediate' })] }));
  t.deepEqual(brief(plan), ['annotate selected-node=n1,storage-provisioner=kubelite.io/local-path,storage-provisioner=kubelite.io/local-path', 'event ExternalProvisioning']);
});

test('a claim binds to the volume pre-bound to it (a provisioner\'s), and the volume goes Bound with it', (t) => {
  const v = volume('pvc-uid-data', { cls: 'local-path', claimRef: { name: 'data', uid: 'uid-data' }, phase: 'Pending' });
  t.deepEqual(brief(planVolumes(world({ claims: [claim('data')], volumes: [v] }))), ['bind data->pvc-uid-data']);
});

test('static volumes: the smallest Available one that fits (class, size, access modes, selector)', (t) => {
  const c = claim('db', { cls: 'manual', size: '5Gi' });
  const vols = [volume('small', { size: '1Gi' }), volume('big', { size: '100Gi' }), volume('mid', { size: '10Gi' }), volume('other', { cls: 'slow', size: '5Gi' })];
  t.deepEqual(brief(planVolumes(world({ claims: [c], volumes: vols }))).filter((x) => x.startsWith('bind')), ['bind db->mid']);
  t.false(volumeMatches(claim('rwx', { cls: 'manual', modes: ['ReadWriteMany'] }), volume('v')));
  const sel = { ...claim('sel', { cls: 'manual' }), spec: { ...claim('sel', { cls: 'manual' }).spec, selector: { matchLabels: { tier: 'gold' } } } };
  t.false(volumeMatches(sel, volume('v')));
  t.true(volumeMatches(sel, volume('v', { labels: { tier: 'gold' } })));
});

test('a claim for a missing class stays Pending with ProvisioningFailed; no class at all with FailedBinding', (t) => {
  const plan = planVolumes(world({ claims: [claim('x', { cls: 'fast' })] }));
  t.is(plan.length, 1);
  t.like(plan[0], { kind: 'event', type: 'Warning', reason: 'ProvisioningFailed', message: 'storageclass.storage.k8s.io "fast" not found' });
  const none = planVolumes(world({ claims: [claim('y', { cls: '' })] }));
  t.like(none[0], { kind: 'event', reason: 'FailedBinding', message: 'no persistent volumes available for this claim and no storage class is set' });
  t.deepEqual(brief(planVolumes(world({ claims: [claim('z', { cls: null })] }))).slice(0, 1), ['default class local-path'], 'retroactive default class');
});

test('a volume whose claim went is Released; a bound claim whose volume went is Lost', (t) => {
  const v = volume('v1', { claimRef: { name: 'gone', uid: 'uid-gone' }, phase: 'Bound' });
  t.deepEqual(brief(planVolumes(world({ volumes: [v] }))), ['volume v1 Released']);
  t.deepEqual(brief(planVolumes(world({ volumes: [volume('free', { phase: 'Pending' })] }))), ['volume free Available']);
  t.deepEqual(brief(planVolumes(world({ claims: [claim('c', { phase: 'Bound', volumeName: 'missing' })] }))), ['claim c Lost', 'event ClaimLost']);
});

test('protection: a claim in use keeps its finalizer until no pod uses it; a bound volume keeps its own', (t) => {
  const c = claim('data', { deleting: true, phase: 'Bound', volumeName: 'v' });
  t.deepEqual(brief(planVolumes(world({ claims: [c], pods: [podUsing('data', 'n1')] }))), []);
  t.deepEqual(brief(planVolumes(world({ claims: [c] }))), ['removeClaimFinalizer']);
  t.deepEqual(brief(planVolumes(world({ volumes: [volume('v', { deleting: true, phase: 'Bound', claimRef: { name: 'x' } })] }))), []);
  t.deepEqual(brief(planVolumes(world({ volumes: [volume('v', { deleting: true, phase: 'Released' })] }))), ['removeVolumeFinalizer']);
});
