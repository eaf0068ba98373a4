import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import { R } from '../../../../src/api/resources.js';
import type { KObject } from '../../../../src/api/types.js';
import { openStore } from '../../../../src/store/index.js';
import { Registry } from '../../../../src/server/registry.js';
import { InformerFactory } from '../../../../src/client/informer.js';
import { Auth, ServiceAccountTokens, serveTokenRequest } from '../../../../src/server/auth/index.js';
import { ensureBootstrapPolicy } from '../../../../src/server/auth/bootstrap-policy.js';

const req = (token: string) => ({ method: 'GET', headers: { authorization: `Bearer ${token}` }, headersDistinct: { authorization: [`Bearer ${token}`] }, socket: {} }) as unknown as IncomingMessage;
const code = async (p: Promise<unknown>) => p.then(() => 200, (err: { status?: { code?: number } }) => err.status?.code ?? -1);

test('RBAC callers get 503 until the policy caches have synced, the admin at once; an adopted admin token replaces the old one', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-auth-'));
  const store = await openStore(undefined);
  const informers = new InformerFactory(new Registry(store));
  t.teardown(async () => {
    informers.stop();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const registry = new Registry(store);
  await registry.bootstrapNamespaces();
  await ensureBootstrapPolicy(registry);
  await registry.create(R.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace: 'default' } });
  await registry.create(R.roles, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'pod-reader', namespace: 'default' }, rules: [{ verbs: ['list'], apiGroups: [''], resources: ['pods'] }] } as KObject);
  await registry.create(R.rolebindings, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'reader', namespace: 'default' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' }, subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'default' }] } as KObject);
  const tokens = await ServiceAccountTokens.load(dir, 'https://kubernetes.default.svc.cluster.local');
  const auth = new Auth({ adminToken: 'old-admin-token', tokens, informers, get: (r, ns, n) => registry.get(r, ns, n) });
  const sa = (await serveTokenRequest({ tokens, get: (r, ns, n) => registry.get(r, ns, n) }, 'default', 'reader', { spec: {} })).status!.token;

  t.is(await code(auth.check(req(sa), '/api/v1/namespaces/default/pods', {})), 503, 'no RBAC decision before the caches are loaded');
  t.is(await code(auth.check(req('old-admin-token'), '/api/v1/namespaces/default/pods', {})), 200, 'system:masters needs no policy');
  await auth.start();
  t.is(await code(auth.check(req(sa), '/api/v1/namespaces/default/pods', {})), 200);
  t.is(await code(auth.check(req(sa), '/api/v1/namespaces/kube-system/pods', {})), 403);

  auth.setAdminToken('the-cluster-admin-token');
  t.is(await code(auth.check(req('old-admin-token'), '/api/v1/pods', {})), 401);
  t.is(await code(auth.check(req('the-cluster-admin-token'), '/api/v1/pods', {})), 200);
});
