// The CRD controller's status decision and the naming checks behind it: names accepted and the
// definition Established, a conflict with another accepted definition (NamesAccepted False with the
// field's reason, Established kept once given), Terminating while objects go, storedVersions; and
// what a definition serves (names defaulted, one resource per served version, the storage resource).

import test from 'ava';
import type { CustomResourceDefinition } from '../../../../src/api/types.js';
import { crdStatus } from '../../../../src/controllers/logic/crd.js';
import { approvalCauses, isProtectedGroup, nameConflicts } from '../../../../src/api/crd/conflicts.js';
import { crdResources, crdStorageResource, servedNames } from '../../../../src/api/crd/resources.js';
import { RESOURCES } from '../../../../src/api/resources.js';

const NOW = '2024-06-01T12:00:00Z';

function crd(name: string, o: { plural?: string; kind?: string; shortNames?: string[]; group?: string; accepted?: boolean; scope?: 'Namespaced' | 'Cluster' } = {}): CustomResourceDefinition {
  const plural = o.plural ?? name.split('.')[0];
  const kind = o.kind ?? 'CronTab';
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name },
    spec: {
      group: o.group ?? 'stable.example.com',
      scope: o.scope ?? 'Namespaced',
      names: { plural, kind, shortNames: o.shortNames },
      versions: [
        { name: 'v1beta1', served: true, storage: false },
        { name: 'v1', served: true, storage: true, subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } } },
        { name: 'v0', served: false, storage: false },
      ],
    },
    status: o.accepted ? { conditions: [{ type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: '' }], acceptedNames: { plural, kind, shortNames: o.shortNames }, storedVersions: ['v1'] } : undefined,
  };
}

test('a definition without conflicts: names accepted, Established, storage version recorded', (t) => {
  const s = crdStatus(crd('crontabs.stable.example.com', { shortNames: ['ct'] }), [], NOW);
  t.deepEqual(s.conditions!.map((c) => [c.type, c.status, c.reason]), [['NamesAccepted', 'True', 'NoConflicts'], ['Established', 'True', 'InitialNamesAccepted']]);
  t.like(s.acceptedNames, { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList', shortNames: ['ct'] });
  t.deepEqual(s.storedVersions, ['v1']);
});

test('a kind or short name an accepted definition of the group holds: NamesAccepted False, not Established', (t) => {
  const holder = crd('crontabs.stable.example.com', { shortNames: ['ct'], accepted: true });
  const s = crdStatus(crd('jobs.stable.example.com', { plural: 'jobs', kind: 'CronTab', shortNames: ['ct'] }), [holder], NOW);
  const names = s.conditions!.find((c) => c.type === 'NamesAccepted')!;
  t.is(names.status, 'False');
  // The first conflict names the reason (plural, singular, short names, kind, listKind in that order).
  t.is(names.reason, 'ShortNamesConflict');
  t.is(names.message, 'spec.names.shortNames[0]: Invalid value: "ct": "ct" is already in use by customresourcedefinition crontabs.stable.example.com; spec.names.kind: Invalid value: "CronTab": "CronTab" is already in use by customresourcedefinition crontabs.stable.example.com');
  t.is(crdStatus(crd('jobs.stable.example.com', { plural: 'jobs', kind: 'CronTab' }), [holder], NOW).conditions![0].reason, 'KindConflict');
  t.like(s.conditions!.find((c) => c.type === 'Established'), { status: 'False', reason: 'NotAccepted' });
  // A holder in another group, or one never accepted, holds nothing.
  t.like(crdStatus(crd('jobs.stable.example.com', { plural: 'jobs', shortNames: ['ct'] }), [crd('crontabs.other.io', { group: 'other.io', shortNames: ['ct'], accepted: true }), crd('crontabs.stable.example.com', { shortNames: ['ct'] })], NOW).conditions![0], { status: 'True' });
});

test('a definition Established once keeps being served when a later change conflicts', (t) => {
  const mine = crd('crontabs.stable.example.com', { shortNames: ['x'] });
  mine.status = crdStatus(mine, [], NOW);
  const other = crd('others.stable.example.com', { plural: 'others', kind: 'Other', shortNames: ['x'], accepted: true });
  const s = crdStatus(mine, [other], '2024-06-01T12:05:00Z');
  t.like(s.conditions!.find((c) => c.type === 'NamesAccepted'), { status: 'False', reason: 'ShortNamesConflict' });
  t.like(s.conditions!.find((c) => c.type === 'Established'), { status: 'True', lastTransitionTime: NOW });
});

test('Terminating while objects remain, then InstanceDeletionCompleted', (t) => {
  const c = crd('crontabs.stable.example.com');
  t.like(crdStatus(c, [], NOW, { remaining: 3 }).conditions!.find((x) => x.type === 'Terminating'), { status: 'True', reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress: 3 remaining' });
  t.like(crdStatus(c, [], NOW, { remaining: 0 }).conditions!.find((x) => x.type === 'Terminating'), { reason: 'InstanceDeletionCompleted' });
});

test('nameConflicts: built-in resources of the group count; a definition does not conflict with itself', (t) => {
  const apps = crd('things.apps', { group: 'apps', plural: 'deployments', kind: 'Thing' });
  const causes = nameConflicts(apps, RESOURCES, []);
  t.deepEqual(causes.map((c) => c.field), ['spec.names.plural']);
  t.regex(causes[0].message!, /already in use by the built-in resource deployments\.apps/);
  const self = crd('crontabs.stable.example.com');
  t.deepEqual(nameConflicts(self, crdResources(self), [self]), []);
});

test('protected groups need the approval annotation', (t) => {
  t.true(isProtectedGroup('k8s.io'));
  t.true(isProtectedGroup('x.k8s.io'));
  t.true(isProtectedGroup('a.kubernetes.io'));
  t.false(isProtectedGroup('k8s.io.example.com'));
  const c = crd('things.x.k8s.io', { group: 'x.k8s.io' });
  t.is(approvalCauses(c)[0].field, 'metadata.annotations[api-approved.kubernetes.io]');
  c.metadata.annotations = { 'api-approved.kubernetes.io': 'https://github.com/kubernetes/kubernetes/pull/1' };
  t.deepEqual(approvalCauses(c), []);
});

test('what a definition serves: one resource per served version, subresources, scope; storage for cleanup', (t) => {
  const c = crd('crontabs.stable.example.com', { scope: 'Cluster', shortNames: ['ct'] });
  const rs = crdResources(c);
  t.deepEqual(rs.map((r) => r.apiVersion), ['stable.example.com/v1beta1', 'stable.example.com/v1']);
  t.like(rs[1], { kind: 'CronTab', listKind: 'CronTabList', plural: 'crontabs', singular: 'crontab', namespaced: false, shortNames: ['ct'], subresources: ['status', 'scale'], hasStatus: true, crd: 'crontabs.stable.example.com' });
  t.deepEqual(rs[0].subresources, []);
  t.is(crdResources(c, { all: true }).length, 3);
  t.is(crdStorageResource(c)!.version, 'v1');
  // Once accepted, the accepted names are what is served.
  c.status = { acceptedNames: { plural: 'crontabs', kind: 'CronTab', shortNames: [] }, storedVersions: ['v1'], conditions: [] };
  t.deepEqual(servedNames(c).shortNames, []);
});
