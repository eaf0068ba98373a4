// In-cluster access end to end on a real server with its agent, proxy and DNS: Pods get the
// kube-api-access volume (a bound ServiceAccount token, the cluster CA, the namespace) and the
// KUBERNETES_SERVICE_* variables; the official JavaScript client's loadFromCluster() and kubectl in a
// Pod reach the API through the `kubernetes` Service with no configuration, and RBAC decides what they
// may do. Also the bad input: expired, forged, wrong-audience tokens and tokens of deleted
// ServiceAccounts or Pods (401), requests outside the account's Roles and impersonation without the
// verb (403), and the admin token on the address Pods use (401).

import test from 'ava';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { SignJWT, importPKCS8, generateKeyPair } from 'jose';
import type { Pod } from '../../src/api/types.js';
import { cleanupInstance, ROOT, startTestServer, waitFor, waitForServiceRoute, type TestServer } from '../helpers/server.js';
import { kubectl132Binary, kubectlFor, type Kubectl } from '../helpers/kubectl.js';

const SLOT = 34;
const KUBECTL_BIN = kubectl132Binary();

let server: TestServer;
let kubectl: Kubectl;
let apiURL: URL;
let gateway: string;

const SCRIPT = `
import fs from 'node:fs';
import * as k8s from '@kubernetes/client-node';
const kc = new k8s.KubeConfig();
kc.loadFromCluster();
const core = kc.makeApiClient(k8s.CoreV1Api);
const ns = process.argv[2] || fs.readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8');
try {
  const list = await core.listNamespacedPod({ namespace: ns });
  console.log(JSON.stringify({ ok: true, server: kc.getCurrentCluster().server, names: list.items.map((p) => p.metadata.name) }));
} catch (err) {
  let body = err.body;
  try { body = JSON.parse(body); } catch {}
  console.log(JSON.stringify({ ok: false, code: err.code, body }));
}
`;

test.before(async () => {
  server = await startTestServer({ slot: SLOT, args: ['--disable', 'ingress'] });
  await waitForServiceRoute(server.slot);
  kubectl = kubectlFor(server.kubeconfig, KUBECTL_BIN);
  apiURL = new URL(fs.readFileSync(server.kubeconfig, 'utf8').match(/server: (\S+)/)![1]);
  gateway = server.slot.podCIDR.replace(/0\/24$/, '1');
  for (const ns of ['ic-a', 'ic-b']) await k(['create', 'namespace', ns]);
  await k(['-n', 'ic-a', 'create', 'serviceaccount', 'lister']);
  await k(['-n', 'ic-a', 'create', 'role', 'pod-reader', '--verb=get,list,watch', '--resource=pods']);
  await k(['-n', 'ic-a', 'create', 'rolebinding', 'lister-reads', '--role=pod-reader', '--serviceaccount=ic-a:lister']);
  await k(['-n', 'ic-a', 'create', 'configmap', 'script', `--from-literal=list.mjs=${SCRIPT}`]);
});

test.after.always(async () => {
  await server?.stop();
  cleanupInstance(server);
  kubectl?.cleanup();
});

async function k(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

async function podReady(ns: string, name: string): Promise<Pod> {
  return (await waitFor(
    async () => {
      const p = JSON.parse(await k(['-n', ns, 'get', 'pod', name, '-o', 'json'])) as Pod;
      return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
    },
    120_000,
    `pod ${ns}/${name} ready`,
    250,
  ))!;
}

/** A Pod running the JavaScript client: node from the kubelite/node image, client-node from this repo. */
async function clientPod(name: string, extra: Record<string, unknown> = {}): Promise<Pod> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'ic-a' },
    spec: {
      serviceAccountName: 'lister',
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'app',
          image: 'kubelite/node:20',
          command: ['sleep', '3600'],
          volumeMounts: [
            { name: 'modules', mountPath: '/app/node_modules', readOnly: true },
            { name: 'script', mountPath: '/app/script' },
          ],
        },
      ],
      volumes: [
        { name: 'modules', hostPath: { path: path.join(ROOT, 'node_modules'), type: 'Directory' } },
        { name: 'script', configMap: { name: 'script' } },
      ],
      ...extra,
    },
  };
  await k(['apply', '-f', '-'], JSON.stringify(pod));
  return podReady('ic-a', name);
}

async function listFromPod(pod: string, ns?: string): Promise<{ ok: boolean; code?: number; names?: string[]; server?: string; body?: { message?: string; reason?: string } }> {
  const out = await k(['-n', 'ic-a', 'exec', pod, '--', 'node', '/app/script/list.mjs', ...(ns ? [ns] : [])]);
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** An HTTPS request to the API on `host` (loopback or the pod bridge, both on this machine). */
function request(host: string, port: number, urlPath: string, token: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host, port, path: urlPath, method: 'GET', rejectUnauthorized: false, headers: { Authorization: `Bearer ${token}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const api = (urlPath: string, token: string, headers?: Record<string, string>) => request(apiURL.hostname, Number(apiURL.port), urlPath, token, headers);

async function createToken(ns: string, sa: string, ...flags: string[]): Promise<string> {
  return (await k(['-n', ns, 'create', 'token', sa, ...flags])).trim();
}

test.serial('Pods get the kube-api-access volume and KUBERNETES_SERVICE_*; loadFromCluster() lists its namespace and is refused another until a RoleBinding grants it', async (t) => {
  const pod = await clientPod('js-client');
  t.is(pod.spec.serviceAccountName, 'lister');
  const vol = pod.spec.volumes!.find((v) => v.name.startsWith('kube-api-access-'));
  t.truthy(vol?.projected, 'the projected token volume was added');
  t.true(pod.spec.containers[0].volumeMounts!.some((m) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount' && m.readOnly));

  const env = await k(['-n', 'ic-a', 'exec', 'js-client', '--', 'env']);
  t.regex(env, new RegExp(`^KUBERNETES_SERVICE_HOST=${server.slot.serviceCIDR.replace(/0\/24$/, '1')}$`, 'm'));
  t.regex(env, /^KUBERNETES_SERVICE_PORT=443$/m);
  t.regex(env, /^KUBERNETES_PORT_443_TCP_PROTO=tcp$/m);
  t.is((await k(['-n', 'ic-a', 'exec', 'js-client', '--', 'cat', '/var/run/secrets/kubernetes.io/serviceaccount/namespace'])).trim(), 'ic-a');
  const ca = await k(['-n', 'ic-a', 'exec', 'js-client', '--', 'cat', '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt']);
  t.is(ca, fs.readFileSync(path.join(server.dataDir, 'pki', 'ca.crt'), 'utf8'));
  const token = (await k(['-n', 'ic-a', 'exec', 'js-client', '--', 'cat', '/var/run/secrets/kubernetes.io/serviceaccount/token'])).trim();
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { sub: string; aud: string[]; exp: number; iat: number; 'kubernetes.io': { pod: { name: string; uid: string } } };
  t.is(claims.sub, 'system:serviceaccount:ic-a:lister');
  t.deepEqual(claims.aud, ['https://kubernetes.default.svc.cluster.local']);
  t.is(claims.exp - claims.iat, 3607);
  t.deepEqual(claims['kubernetes.io'].pod, { name: 'js-client', uid: pod.metadata.uid });

  const own = await listFromPod('js-client');
  t.true(own.ok, JSON.stringify(own));
  t.true(own.names!.includes('js-client'));
  t.is(own.server, `https://${server.slot.serviceCIDR.replace(/0\/24$/, '1')}:443`);

  const refused = await listFromPod('js-client', 'ic-b');
  t.false(refused.ok);
  t.is(refused.code, 403);
  t.is(refused.body?.reason, 'Forbidden');
  t.is(refused.body?.message, 'pods is forbidden: User "system:serviceaccount:ic-a:lister" cannot list resource "pods" in API group "" in the namespace "ic-b"');

  await k(['-n', 'ic-b', 'create', 'rolebinding', 'lister-views', '--clusterrole=view', '--serviceaccount=ic-a:lister']);
  const granted = await listFromPod('js-client', 'ic-b');
  t.true(granted.ok, JSON.stringify(granted));
  t.deepEqual(granted.names, []);
});

test.serial('kubectl in a Pod works with no configuration', async (t) => {
  if (!KUBECTL_BIN) return t.fail('no kubectl 1.32 binary to mount into the Pod');
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'kubectl', namespace: 'ic-a' },
    spec: {
      serviceAccountName: 'lister',
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'app', image: 'kubelite/echo:1', volumeMounts: [{ name: 'kubectl', mountPath: '/usr/local/bin/kubectl', readOnly: true }] }],
      volumes: [{ name: 'kubectl', hostPath: { path: KUBECTL_BIN, type: 'File' } }],
    },
  };
  await k(['apply', '-f', '-'], JSON.stringify(pod));
  await podReady('ic-a', 'kubectl');
  const list = await kubectl(['-n', 'ic-a', 'exec', 'kubectl', '--', 'kubectl', 'get', 'pods', '-o', 'name']);
  t.is(list.code, 0, list.stderr);
  t.regex(list.stdout, /^pod\/kubectl$/m);
  const who = await k(['-n', 'ic-a', 'exec', 'kubectl', '--', 'kubectl', 'auth', 'whoami', '-o', 'json']);
  const info = JSON.parse(who) as { status: { userInfo: { username: string; groups: string[]; extra: Record<string, string[]> } } };
  t.is(info.status.userInfo.username, 'system:serviceaccount:ic-a:lister');
  t.deepEqual(info.status.userInfo.extra['authentication.kubernetes.io/pod-name'], ['kubectl']);
  const denied = await kubectl(['-n', 'ic-a', 'exec', 'kubectl', '--', 'kubectl', 'get', 'secrets']);
  t.not(denied.code, 0);
  t.regex(denied.stderr, /secrets is forbidden: User "system:serviceaccount:ic-a:lister" cannot list resource "secrets" in API group "" in the namespace "ic-a"/);
});

test.serial('kubectl auth can-i for a ServiceAccount, with --as and with its own token', async (t) => {
  const as = '--as=system:serviceaccount:ic-a:lister';
  t.is((await kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'ic-a', as])).stdout.trim(), 'yes');
  const no = await kubectl(['auth', 'can-i', 'delete', 'pods', '-n', 'ic-a', as]);
  t.is(no.stdout.trim(), 'no');
  t.is(no.code, 1);
  t.is((await kubectl(['auth', 'can-i', 'get', 'pods', '-n', 'ic-b', as])).stdout.trim(), 'yes');
  t.is((await kubectl(['auth', 'can-i', 'create', 'deployments.apps', '-n', 'ic-b', as])).stdout.trim(), 'no');
  const list = await k(['auth', 'can-i', '--list', '-n', 'ic-a', as]);
  t.regex(list, /^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
  t.regex(list, /selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/);
  // The admin is cluster-admin through system:masters.
  t.is((await kubectl(['auth', 'can-i', '*', '*', '--all-namespaces'])).stdout.trim(), 'yes');

  const token = await createToken('ic-a', 'lister');
  // The issuer's discovery documents name the key the token is signed with.
  const jwks = JSON.parse(await k(['get', '--raw', '/openid/v1/jwks'])) as { keys: { kid: string; alg: string }[] };
  t.is(jwks.keys[0].kid, (JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { kid: string }).kid);
  t.like(JSON.parse(await k(['get', '--raw', '/.well-known/openid-configuration'])), { issuer: 'https://kubernetes.default.svc.cluster.local' });
  const own = await kubectl(['--kubeconfig=/dev/null', `--server=https://${apiURL.host}`, `--certificate-authority=${path.join(server.dataDir, 'pki', 'ca.crt')}`, `--token=${token}`, 'auth', 'can-i', 'watch', 'pods', '-n', 'ic-a']);
  t.is(own.stdout.trim(), 'yes', own.stderr);
});

test.serial('bad tokens are 401: expired, forged, wrong audience, of a deleted ServiceAccount, bound to a deleted Pod; the admin token is refused where Pods connect', async (t) => {
  await k(['-n', 'ic-a', 'create', 'serviceaccount', 'doomed']);
  await k(['-n', 'ic-a', 'create', 'rolebinding', 'doomed-view', '--clusterrole=view', '--serviceaccount=ic-a:doomed']);
  const good = await createToken('ic-a', 'doomed');
  t.is((await api('/api/v1/namespaces/ic-a/pods', good)).status, 200);

  // Expired: signed with the server's own key, expired two minutes ago (beyond the minute of leeway).
  const claims = JSON.parse(Buffer.from(good.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
  const header = JSON.parse(Buffer.from(good.split('.')[0], 'base64url').toString()) as { kid: string };
  const key = await importPKCS8(fs.readFileSync(path.join(server.dataDir, 'pki', 'sa.key'), 'utf8'), 'ES256');
  const now = Math.floor(Date.now() / 1000);
  const expired = await new SignJWT({ ...claims, iat: now - 3600, nbf: now - 3600, exp: now - 120 }).setProtectedHeader({ alg: 'ES256', kid: header.kid }).sign(key);
  const r1 = await api('/api/v1/namespaces/ic-a/pods', expired);
  t.is(r1.status, 401);
  t.like(JSON.parse(r1.body), { kind: 'Status', reason: 'Unauthorized', code: 401 });

  // Forged: the same claims signed by another key.
  const other = await generateKeyPair('ES256');
  const forged = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'ES256', kid: header.kid }).sign(other.privateKey);
  t.is((await api('/api/v1/namespaces/ic-a/pods', forged)).status, 401);
  // Tampered: the payload changed under the original signature.
  const [h, , s] = good.split('.');
  const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'system:serviceaccount:kube-system:default' })).toString('base64url')}.${s}`;
  t.is((await api('/api/v1/namespaces/ic-a/pods', tampered)).status, 401);
  // alg none.
  const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${good.split('.')[1]}.`;
  t.is((await api('/api/v1/namespaces/ic-a/pods', none)).status, 401);

  // Wrong audience: a valid token for someone else's audience is no key to the API.
  const foreign = await createToken('ic-a', 'doomed', '--audience=https://vault.example');
  t.is((await api('/api/v1/namespaces/ic-a/pods', foreign)).status, 401);
  const review = JSON.parse(await k(['create', '-o', 'json', '-f', '-'], JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: foreign, audiences: ['https://vault.example'] } }))) as { status: { authenticated: boolean; user: { username: string }; audiences: string[] } };
  t.true(review.status.authenticated, 'TokenReview accepts it for its own audience');
  t.is(review.status.user.username, 'system:serviceaccount:ic-a:doomed');

  // A ServiceAccount deleted: its tokens die with it, however long they had left.
  await k(['-n', 'ic-a', 'delete', 'serviceaccount', 'doomed']);
  await waitFor(async () => (await api('/api/v1/namespaces/ic-a/pods', good)).status === 401, 10_000, 'the deleted account\'s token refused');
  // Recreated under the same name: a new uid, the old token stays dead.
  await k(['-n', 'ic-a', 'create', 'serviceaccount', 'doomed']);
  t.is((await api('/api/v1/namespaces/ic-a/pods', good)).status, 401);

  // A Pod deleted: the token it had mounted stops working.
  const pod = await clientPod('short-lived');
  const podToken = (await k(['-n', 'ic-a', 'exec', 'short-lived', '--', 'cat', '/var/run/secrets/kubernetes.io/serviceaccount/token'])).trim();
  t.is((await api('/api/v1/namespaces/ic-a/pods', podToken)).status, 200);
  await k(['-n', 'ic-a', 'delete', 'pod', 'short-lived', '--wait=true']);
  await waitFor(async () => (await api('/api/v1/namespaces/ic-a/pods', podToken)).status === 401, 30_000, 'the deleted pod\'s token refused');
  t.truthy(pod.metadata.uid);

  // The address Pods use takes ServiceAccount tokens only: the admin token is refused there.
  const ep = JSON.parse(await k(['-n', 'default', 'get', 'endpoints', 'kubernetes', '-o', 'json'])) as { subsets: { addresses: { ip: string }[]; ports: { port: number }[] }[] };
  t.is(ep.subsets[0].addresses[0].ip, gateway);
  const podPort = ep.subsets[0].ports[0].port;
  const adminToken = fs.readFileSync(path.join(server.dataDir, 'token'), 'utf8').trim();
  t.is((await request(gateway, podPort, '/api/v1/namespaces', adminToken)).status, 401);
  t.is((await api('/api/v1/namespaces', adminToken)).status, 200, 'the admin token still works on 127.0.0.1');
  const fresh = await createToken('ic-a', 'lister');
  t.is((await request(gateway, podPort, '/api/v1/namespaces/ic-a/pods', fresh)).status, 200);
});

test.serial('403s: outside the account\'s Roles, impersonation without the verb, with Kubernetes\' wording', async (t) => {
  const token = await createToken('ic-a', 'lister');
  const r = await api('/apis/apps/v1/namespaces/ic-a/deployments/web', token);
  t.is(r.status, 403);
  t.like(JSON.parse(r.body), {
    kind: 'Status',
    code: 403,
    reason: 'Forbidden',
    message: 'deployments.apps "web" is forbidden: User "system:serviceaccount:ic-a:lister" cannot get resource "deployments" in API group "apps" in the namespace "ic-a"',
    details: { name: 'web', group: 'apps', kind: 'deployments' },
  });
  const nodes = await api('/api/v1/nodes', token);
  t.is(JSON.parse(nodes.body).message, 'nodes is forbidden: User "system:serviceaccount:ic-a:lister" cannot list resource "nodes" in API group "" at the cluster scope');
  const metrics = await api('/metrics', token);
  t.is(metrics.status, 403);
  t.is(JSON.parse(metrics.body).message, 'forbidden: User "system:serviceaccount:ic-a:lister" cannot get path "/metrics"');
  // A RoleBinding to a Role that does not exist says so.
  await k(['-n', 'ic-a', 'create', 'rolebinding', 'dangling', '--role=nope', '--serviceaccount=ic-a:lister']);
  const dangling = await api('/api/v1/namespaces/ic-a/secrets', token);
  t.regex(JSON.parse(dangling.body).message, /cannot list resource "secrets" in API group "" in the namespace "ic-a": RBAC: role\.rbac\.authorization\.k8s\.io "nope" not found$/);

  const imp = await api('/api/v1/namespaces/ic-a/pods', token, { 'Impersonate-User': 'kubelite-admin' });
  t.is(imp.status, 403);
  t.is(JSON.parse(imp.body).message, 'users "kubelite-admin" is forbidden: User "system:serviceaccount:ic-a:lister" cannot impersonate resource "users" in API group "" at the cluster scope');
  const impGroup = await api('/api/v1/namespaces/ic-a/pods', token, { 'Impersonate-User': 'x', 'Impersonate-Group': 'system:masters' });
  t.is(impGroup.status, 403);
  const kc = await kubectl(['get', 'pods', '-n', 'ic-a', '--as=system:serviceaccount:ic-a:lister', '--as-group=system:masters', `--token=${token}`]);
  t.not(kc.code, 0);
  // Impersonation granted by RBAC: a Role with the verb lets the account act as another account.
  await k(['-n', 'ic-a', 'create', 'role', 'be-doomed', '--verb=impersonate', '--resource=serviceaccounts', '--resource-name=doomed']);
  await k(['-n', 'ic-a', 'create', 'rolebinding', 'lister-be-doomed', '--role=be-doomed', '--serviceaccount=ic-a:lister']);
  // doomed has `view` in ic-a (its RoleBinding outlived the account it was recreated as).
  t.is((await api('/api/v1/namespaces/ic-a/pods', token, { 'Impersonate-User': 'system:serviceaccount:ic-a:doomed' })).status, 200);
  const asDoomed = await api('/api/v1/namespaces/ic-a/secrets', token, { 'Impersonate-User': 'system:serviceaccount:ic-a:doomed' });
  t.is(asDoomed.status, 403);
  t.regex(JSON.parse(asDoomed.body).message, /User "system:serviceaccount:ic-a:doomed" cannot list resource "secrets"/);
  t.is((await api('/api/v1/namespaces/ic-a/pods', token, { 'Impersonate-User': 'system:serviceaccount:ic-a:lister' })).status, 403, 'only the names the Role lists');
});

test.serial('TokenRequest input is checked; Pods without automount or with a missing ServiceAccount', async (t) => {
  const short = await kubectl(['-n', 'ic-a', 'create', 'token', 'lister', '--duration=60s']);
  t.not(short.code, 0);
  t.regex(short.stderr, /spec\.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes/);
  const missing = await kubectl(['-n', 'ic-a', 'create', 'token', 'nobody']);
  t.regex(missing.stderr, /serviceaccounts "nobody" not found/);
  const boundGone = await kubectl(['-n', 'ic-a', 'create', 'token', 'lister', '--bound-object-kind=Pod', '--bound-object-name=ghost']);
  t.regex(boundGone.stderr, /pods "ghost" not found/);
  const wrongSA = await kubectl(['-n', 'ic-a', 'create', 'token', 'default', '--bound-object-kind=Pod', '--bound-object-name=js-client']);
  t.regex(wrongSA.stderr, /cannot bind token for serviceaccount "default" to pod running with different serviceaccount name/);

  const noMount = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'no-token', namespace: 'ic-a' },
    spec: { automountServiceAccountToken: false, enableServiceLinks: false, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'kubelite/echo:1' }] },
  };
  await k(['apply', '-f', '-'], JSON.stringify(noMount));
  const p = await podReady('ic-a', 'no-token');
  t.is(p.spec.serviceAccountName, 'default');
  t.falsy(p.spec.volumes?.some((v) => v.projected));
  const ls = await kubectl(['-n', 'ic-a', 'exec', 'no-token', '--', 'ls', '/var/run/secrets/kubernetes.io/serviceaccount']);
  t.not(ls.code, 0);

  const ghost = await kubectl(['apply', '-f', '-'], { input: JSON.stringify({ ...noMount, metadata: { name: 'ghost-sa', namespace: 'ic-a' }, spec: { ...noMount.spec, serviceAccountName: 'ghost' } }) });
  t.not(ghost.code, 0);
  t.regex(ghost.stderr, /pods "ghost-sa" is forbidden: error looking up service account ic-a\/ghost: serviceaccount "ghost" not found/);
});

test.serial('service links: <SVC>_SERVICE_HOST of Services in the namespace, unless enableServiceLinks is false', async (t) => {
  await k(['-n', 'ic-a', 'create', 'service', 'clusterip', 'my-db', '--tcp=5432:5432']);
  const svc = JSON.parse(await k(['-n', 'ic-a', 'get', 'svc', 'my-db', '-o', 'json'])) as { spec: { clusterIP: string } };
  await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'links', namespace: 'ic-a' }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'kubelite/echo:1', env: [{ name: 'DB', value: '$(MY_DB_SERVICE_HOST):$(MY_DB_SERVICE_PORT)' }] }] } }));
  await podReady('ic-a', 'links');
  const env = await k(['-n', 'ic-a', 'exec', 'links', '--', 'env']);
  t.regex(env, new RegExp(`^MY_DB_SERVICE_HOST=${svc.spec.clusterIP}$`, 'm'));
  t.regex(env, /^MY_DB_SERVICE_PORT_5432_5432=5432$/m);
  t.regex(env, new RegExp(`^MY_DB_PORT=tcp://${svc.spec.clusterIP}:5432$`, 'm'));
  t.regex(env, new RegExp(`^DB=${svc.spec.clusterIP}:5432$`, 'm'), '$(VAR) expands service links');
  const without = await k(['-n', 'ic-a', 'exec', 'no-token', '--', 'env']);
  t.notRegex(without, /MY_DB_SERVICE_HOST/);
  t.regex(without, /^KUBERNETES_SERVICE_HOST=/m, 'the kubernetes Service is always linked');
});
