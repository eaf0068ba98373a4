// Issue #15's authorisation overhead: API creates/s with a ServiceAccount token, authorised by RBAC
// with 20 RoleBindings in the namespace (and the bootstrap ClusterRoleBindings), against the admin
// token (system:masters, no RBAC walk) in the same run. Interleaved rounds of `hey` POSTing Pods; the
// median of each. Only the API runs (plus the always-on access component and its admission).
//   npm run build && /work/bin/suite-lock node --import tsx bench/auth-overhead.ts

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { R } from '../src/api/resources.js';
import type { KObject, TokenRequest } from '../src/api/types.js';
import { median, startBenchServer, writeSection } from './lib.js';
import { openStore } from '../src/store/index.js';
import { Registry } from '../src/server/registry.js';
import { InformerFactory } from '../src/client/informer.js';
import { Auth, ServiceAccountTokens, serveTokenRequest } from '../src/server/auth/index.js';
import { ensureBootstrapPolicy } from '../src/server/auth/bootstrap-policy.js';
import type { IncomingMessage } from 'node:http';

const NS = 'bench';
const BINDINGS = 20;
const ROUNDS = 10;
const PER_ROUND = 1000;
const GETS = 3000;
const CONCURRENCY = 32;

function hey(url: string, token: string, n: number, bodyFile?: string): number {
  const post = bodyFile ? ['-m', 'POST', '-T', 'application/json', '-D', bodyFile] : [];
  const out = execFileSync('hey', ['-n', String(n - (n % CONCURRENCY)), '-c', String(CONCURRENCY), '-H', `Authorization: Bearer ${token}`, ...post, url], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const bad = [...out.matchAll(/\[(\d{3})\]\s+(\d+) responses/g)].filter((m) => Number(m[1]) >= 300);
  if (!rps || bad.length) throw new Error(`hey: ${bad.map((m) => `${m[2]} x ${m[1]}`).join(', ') || 'no rate'}\n${out.slice(-1500)}`);
  return Number(rps[1]);
}

/**
 * The authorisation path alone, in process: microseconds of CPU per request for `auth.check()` (token,
 * bound objects, impersonation headers, RBAC) with each token, on the same 20 RoleBindings. Unlike
 * requests/s over HTTPS this hardly moves with other load on the machine.
 */
async function inProcess(): Promise<{ adminUs: number; saUs: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-bench-authz-'));
  const store = await openStore(undefined);
  const registry = new Registry(store);
  try {
    await registry.bootstrapNamespaces();
    await ensureBootstrapPolicy(registry);
    const tokens = await ServiceAccountTokens.load(dir, 'https://kubernetes.default.svc.cluster.local');
    await setUpPolicy(registry);
    const informers = new InformerFactory(registry);
    const auth = new Auth({ adminToken: 'a'.repeat(43), tokens, informers, get: (r, ns, n) => registry.get(r, ns, n) });
    await auth.start();
    const tr = await serveTokenRequest({ tokens, get: (r, ns, n) => registry.get(r, ns, n) }, NS, 'deployer', { spec: { expirationSeconds: 3600 } });
    const req = (token: string) => ({ method: 'POST', headers: { authorization: `Bearer ${token}` }, headersDistinct: { authorization: [`Bearer ${token}`] }, socket: {} }) as unknown as IncomingMessage;
    const time = async (token: string) => {
      const r = req(token);
      for (let i = 0; i < 2000; i++) await auth.check(r, `/api/v1/namespaces/${NS}/pods`, {});
      const N = 50_000;
      const t0 = process.cpuUsage();
      for (let i = 0; i < N; i++) await auth.check(r, `/api/v1/namespaces/${NS}/pods`, {});
      const d = process.cpuUsage(t0);
      return (d.user + d.system) / N;
    };
    const adminUs = median([await time('a'.repeat(43)), await time('a'.repeat(43)), await time('a'.repeat(43))]);
    const saUs = median([await time(tr.status!.token), await time(tr.status!.token), await time(tr.status!.token)]);
    informers.stop();
    return { adminUs, saUs };
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The namespace, the account, its Role and 20 RoleBindings (19 for others), as in the HTTP rounds. */
async function setUpPolicy(c: Pick<Registry, 'create' | 'get'>): Promise<void> {
  await c.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await c.create(R.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'deployer', namespace: NS } });
  await c.create(R.roles, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'pod-writer', namespace: NS }, rules: [{ verbs: ['create', 'get', 'list', 'delete', 'deletecollection'], apiGroups: [''], resources: ['pods'] }] } as KObject);
  for (let i = 0; i < BINDINGS - 1; i++) {
    const subjects = [{ kind: 'ServiceAccount', name: `other-${i}`, namespace: NS }, { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: `user-${i}` }, { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: `team-${i}` }];
    await c.create(R.rolebindings, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: `noise-${i}`, namespace: NS }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: i % 2 ? 'ClusterRole' : 'Role', name: i % 2 ? 'edit' : 'pod-writer' }, subjects } as KObject);
  }
  await c.create(R.rolebindings, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'deployer', namespace: NS }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-writer' }, subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: NS }] } as KObject);
}

const micro = await inProcess();

const server = await startBenchServer(['--disable', 'agent,scheduler,controllers,proxy,dns,ingress'], { instance: 'b58' });
try {
  const c = server.client;
  await setUpPolicy(c);
  for (let i = 0; i < 60 && !(await c.get(R.serviceaccounts, NS, 'default').catch(() => undefined)); i++) await new Promise((r) => setTimeout(r, 100));
  const tr = (await c.createSubresource(R.serviceaccounts, NS, 'deployer', 'token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec: { expirationSeconds: 3600 } } as TokenRequest)) as TokenRequest;
  const saToken = tr.status!.token;
  const adminToken = c.conn.token!;

  const bodyFile = path.join(os.tmpdir(), `kubelite-bench-auth-${process.pid}.json`);
  fs.writeFileSync(bodyFile, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'p-', namespace: NS, labels: { app: 'bench' } }, spec: { nodeName: 'nowhere', containers: [{ name: 'app', image: 'kubelite/echo:1' }] } }));
  const url = `${c.conn.server}/api/v1/namespaces/${NS}/pods`;
  const clear = async () => {
    const r = await c.raw('DELETE', `/api/v1/namespaces/${NS}/pods?labelSelector=app%3Dbench`);
    if (r.status !== 200) throw new Error(`deletecollection: ${r.status}`);
  };
  // Warm-up: the token's signature check is cached after its first request, as kube-apiserver caches it.
  hey(url, saToken, 320, bodyFile);
  hey(url, adminToken, 320, bodyFile);
  await clear();
  const admin: number[] = [];
  const sa: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? ['sa', 'admin'] : ['admin', 'sa'];
    for (const who of order) {
      const rate = hey(url, who === 'sa' ? saToken : adminToken, PER_ROUND, bodyFile);
      (who === 'sa' ? sa : admin).push(rate);
      await clear();
    }
  }
  // Reads: far cheaper than creates, so the same per-request authorisation cost weighs more.
  const one = await c.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'one', namespace: NS }, spec: { nodeName: 'nowhere', containers: [{ name: 'app', image: 'kubelite/echo:1' }] } } as KObject);
  const getURL = `${url}/${one.metadata.name}`;
  const adminGets: number[] = [];
  const saGets: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const who of round % 2 ? ['sa', 'admin'] : ['admin', 'sa']) (who === 'sa' ? saGets : adminGets).push(hey(getURL, who === 'sa' ? saToken : adminToken, GETS));
  }
  const getRatios = saGets.map((x, i) => x / adminGets[i]);
  fs.rmSync(bodyFile, { force: true });
  // Each round's two runs are back to back: their ratio cancels most of what other load on the machine does.
  const pairRatios = sa.map((x, i) => x / admin[i]);
  const ratio = median(pairRatios);
  const load = os.loadavg()[0].toFixed(2);
  const rows = [
    `${ROUNDS} interleaved rounds of ${PER_ROUND} Pod creates each (\`hey\`, ${CONCURRENCY} keep-alive HTTPS connections, the Pods never scheduled), 1-minute load average at the end ${load}.`,
    '',
    '| figure | value | target |',
    '|---|---|---|',
    `| creates/s, admin token (system:masters: no RBAC walk) | ${Math.round(median(admin))} (rounds: ${admin.map(Math.round).join(', ')}) | — |`,
    `| creates/s, ServiceAccount token, RBAC with ${BINDINGS} RoleBindings in the namespace | ${Math.round(median(sa))} (rounds: ${sa.map(Math.round).join(', ')}) | — |`,
    `| **creates: ServiceAccount / admin** (median of the ${ROUNDS} rounds' ratios: ${pairRatios.map((r) => r.toFixed(2)).join(', ')}) | **${ratio.toFixed(2)}x** | >= 0.9x ${ratio >= 0.9 ? '(met)' : '(missed)'} |`,
    `| gets/s of one Pod, admin token / ServiceAccount token (${GETS} per round) | ${Math.round(median(adminGets))} / ${Math.round(median(saGets))} | — |`,
    `| gets: ServiceAccount / admin (median of the rounds' ratios: ${getRatios.map((r) => r.toFixed(2)).join(', ')}) | ${median(getRatios).toFixed(2)}x | — |`,
    `| CPU per request of the authorisation path alone (in process, 50,000 checks x 3): admin / ServiceAccount | ${micro.adminUs.toFixed(1)} µs / **${micro.saUs.toFixed(1)} µs** | — |`,
    `| that cost against one create at the admin's median rate (${(1e6 / median(admin)).toFixed(0)} µs of wall time on 2 cores) | ${(((micro.saUs - micro.adminUs) * median(admin)) / 1e6 * 100).toFixed(1)}% -> expected ratio ${(1 / (1 + ((micro.saUs - micro.adminUs) * median(admin)) / 1e6)).toFixed(2)}x | >= 0.9x |`,
    '',
    'Per ServiceAccount request: the cached JWT verification (a map lookup; the ES256 signature is checked once per token),',
    'the ServiceAccount and bound-object checks against the informer cache, and RBAC through the subject index (only the',
    'bindings that name the user, one of its groups or its ServiceAccount are looked at, however many others there are).',
  ];
  writeSection('auth-overhead', 'Authorisation overhead: ServiceAccount token under RBAC vs the admin token (issue #15)', 'npm run build && node --import tsx bench/auth-overhead.ts', rows.join('\n'));
} finally {
  await server.stop();
  fs.rmSync(server.dataDir, { recursive: true, force: true });
}
process.exit(0);
