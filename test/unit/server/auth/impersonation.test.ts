import test from 'ava';
import { ImpersonationError, impersonatedUser, impersonationChecks, impersonationRequest } from '../../../../src/server/auth/impersonation.js';

test('no headers, no impersonation; groups or extras without a user are refused', (t) => {
  t.is(impersonationRequest({ authorization: 'Bearer x' }), undefined);
  t.throws(() => impersonationRequest({ 'impersonate-group': ['devs'] }), { instanceOf: ImpersonationError });
  t.throws(() => impersonationRequest({ 'impersonate-user': ['a', 'b'] }), { instanceOf: ImpersonationError });
});

test('a user: one impersonate check on users, system:authenticated added', (t) => {
  const r = impersonationRequest({ 'impersonate-user': ['jane'] })!;
  t.deepEqual(impersonationChecks(r).map((a) => [a.verb, a.apiGroup, a.resource, a.name, a.namespace]), [['impersonate', '', 'users', 'jane', '']]);
  t.deepEqual(impersonatedUser(r), { username: 'jane', groups: ['system:authenticated'] });
});

test('a ServiceAccount: checked as serviceaccounts in its namespace, with its groups', (t) => {
  const r = impersonationRequest({ 'impersonate-user': ['system:serviceaccount:ns1:bot'] })!;
  t.like(impersonationChecks(r)[0], { resource: 'serviceaccounts', namespace: 'ns1', name: 'bot', verb: 'impersonate' });
  t.deepEqual(impersonatedUser(r).groups, ['system:serviceaccounts', 'system:serviceaccounts:ns1', 'system:authenticated']);
});

test('groups, uid and extras each need their own permission', (t) => {
  const r = impersonationRequest({ 'impersonate-user': ['jane'], 'impersonate-group': ['devs', 'ops'], 'impersonate-uid': ['u1'], 'impersonate-extra-scopes': ['view', 'edit'], 'impersonate-extra-example.com%2fteam': ['a'] })!;
  const checks = impersonationChecks(r).map((a) => `${a.apiGroup}/${a.resource}${a.subresource ? '/' + a.subresource : ''}:${a.name}`);
  t.deepEqual(checks, ['/users:jane', '/groups:devs', '/groups:ops', 'authentication.k8s.io/userextras/scopes:view', 'authentication.k8s.io/userextras/scopes:edit', 'authentication.k8s.io/userextras/example.com/team:a', 'authentication.k8s.io/uids:u1']);
  t.deepEqual(impersonatedUser(r), { username: 'jane', uid: 'u1', groups: ['devs', 'ops', 'system:authenticated'], extra: { scopes: ['view', 'edit'], 'example.com/team': ['a'] } });
});

test('explicit groups replace a ServiceAccount\'s; anonymous stays unauthenticated', (t) => {
  t.deepEqual(impersonatedUser(impersonationRequest({ 'impersonate-user': ['system:serviceaccount:a:b'], 'impersonate-group': ['x'] })!).groups, ['x', 'system:authenticated']);
  t.deepEqual(impersonatedUser(impersonationRequest({ 'impersonate-user': ['system:anonymous'] })!).groups, ['system:unauthenticated']);
});
