import test from 'ava';
import type { KObject } from '../../../src/api/types.js';
import { R } from '../../../src/api/resources.js';
import { applyDefaults, validateObject } from '../../../src/api/validation/index.js';

const template = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i' }] } };

function check(res: (typeof R)[keyof typeof R], obj: KObject, old?: KObject): string[] {
  applyDefaults(res, obj as never);
  if (old) applyDefaults(res, old as never);
  return validateObject(res, obj, old).causes.map((c) => `${c.field}: ${c.message}`);
}

const sts = (spec: Record<string, unknown> = {}): KObject => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'web', namespace: 'default' },
  spec: {
    serviceName: 'web',
    selector: { matchLabels: { app: 'a' } },
    template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] } },
    volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    ...spec,
  },
});

test('StatefulSet: defaults as apps/v1; mounts may name volumeClaimTemplates; bad values say where', (t) => {
  const s = sts();
  t.deepEqual(check(R.statefulsets, s), []);
  t.like(s.spec as object, { replicas: 1, podManagementPolicy: 'OrderedReady', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }, revisionHistoryLimit: 10, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' } });
  t.deepEqual(check(R.statefulsets, sts({ replicas: -1, podManagementPolicy: 'Random', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: -2 } } })), [
    'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    'spec.podManagementPolicy: Unsupported value: "Random": supported values: "OrderedReady", "Parallel"',
    'spec.updateStrategy.rollingUpdate.partition: Invalid value: -2: must be greater than or equal to 0',
  ]);
  const noStorage = sts({ volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }] });
  t.deepEqual(check(R.statefulsets, noStorage), ['spec.volumeClaimTemplates[0].spec.resources.requests.storage: Required value']);
  const old = sts();
  const changed = sts({ serviceName: 'other' });
  t.regex(check(R.statefulsets, changed, old).join('\n'), /spec: Forbidden: updates to statefulset spec for fields other than 'replicas'/);
  t.deepEqual(check(R.statefulsets, sts({ replicas: 5 }), sts()), []);
});

test('Job: restartPolicy Never or OnFailure; Indexed needs completions; the selector is immutable', (t) => {
  const job = (spec: Record<string, unknown>): KObject => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'default' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } }, ...spec } });
  const ok = job({});
  t.deepEqual(check(R.jobs, ok), []);
  t.like(ok.spec as object, { completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false, podReplacementPolicy: 'TerminatingOrFailed' });
  t.deepEqual(check(R.jobs, job({ template: { spec: { restartPolicy: 'Always', containers: [{ name: 'c', image: 'i' }] } } })), ['spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"']);
  t.deepEqual(check(R.jobs, job({ completionMode: 'Indexed', parallelism: 2 })), ['spec.completions: Required value: when completion mode is Indexed']);
  t.deepEqual(check(R.jobs, job({ activeDeadlineSeconds: 0 })), ['spec.activeDeadlineSeconds: Invalid value: 0: must be greater than 0']);
  const a = job({ selector: { matchLabels: { x: '1' } }, manualSelector: true, template: { metadata: { labels: { x: '1' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } });
  const b = job({ selector: { matchLabels: { x: '2' } }, manualSelector: true, template: { metadata: { labels: { x: '2' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } });
  t.true(check(R.jobs, b, a).some((c) => c.startsWith('spec.selector: Invalid value') && c.endsWith('field is immutable')));
});

test('CronJob: a bad schedule is a 422 cause on spec.schedule, a bad zone on spec.timeZone', (t) => {
  const cj = (spec: Record<string, unknown>, name = 'nightly'): KObject => ({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name, namespace: 'default' }, spec: { schedule: '@daily', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'i' }] } } } }, ...spec } });
  const ok = cj({ timeZone: 'Europe/Berlin' });
  t.deepEqual(check(R.cronjobs, ok), []);
  t.like(ok.spec as object, { concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
  t.deepEqual(check(R.cronjobs, cj({ schedule: '* * *' })), ['spec.schedule: Invalid value: "* * *": expected exactly 5 fields, found 3: * * *']);
  t.deepEqual(check(R.cronjobs, cj({ timeZone: 'Nowhere/Land' })), ['spec.timeZone: Invalid value: "Nowhere/Land": unknown time zone Nowhere/Land']);
  t.deepEqual(check(R.cronjobs, cj({ concurrencyPolicy: 'Sometimes' })), ['spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"']);
  t.deepEqual(check(R.cronjobs, cj({}, 'a'.repeat(53))), [`metadata.name: Invalid value: "${'a'.repeat(53)}": must be no more than 52 characters`]);
});

test('claims, volumes and classes', (t) => {
  const pvc = (spec: Record<string, unknown>): KObject => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'c', namespace: 'default' }, spec });
  t.deepEqual(check(R.persistentvolumeclaims, pvc({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } })), []);
  t.deepEqual(check(R.persistentvolumeclaims, pvc({ accessModes: ['ReadWriteSometimes'], resources: { requests: { storage: '0' } } })), [
    'spec.accessModes[0]: Unsupported value: "ReadWriteSometimes": supported values: "ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"',
    'spec.resources.requests.storage: Invalid value: "0": must be greater than zero',
  ]);
  const before = pvc({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'a' });
  const after = pvc({ accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'a' });
  t.regex(check(R.persistentvolumeclaims, after, before).join(), /spec: Forbidden: spec is immutable after creation/);
  const pv: KObject = { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'v' }, spec: { accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } } };
  t.deepEqual(check(R.persistentvolumes, pv), ['spec: Required value: must specify a volume type']);
  const sc: KObject = { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 's' }, provisioner: 'example.com/x', reclaimPolicy: 'Recycle' };
  t.deepEqual(check(R.storageclasses, sc), ['reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"']);
});
