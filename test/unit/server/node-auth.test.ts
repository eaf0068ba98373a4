// Node credentials (MACs under a key derived from the admin token) and what a node may do.

import test from 'ava';
import { authenticate, joinSecret, kubeletToken, nodeForbidden, nodeMayUsePath, nodeToken, verifyNodeToken, type RequestAttributes } from '../../../src/server/node-auth.js';

const ADMIN = 'admin-token-admin-token-123456';

test('node tokens verify to their node, under this admin token only', (t) => {
  const tok = nodeToken(ADMIN, 'worker-1.example');
  t.is(verifyNodeToken(ADMIN, tok), 'worker-1.example');
  t.is(verifyNodeToken('another-admin-token-xxxxxxx', tok), undefined);
  // the name is covered by the MAC: swapping it in does not work
  t.is(verifyNodeToken(ADMIN, tok.replace('worker-1.example', 'worker-2.example')), undefined);
  t.is(verifyNodeToken(ADMIN, 'kln1.x'), undefined);
  t.is(verifyNodeToken(ADMIN, 'garbage'), undefined);
  t.throws(() => nodeToken(ADMIN, 'Bad_Name'));
  t.not(kubeletToken(ADMIN, 'a'), kubeletToken(ADMIN, 'b'));
  t.is(joinSecret(ADMIN).length, 32);
  t.is(joinSecret(ADMIN), joinSecret(ADMIN), 'several servers sharing the admin token agree on it');
});

test('authenticate: admin, node, nothing', (t) => {
  t.deepEqual(authenticate(`Bearer ${ADMIN}`, ADMIN), { kind: 'admin' });
  t.deepEqual(authenticate(`Bearer ${nodeToken(ADMIN, 'n1')}`, ADMIN), { kind: 'node', node: 'n1' });
  t.is(authenticate(undefined, ADMIN), undefined);
  t.is(authenticate('Basic abc', ADMIN), undefined);
  t.is(authenticate(`Bearer ${joinSecret(ADMIN)}`, ADMIN), undefined, 'the join secret is no API credential');
});

const a = (verb: RequestAttributes['verb'], resource: string, o: Partial<RequestAttributes> = {}): RequestAttributes => ({ verb, group: '', resource, ...o });

test('a node reads the cluster, writes its own Node, Lease, Pod statuses and Events, and nothing else', (t) => {
  const ok = (x: RequestAttributes) => t.is(nodeForbidden('n1', x), undefined, JSON.stringify(x));
  const no = (x: RequestAttributes, re: RegExp) => t.regex(nodeForbidden('n1', x) ?? '', re, JSON.stringify(x));
  ok(a('list', 'pods'));
  ok(a('watch', 'services'));
  ok(a('get', 'secrets', { namespace: 'default', name: 's' }));
  ok(a('create', 'nodes', { name: 'n1' }));
  ok(a('patch', 'nodes', { name: 'n1' }));
  ok(a('update', 'nodes', { name: 'n1', subresource: 'status' }));
  ok(a('update', 'leases', { group: 'coordination.k8s.io', namespace: 'kube-node-lease', name: 'n1' }));
  ok(a('update', 'pods', { subresource: 'status', namespace: 'default', name: 'p' }));
  ok(a('delete', 'pods', { namespace: 'default', name: 'p' }));
  ok(a('create', 'events', { namespace: 'default' }));
  ok(a('watch', 'persistentvolumeclaims'));
  ok(a('create', 'persistentvolumes', { name: 'pvc-1' }));
  ok(a('list', 'storageclasses', { group: 'storage.k8s.io' }));
  no(a('update', 'persistentvolumes', { name: 'pvc-1' }), /not change them/);
  no(a('patch', 'nodes', { name: 'n2' }), /User "system:node:n1" cannot patch resource "nodes".*node 'n1' cannot modify node 'n2'/);
  no(a('update', 'leases', { group: 'coordination.k8s.io', namespace: 'kube-node-lease', name: 'n2' }), /own Lease/);
  no(a('update', 'leases', { group: 'coordination.k8s.io', namespace: 'default', name: 'n1' }), /own Lease/);
  no(a('create', 'pods', { namespace: 'default' }), /not create or change/);
  no(a('create', 'pods', { namespace: 'default', subresource: 'eviction', name: 'p' }), /not allowed/);
  no(a('delete', 'services', { namespace: 'default', name: 's' }), /not allowed for nodes/);
  no(a('list', 'deployments', { group: 'apps' }), /deployments.apps is forbidden/);
  no(a('get', 'pods', { namespace: 'default', name: 'p', subresource: 'exec' }), /not allowed/);
  // ServiceAccount tokens of its Pods (the Pod binding is checked by the API server against the request)
  ok(a('get', 'serviceaccounts', { namespace: 'default', name: 'default' }));
  ok(a('create', 'serviceaccounts', { namespace: 'default', name: 'default', subresource: 'token' }));
  no(a('create', 'serviceaccounts', { namespace: 'default', name: 'x' }), /not allowed for nodes/);
  no(a('delete', 'serviceaccounts', { namespace: 'default', name: 'default', subresource: 'token' }), /only create tokens/);
});

test('a node may use discovery and the image transfer, never the kubeconfig endpoint', (t) => {
  t.true(nodeMayUsePath('GET', '/api/v1'));
  t.true(nodeMayUsePath('GET', '/apis'));
  t.true(nodeMayUsePath('GET', '/openapi/v3'));
  t.true(nodeMayUsePath('GET', '/version'));
  t.true(nodeMayUsePath('GET', '/v1-kubelite/nodes/n2/images'));
  t.false(nodeMayUsePath('GET', '/kubeconfig'));
  t.false(nodeMayUsePath('GET', '/metrics'));
  t.false(nodeMayUsePath('POST', '/v1-kubelite/nodes/n2/images'));
});
