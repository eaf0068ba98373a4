import test from 'ava';
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from '../../../../src/api/types.js';
import { requestAttributes, type Attributes } from '../../../../src/server/auth/attributes.js';
import { authorize, forbiddenMessage, resourceMatches, nonResourceURLMatches, rulesFor, subjectKey, userKeys, type PolicySource } from '../../../../src/server/auth/rbac.js';
import type { UserInfo } from '../../../../src/server/auth/user.js';

const RBAC = 'rbac.authorization.k8s.io';

/** A PolicySource over plain arrays, indexed the way PolicyIndex indexes informers. */
function policy(o: { roles?: Role[]; clusterRoles?: ClusterRole[]; roleBindings?: RoleBinding[]; clusterRoleBindings?: ClusterRoleBinding[] }): PolicySource {
  const hit = (subjects: Subject[] | undefined, ns: string, keys: string[]) => (subjects ?? []).some((s) => keys.includes(subjectKey(s, ns) ?? ''));
  return {
    clusterRoleBindings: (keys) => (o.clusterRoleBindings ?? []).filter((b) => hit(b.subjects, '', keys)),
    roleBindings: (ns, keys) => (o.roleBindings ?? []).filter((b) => b.metadata.namespace === ns && hit(b.subjects, ns, keys)),
    clusterRole: (name) => (o.clusterRoles ?? []).find((r) => r.metadata.name === name),
    role: (ns, name) => (o.roles ?? []).find((r) => r.metadata.namespace === ns && r.metadata.name === name),
  };
}

const role = (ns: string, name: string, rules: PolicyRule[]): Role => ({ apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { namespace: ns, name }, rules });
const clusterRole = (name: string, rules: PolicyRule[]): ClusterRole => ({ apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: { name }, rules });
const rb = (ns: string, name: string, ref: { kind: string; name: string }, subjects: Subject[]): RoleBinding => ({ apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { namespace: ns, name }, roleRef: { apiGroup: RBAC, ...ref }, subjects });
const crb = (name: string, roleName: string, subjects: Subject[]): ClusterRoleBinding => ({ apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: roleName }, subjects });

const sa = (ns: string, name: string): UserInfo => ({ username: `system:serviceaccount:${ns}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'] });
const bob: UserInfo = { username: 'bob', groups: ['devs', 'system:authenticated'] };
const attrs = (method: string, path: string, q: Record<string, unknown> = {}): Attributes => requestAttributes(method, path, q);

test('a Role bound to a ServiceAccount grants its verbs in its namespace only', (t) => {
  const p = policy({
    roles: [role('a', 'reader', [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }])],
    roleBindings: [rb('a', 'r', { kind: 'Role', name: 'reader' }, [{ kind: 'ServiceAccount', name: 'bot' }])],
  });
  const d = authorize(p, sa('a', 'bot'), attrs('GET', '/api/v1/namespaces/a/pods'));
  t.deepEqual(d, { allowed: true, reason: 'RBAC: allowed by RoleBinding "r/a" of Role "reader" to ServiceAccount "bot/a"' });
  t.false(authorize(p, sa('a', 'bot'), attrs('GET', '/api/v1/namespaces/b/pods')).allowed);
  t.false(authorize(p, sa('a', 'bot'), attrs('DELETE', '/api/v1/namespaces/a/pods/x')).allowed);
  t.false(authorize(p, sa('b', 'bot'), attrs('GET', '/api/v1/namespaces/a/pods')).allowed, 'same name, other namespace');
  t.false(authorize(p, sa('a', 'bot'), attrs('GET', '/api/v1/pods')).allowed, 'a RoleBinding never grants across namespaces');
});

test('ClusterRoleBindings grant everywhere; a RoleBinding to a ClusterRole grants it in one namespace', (t) => {
  const view = clusterRole('view', [{ verbs: ['get', 'list', 'watch'], apiGroups: ['', 'apps'], resources: ['pods', 'deployments'] }]);
  const p = policy({ clusterRoles: [view], clusterRoleBindings: [crb('devs-view', 'view', [{ kind: 'Group', apiGroup: RBAC, name: 'devs' }])], roleBindings: [rb('x', 'v', { kind: 'ClusterRole', name: 'view' }, [{ kind: 'User', apiGroup: RBAC, name: 'carol' }])] });
  t.true(authorize(p, bob, attrs('GET', '/api/v1/pods')).allowed);
  t.true(authorize(p, bob, attrs('GET', '/apis/apps/v1/namespaces/q/deployments/web')).allowed);
  t.regex(authorize(p, bob, attrs('GET', '/api/v1/pods')).reason, /ClusterRoleBinding "devs-view" of ClusterRole "view" to Group "devs"/);
  const carol: UserInfo = { username: 'carol', groups: ['system:authenticated'] };
  t.true(authorize(p, carol, attrs('GET', '/api/v1/namespaces/x/pods')).allowed);
  t.false(authorize(p, carol, attrs('GET', '/api/v1/namespaces/y/pods')).allowed);
});

test('resourceNames, subresources, `*` and */subresource', (t) => {
  const r = (rule: Partial<PolicyRule>): PolicyRule => ({ verbs: ['*'], apiGroups: ['*'], ...rule });
  t.true(resourceMatches(r({ resources: ['pods/log'] }), 'pods', 'log'));
  t.false(resourceMatches(r({ resources: ['pods'] }), 'pods', 'log'), 'pods does not grant pods/log');
  t.true(resourceMatches(r({ resources: ['*/scale'] }), 'deployments', 'scale'));
  t.false(resourceMatches(r({ resources: ['*/scale'] }), 'deployments', ''));
  t.true(resourceMatches(r({ resources: ['*'] }), 'anything', 'sub'));
  const p = policy({
    roles: [role('a', 'one', [{ verbs: ['get', 'update'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['cfg'] }])],
    roleBindings: [rb('a', 'b', { kind: 'Role', name: 'one' }, [{ kind: 'User', apiGroup: RBAC, name: 'bob' }])],
  });
  t.true(authorize(p, bob, attrs('GET', '/api/v1/namespaces/a/configmaps/cfg')).allowed);
  t.false(authorize(p, bob, attrs('GET', '/api/v1/namespaces/a/configmaps/other')).allowed);
  t.false(authorize(p, bob, attrs('GET', '/api/v1/namespaces/a/configmaps')).allowed, 'a list names no resource');
  t.false(authorize(p, bob, attrs('POST', '/api/v1/namespaces/a/configmaps')).allowed, 'a create names no resource either');
});

test('nonResourceURLs: exact, prefix* and *', (t) => {
  const rule: PolicyRule = { verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/*'] };
  t.true(nonResourceURLMatches(rule, '/healthz'));
  t.true(nonResourceURLMatches(rule, '/apis/apps/v1'));
  t.false(nonResourceURLMatches(rule, '/healthz/etcd'));
  t.false(nonResourceURLMatches(rule, '/api'));
  const p = policy({ clusterRoles: [clusterRole('d', [rule])], clusterRoleBindings: [crb('d', 'd', [{ kind: 'Group', apiGroup: RBAC, name: 'system:authenticated' }])] });
  t.true(authorize(p, bob, attrs('GET', '/apis/apps')).allowed);
  t.false(authorize(p, bob, attrs('POST', '/apis/apps')).allowed);
  t.false(authorize(p, bob, attrs('GET', '/metrics')).allowed);
});

test('a binding to a missing role is the denial\'s reason', (t) => {
  const p = policy({ roleBindings: [rb('a', 'b', { kind: 'Role', name: 'nope' }, [{ kind: 'User', apiGroup: RBAC, name: 'bob' }]), rb('a', 'c', { kind: 'ClusterRole', name: 'gone' }, [{ kind: 'Group', apiGroup: RBAC, name: 'devs' }])] });
  const d = authorize(p, bob, attrs('GET', '/api/v1/namespaces/a/pods'));
  t.false(d.allowed);
  t.is(d.reason, 'RBAC: [role.rbac.authorization.k8s.io "nope" not found, clusterrole.rbac.authorization.k8s.io "gone" not found]');
});

test('subject keys: a ServiceAccount subject without a namespace is the binding\'s', (t) => {
  t.is(subjectKey({ kind: 'ServiceAccount', name: 'x' }, 'ns'), 'ServiceAccount:ns/x');
  t.is(subjectKey({ kind: 'ServiceAccount', name: 'x', namespace: 'o' }, 'ns'), 'ServiceAccount:o/x');
  t.is(subjectKey({ kind: 'ServiceAccount', name: 'x' }, ''), undefined);
  t.is(subjectKey({ kind: 'Robot', name: 'x' }), undefined);
  t.deepEqual(userKeys(sa('a', 'b')), ['User:system:serviceaccount:a:b', 'Group:system:serviceaccounts', 'Group:system:serviceaccounts:a', 'Group:system:authenticated', 'ServiceAccount:a/b']);
});

test('rulesFor lists cluster-wide and namespace rules', (t) => {
  const p = policy({
    clusterRoles: [clusterRole('basic', [{ verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'] }])],
    clusterRoleBindings: [crb('basic', 'basic', [{ kind: 'Group', apiGroup: RBAC, name: 'system:authenticated' }])],
    roles: [role('a', 'r', [{ verbs: ['list'], apiGroups: [''], resources: ['pods'] }])],
    roleBindings: [rb('a', 'r', { kind: 'Role', name: 'r' }, [{ kind: 'User', apiGroup: RBAC, name: 'bob' }])],
  });
  t.is(rulesFor(p, bob, 'a').rules.length, 2);
  t.is(rulesFor(p, bob, 'b').rules.length, 1);
});

test('403 messages in Kubernetes\' words', (t) => {
  const u = sa('a', 'bot');
  t.is(forbiddenMessage(u, attrs('GET', '/api/v1/namespaces/b/pods')), 'User "system:serviceaccount:a:bot" cannot list resource "pods" in API group "" in the namespace "b"');
  t.is(forbiddenMessage(u, attrs('GET', '/api/v1/nodes')), 'User "system:serviceaccount:a:bot" cannot list resource "nodes" in API group "" at the cluster scope');
  t.is(forbiddenMessage(u, attrs('PATCH', '/apis/apps/v1/namespaces/a/deployments/w/scale'), 'RBAC: x'), 'User "system:serviceaccount:a:bot" cannot patch resource "deployments/scale" in API group "apps" in the namespace "a": RBAC: x');
  t.is(forbiddenMessage(u, attrs('GET', '/metrics')), 'User "system:serviceaccount:a:bot" cannot get path "/metrics"');
});
