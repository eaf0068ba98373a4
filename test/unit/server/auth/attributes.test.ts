import test from 'ava';
import { requestAttributes } from '../../../../src/server/auth/attributes.js';

const res = (method: string, path: string, query: Record<string, unknown> = {}) => {
  const a = requestAttributes(method, path, query);
  if (!a.resourceRequest) throw new Error(`${path} parsed as non-resource`);
  return a;
};

test('verbs from methods, list/watch/deletecollection without a name', (t) => {
  t.is(res('GET', '/api/v1/namespaces/a/pods/p').verb, 'get');
  t.is(res('GET', '/api/v1/namespaces/a/pods').verb, 'list');
  t.is(res('GET', '/api/v1/namespaces/a/pods', { watch: 'true' }).verb, 'watch');
  t.is(res('GET', '/api/v1/namespaces/a/pods', { watch: '1' }).verb, 'watch');
  t.is(res('GET', '/api/v1/watch/namespaces/a/pods').verb, 'watch');
  t.is(res('HEAD', '/api/v1/namespaces/a/pods/p').verb, 'get');
  t.is(res('POST', '/api/v1/namespaces/a/pods').verb, 'create');
  t.is(res('PUT', '/api/v1/namespaces/a/pods/p').verb, 'update');
  t.is(res('PATCH', '/api/v1/namespaces/a/pods/p').verb, 'patch');
  t.is(res('DELETE', '/api/v1/namespaces/a/pods/p').verb, 'delete');
  t.is(res('DELETE', '/api/v1/namespaces/a/pods').verb, 'deletecollection');
});

test('groups, namespaces, names and subresources', (t) => {
  t.like(res('GET', '/apis/apps/v1/namespaces/a/deployments/web/scale'), { apiGroup: 'apps', apiVersion: 'v1', namespace: 'a', resource: 'deployments', name: 'web', subresource: 'scale' });
  t.like(res('GET', '/api/v1/pods'), { apiGroup: '', namespace: '', resource: 'pods', name: '', verb: 'list' });
  t.like(res('GET', '/api/v1/nodes/n1'), { namespace: '', resource: 'nodes', name: 'n1' });
  t.like(res('POST', '/api/v1/namespaces/a/serviceaccounts/bot/token'), { verb: 'create', resource: 'serviceaccounts', name: 'bot', subresource: 'token' });
  t.like(res('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/system:basic-user'), { apiGroup: 'rbac.authorization.k8s.io', name: 'system:basic-user' });
  // A custom resource nobody told us about parses all the same.
  t.like(res('GET', '/apis/example.com/v1/namespaces/a/widgets'), { apiGroup: 'example.com', resource: 'widgets', verb: 'list' });
});

test('a Namespace is in itself; its status and finalize are subresources', (t) => {
  t.like(res('GET', '/api/v1/namespaces/a'), { resource: 'namespaces', name: 'a', namespace: 'a' });
  t.like(res('GET', '/api/v1/namespaces'), { resource: 'namespaces', name: '', namespace: '', verb: 'list' });
  t.like(res('PUT', '/api/v1/namespaces/a/finalize'), { resource: 'namespaces', name: 'a', subresource: 'finalize', namespace: 'a' });
  t.like(res('PUT', '/api/v1/namespaces/a/status'), { resource: 'namespaces', subresource: 'status' });
});

test('a field selector pinning metadata.name makes a list a request for that name', (t) => {
  t.like(res('GET', '/api/v1/namespaces/a/pods', { fieldSelector: 'metadata.name=p' }), { verb: 'list', name: 'p' });
  t.like(res('GET', '/api/v1/namespaces/a/pods', { watch: 'true', fieldSelector: 'status.phase=Running,metadata.name==p' }), { verb: 'watch', name: 'p' });
  t.like(res('GET', '/api/v1/namespaces/a/pods', { fieldSelector: 'metadata.name!=p' }), { name: '' });
  t.like(res('GET', '/api/v1/namespaces/a/pods', { fieldSelector: 'metadata.name=../x' }), { name: '' });
});

test('exec, attach and port-forward opened as a WebSocket GET are creates', (t) => {
  t.is(res('GET', '/api/v1/namespaces/a/pods/p/exec').verb, 'create');
  t.is(res('GET', '/api/v1/namespaces/a/pods/p/portforward').verb, 'create');
  t.is(res('POST', '/api/v1/namespaces/a/pods/p/attach').verb, 'create');
  t.is(res('GET', '/api/v1/namespaces/a/pods/p/log').verb, 'get');
});

test('discovery, /version, /openapi and malformed paths are non-resource requests', (t) => {
  for (const p of ['/api', '/api/v1', '/apis', '/apis/apps', '/apis/apps/v1', '/version', '/openapi/v3', '/metrics', '/api/v1/watch', '/api/v1/%zz/x']) {
    const a = requestAttributes('GET', p);
    t.false(a.resourceRequest, p);
    t.deepEqual(a, { resourceRequest: false, verb: 'get', path: p });
  }
  t.is(requestAttributes('POST', '/version').verb, 'post');
});
