import test from 'ava';
import { R } from '../../../../src/api/resources.js';
import { applyDefaults, validateObject } from '../../../../src/api/validation/index.js';
import type { KObject } from '../../../../src/api/types.js';

const check = (res: typeof R.roles, obj: Record<string, unknown>, old?: Record<string, unknown>) => {
  const o = { apiVersion: res.apiVersion, kind: res.kind, ...obj } as KObject;
  applyDefaults(res, o);
  return validateObject(res, o, old as KObject | undefined).causes.map((c) => `${c.field}: ${c.message}`);
};

test('rules: verbs required, resource rules need groups and resources, namespaced rules no URLs', (t) => {
  t.deepEqual(check(R.roles, { metadata: { name: 'r', namespace: 'a' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] }), []);
  t.deepEqual(check(R.roles, { metadata: { name: 'r', namespace: 'a' }, rules: [{ verbs: [], apiGroups: [''], resources: ['pods'] }] }), ['rules[0].verbs: Required value: verbs must contain at least one value']);
  t.deepEqual(check(R.roles, { metadata: { name: 'r', namespace: 'a' }, rules: [{ verbs: ['get'] }] }), ['rules[0].apiGroups: Required value: resource rules must supply at least one api group', 'rules[0].resources: Required value: resource rules must supply at least one resource']);
  t.deepEqual(check(R.roles, { metadata: { name: 'r', namespace: 'a' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/x'] }] }), ['rules[0].nonResourceURLs: Invalid value: []string{"/x"}: namespaced rules cannot apply to non-resource URLs']);
  t.deepEqual(check(R.clusterroles, { metadata: { name: 'system:x' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/x'], resources: ['pods'] }] }), ['rules[0].nonResourceURLs: Invalid value: []string{"/x"}: rules cannot apply to both regular resources and non-resource URLs']);
  t.deepEqual(check(R.clusterroles, { metadata: { name: 'a/b' }, rules: [] }), ['metadata.name: Invalid value: "a/b": may not contain \'/\'']);
});

test('bindings: roleRef kinds and group, subjects, roleRef immutable; User subjects get the RBAC group', (t) => {
  const rb = { metadata: { name: 'b', namespace: 'a' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' }, subjects: [{ kind: 'User', name: 'bob' }, { kind: 'ServiceAccount', name: 'bot' }] };
  t.deepEqual(check(R.rolebindings, rb), []);
  t.deepEqual(check(R.clusterrolebindings, { ...rb, metadata: { name: 'b' } }), ['roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"', 'subjects[1].namespace: Required value']);
  t.deepEqual(check(R.rolebindings, { ...rb, roleRef: { apiGroup: 'x', kind: 'Role', name: '' } }), ['roleRef.apiGroup: Unsupported value: "x": supported values: "rbac.authorization.k8s.io"', 'roleRef.name: Required value']);
  t.deepEqual(check(R.rolebindings, { ...rb, subjects: [{ kind: 'Robot', name: 'r2' }] }), ['subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"']);
  t.deepEqual(check(R.rolebindings, { ...rb, roleRef: { ...rb.roleRef, name: 'other' } }, { ...rb, metadata: { ...rb.metadata, uid: 'u', resourceVersion: '1' } }).filter((c) => c.startsWith('roleRef')), ['roleRef: Invalid value: map[string]string{"apiGroup":"rbac.authorization.k8s.io", "kind":"Role", "name":"other"}: cannot change roleRef']);
});
