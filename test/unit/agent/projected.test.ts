import test from 'ava';
import type { Pod, Volume } from '../../../src/api/types.js';
import { downwardAPIFiles, projectedFiles, tokenSources } from '../../../src/agent/projected.js';
import { needsRefresh, refreshAt, TokenManager } from '../../../src/agent/token-manager.js';
import { kubeAPIAccessVolume } from '../../../src/controllers/logic/accounts.js';
import { MountError } from '../../../src/agent/volumes-plan.js';

const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns1', uid: 'u1', labels: { app: 'x' } }, spec: { serviceAccountName: 'bot', containers: [{ name: 'c', image: 'i', resources: { limits: { memory: '64Mi' } } }] } };
const ca = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'PEM' } } as never;
const inputs = (tokens: Map<number, string>) => ({ configMap: (n: string) => (n === 'kube-root-ca.crt' ? ca : undefined), secret: () => undefined, tokens, nodeAllocatable: { cpuMillis: 2000, memoryBytes: 1 << 30 } });

test('the kube-api-access volume: token, ca.crt and namespace, mode 0644', (t) => {
  const v = kubeAPIAccessVolume('kube-api-access-x');
  t.deepEqual(tokenSources(v), [{ index: 0, audience: undefined, expirationSeconds: 3607, path: 'token' }]);
  const files = projectedFiles(v, pod, inputs(new Map([[0, 'TOKEN']])));
  t.deepEqual(files.map((f) => [f.path, f.content.toString(), f.mode]), [['ca.crt', 'PEM', 0o644], ['namespace', 'ns1', 0o644], ['token', 'TOKEN', 0o644]]);
});

test('errors: a missing configMap, no token, two sources writing one path', (t) => {
  const v = kubeAPIAccessVolume('v');
  t.throws(() => projectedFiles(v, pod, inputs(new Map())), { instanceOf: MountError, message: /no service account token/ });
  t.throws(() => projectedFiles(v, pod, { ...inputs(new Map([[0, 'T']])), configMap: () => undefined }), { instanceOf: MountError, message: /configmap "kube-root-ca.crt" not found/ });
  const twice: Volume = { name: 'v', projected: { sources: [{ serviceAccountToken: { path: 'x' } }, { downwardAPI: { items: [{ path: 'x', fieldRef: { fieldPath: 'metadata.name' } }] } }] } };
  t.throws(() => projectedFiles(twice, pod, inputs(new Map([[0, 'T']]))), { message: /more than one projected source writes x/ });
});

test('downwardAPI volumes: fields and resources', (t) => {
  const v: Volume = { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } }, { path: 'sa', fieldRef: { fieldPath: 'spec.serviceAccountName' }, mode: 0o600 }] } };
  t.deepEqual(downwardAPIFiles(v, pod, inputs(new Map())).map((f) => [f.path, f.content.toString(), f.mode]), [['labels', 'app="x"', 0o644], ['mem', '64', 0o644], ['sa', 'bot', 0o600]]);
  t.throws(() => downwardAPIFiles({ name: 'v', downwardAPI: { items: [{ path: 'x', fieldRef: { fieldPath: 'spec.nope' } }] } }, pod, inputs(new Map())), { instanceOf: MountError });
});

test('token refresh at 80% of the lifetime (or 24 h)', async (t) => {
  t.is(refreshAt({ issuedAt: 0, expiresAt: 1000_000 }), 800_000);
  t.is(refreshAt({ issuedAt: 0, expiresAt: 365 * 86_400_000 }), 86_400_000);
  t.true(needsRefresh(undefined, 0));
  t.false(needsRefresh({ issuedAt: 0, expiresAt: 1000 }, 799));
  t.true(needsRefresh({ issuedAt: 0, expiresAt: 1000 }, 800));

  let now = 1_000_000;
  const calls: unknown[] = [];
  const mgr = new TokenManager(
    {
      async createSubresource(res, ns, name, sub, body) {
        calls.push({ res: res.plural, ns, name, sub, body });
        return { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec: {}, status: { token: `t${calls.length}`, expirationTimestamp: new Date(now + 3600_000).toISOString() } } as never;
      },
    },
    () => now,
  );
  const src = { index: 0, expirationSeconds: 3600, path: 'token' };
  t.is(await mgr.get(pod, src), 't1');
  t.like(calls[0], { res: 'serviceaccounts', ns: 'ns1', name: 'bot', sub: 'token', body: { spec: { expirationSeconds: 3600, boundObjectRef: { kind: 'Pod', name: 'p', uid: 'u1' } } } });
  now += 60_000;
  t.is(await mgr.get(pod, src), 't1', 'kept while fresh');
  t.is(mgr.nextRefresh('u1'), 1_000_000 + 0.8 * 3600_000);
  now = mgr.nextRefresh('u1')!;
  t.is(await mgr.get(pod, src), 't2', 'replaced when due');
  mgr.forget('u1');
  t.is(mgr.nextRefresh('u1'), undefined);
});
