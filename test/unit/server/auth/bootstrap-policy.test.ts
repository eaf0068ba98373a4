import test from 'ava';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles, reconcileClusterRole, reconcileClusterRoleBinding } from '../../../../src/server/auth/bootstrap-policy.js';
import { validateObject } from '../../../../src/api/validation/index.js';
import { R } from '../../../../src/api/resources.js';

test('the bootstrap objects are valid and carry the defaults\' labels and autoupdate', (t) => {
  for (const role of bootstrapClusterRoles()) {
    t.deepEqual(validateObject(R.clusterroles, role).causes, [], role.metadata.name);
    t.is(role.metadata.annotations?.['rbac.authorization.kubernetes.io/autoupdate'], 'true');
  }
  for (const b of bootstrapClusterRoleBindings()) t.deepEqual(validateObject(R.clusterrolebindings, b).causes, [], b.metadata.name);
  const names = bootstrapClusterRoles().map((r) => r.metadata.name);
  for (const n of ['cluster-admin', 'admin', 'edit', 'view', 'system:basic-user', 'system:discovery', 'system:public-info-viewer']) t.true(names.includes(n), n);
  const view = bootstrapClusterRoles().find((r) => r.metadata.name === 'view')!;
  t.deepEqual(view.aggregationRule, { clusterRoleSelectors: [{ matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }] });
  t.is(view.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-edit'], 'true', 'view feeds edit, edit feeds admin');
});

test('reconcile: missing rules come back, additions stay, autoupdate=false is left alone', (t) => {
  const want = bootstrapClusterRoles().find((r) => r.metadata.name === 'system:discovery')!;
  t.is(reconcileClusterRole(want, want), undefined);
  const stripped = { ...want, rules: [{ verbs: ['get'], nonResourceURLs: ['/extra'] }] };
  const fixed = reconcileClusterRole(stripped, want)!;
  t.deepEqual(fixed.rules, [{ verbs: ['get'], nonResourceURLs: ['/extra'] }, ...want.rules!]);
  t.is(reconcileClusterRole({ ...stripped, metadata: { ...stripped.metadata, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'false' } } }, want), undefined);
  const edit = bootstrapClusterRoles().find((r) => r.metadata.name === 'edit')!;
  t.is(reconcileClusterRole({ ...edit, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] }, edit), undefined, 'an aggregated role\'s rules are the controller\'s');
  const binding = bootstrapClusterRoleBindings()[0];
  t.is(reconcileClusterRoleBinding(binding, binding), undefined);
  t.deepEqual(reconcileClusterRoleBinding({ ...binding, subjects: [] }, binding)!.subjects, binding.subjects);
});
