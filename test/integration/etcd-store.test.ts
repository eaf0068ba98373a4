// `kubelite server --store etcd://...` end to end, with a real etcd on loopback and the real kubectl:
// etcd unreachable at start (the API answers, /readyz says why, the server connects when etcd comes),
// two servers on one store seeing the same objects, a server with other cluster settings refused,
// the store's metrics, `kubelite store migrate`. Slots 24 and 25; no containers (agent, proxy, DNS and ingress are off).

import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HttpClient } from '../../src/client/http-client.js';
import { loadConnection } from '../../src/client/kubeconfig.js';
import { R } from '../../src/api/resources.js';
import type { Service } from '../../src/api/types.js';
import { cleanupInstance, slotConfig, startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { kubectlFor } from '../helpers/kubectl.js';

function kubectl(kubeconfig: string, args: string[]) {
  const k = kubectlFor(kubeconfig);
  return k(args).finally(() => k.cleanup());
}

const OFF = ['--disable', 'agent,proxy,dns,ingress'];
const A = slotConfig(24);

let etcd: EtcdCluster | undefined;
const servers: TestServer[] = [];

test.after.always(async () => {
  for (const s of servers) await s.stop().catch(() => undefined);
  for (const s of servers) cleanupInstance(s);
  await etcd?.stop();
});

/** Flags that make a second server join slot 24's cluster (same shared settings, its own instance). */
const sameCluster = ['--service-cidr', A.serviceCIDR, '--cluster-dns', A.clusterDNS, '--service-node-port-range', `${A.nodePortRange[0]}-${A.nodePortRange[1]}`];

test.serial('etcd down at start: the API answers 503, /readyz names the store, and the server connects once etcd is up', async (t) => {
  etcd = await startEtcd();
  etcd.kill(0);
  // Whatever fails below, etcd comes back for the tests after this one.
  t.teardown(async () => {
    if (etcd!.members[0]!.proc?.exitCode !== null || etcd!.members[0]!.proc?.signalCode !== null) await etcd!.restart(0).catch(() => undefined);
  });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-t24-'));
  const starting = startTestServer({ slot: 24, dataDir, args: [...OFF, '--store', etcd.url] });
  // Stopped in after.always even when an assertion below ends this test early.
  starting.then((s) => void (servers.includes(s) || servers.push(s)), () => undefined);
  const kubeconfig = path.join(dataDir, 'kubeconfig');
  await waitFor(() => fs.existsSync(kubeconfig), 60_000, 'the API to listen');
  const client = new HttpClient(loadConnection(kubeconfig));
  t.teardown(() => client.close());
  const ready = await waitFor(async () => {
    const r = await client.raw('GET', '/readyz');
    return r.status !== 200 ? r : undefined;
  }, 10_000, '/readyz');
  t.regex(String(ready?.body), /\[-\]store failed/);
  const err = await t.throwsAsync(client.get(R.namespaces, undefined, 'default'));
  t.is((err as { code?: number }).code, 503);
  t.true(err!.message.includes('not connected yet') && err!.message.includes(`127.0.0.1:${etcd.members[0]!.clientPort}`), err!.message);

  await etcd.restart(0);
  const server = await starting;
  t.regex(server.logs(), new RegExp(`etcd is unavailable \\(http://127\\.0\\.0\\.1:${etcd.members[0]!.clientPort}\\).*retrying in`));
  const r = await server.client.raw('GET', '/readyz');
  t.is(r.status, 200);
  const created = await kubectl(server.kubeconfig, ['create', 'configmap', 'hello', '--from-literal=k=v']);
  t.is(created.code, 0, created.stderr);
});

test.serial('two servers on one etcd serve the same objects; kubectl through either sees the other\'s writes', async (t) => {
  const a = servers[0]!;
  const b = await startTestServer({ slot: 25, args: [...OFF, '--store', etcd!.url, ...sameCluster] });
  servers.push(b);
  const got = await kubectl(b.kubeconfig, ['get', 'configmap', 'hello', '-o', 'jsonpath={.data.k}']);
  t.is(got.stdout, 'v', got.stderr);
  t.is((await kubectl(b.kubeconfig, ['create', 'deployment', 'web', '--image=kubelite/echo:1', '--replicas=2'])).code, 0);
  const viaA = await kubectl(a.kubeconfig, ['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}']);
  t.is(viaA.stdout, '2', viaA.stderr);
  // A conflicting write through the other server is refused, as on one server.
  const cm = await a.client.get(R.configmaps, 'default', 'hello');
  await b.client.update(R.configmaps, { ...cm, data: { k: 'via b' } });
  const stale = await t.throwsAsync(a.client.update(R.configmaps, { ...cm, data: { k: 'stale' } }));
  t.is((stale as { code?: number }).code, 409);
  // A watch on A sees B's writes.
  const seen: string[] = [];
  const w = a.client.watch(R.configmaps, { namespace: 'default', resourceVersion: (await a.client.list(R.configmaps, { namespace: 'default' })).metadata.resourceVersion }, { onEvent: (ev) => seen.push(`${ev.type} ${ev.object.metadata.name}`) });
  t.teardown(() => w.stop());
  await b.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-b', namespace: 'default' } });
  await waitFor(() => seen.includes('ADDED from-b'), 10_000, 'A to see B\'s write');
  // A ServiceAccount token one server issued is accepted by the other (the cluster shares one signing key).
  await waitFor(() => b.client.get(R.serviceaccounts, 'default', 'default'), 15_000, 'the default ServiceAccount');
  const issued = await kubectl(b.kubeconfig, ['create', 'token', 'default', '-n', 'default']);
  t.is(issued.code, 0, issued.stderr);
  const who = await kubectl(a.kubeconfig, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}', `--token=${issued.stdout.trim()}`]);
  t.is(who.stdout, 'system:serviceaccount:default:default', who.stderr);
  // Services created through both servers at once never share a ClusterIP or a NodePort.
  const made = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).client.create<Service>(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: `s${i}`, namespace: 'default' }, spec: { type: 'NodePort', selector: { app: 'x' }, ports: [{ port: 80 }] } })));
  t.is(new Set(made.map((x) => x.spec.clusterIP)).size, 16);
  t.is(new Set(made.map((x) => x.spec.ports![0]!.nodePort)).size, 16);
  for (const x of made) t.true(x.spec.ports![0]!.nodePort! >= A.nodePortRange[0] && x.spec.ports![0]!.nodePort! <= A.nodePortRange[1]);
});

test.serial('a server with another service CIDR or cluster domain refuses to join, and says why', async (t) => {
  const other = await t.throwsAsync(startTestServer({ slot: 25, args: [...OFF, '--store', etcd!.url] }));
  t.regex(other!.message, new RegExp(`--service-cidr ${slotConfig(25).serviceCIDR.replace(/[./]/g, '\\$&')} \\(the cluster uses ${A.serviceCIDR.replace(/[./]/g, '\\$&')}\\)`));
  const domain = await t.throwsAsync(startTestServer({ slot: 25, args: [...OFF, '--store', etcd!.url, ...sameCluster, '--cluster-domain', 'elsewhere.local'] }));
  t.regex(domain!.message, /--cluster-domain elsewhere\.local \(the cluster uses cluster\.local\)/);
  t.regex(domain!.message, /delete ConfigMap kube-system\/kubelite-config/);
});

test.serial('metrics: store latency by verb and open watches, for the etcd backend', async (t) => {
  const r = await servers[0]!.client.raw('GET', '/metrics');
  const text = String(r.body);
  t.regex(text, /kubelite_store_request_duration_seconds_count\{backend="etcd",verb="get",result="ok"\} \d+/);
  t.regex(text, /kubelite_store_request_duration_seconds_count\{backend="etcd",verb="create",result="ok"\} \d+/);
  t.regex(text, /kubelite_store_watches\{backend="etcd"\} [1-9]\d*/);
  t.regex(text, /kubelite_store_up\{backend="etcd"\} 1/);
});

test.serial('a restarted server finds everything in etcd', async (t) => {
  const a = servers[0]!;
  await a.stop();
  await a.restart();
  const got = await kubectl(a.kubeconfig, ['get', 'configmaps', '-o', 'name']);
  t.regex(got.stdout, /configmap\/hello/);
  t.regex(got.stdout, /configmap\/from-b/);
});

test.serial('kubelite store migrate: a one-host server moves to etcd without re-applying anything', async (t) => {
  await servers[1]?.stop(); // the second server of slot 25's instance is done
  const one = await startTestServer({ slot: 25, args: OFF });
  servers.push(one);
  const svc = await one.client.create<Service>(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kept', namespace: 'default' }, spec: { type: 'NodePort', selector: { app: 'kept' }, ports: [{ port: 80 }] } });
  await one.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kept', namespace: 'default' }, data: { k: 'v' } });
  await one.stop();
  const migrated = await one.cli(['store', 'migrate', '--from', one.dataDir, '--to', etcd!.url, '--etcd-prefix', '/migrated']);
  t.is(migrated.code, 0, migrated.stderr);
  t.regex(migrated.stdout, /migrated \d+ objects from .* to etcd:\/\/.*\/migrated \(revision \d+\)/);
  const again = await one.cli(['store', 'migrate', '--from', one.dataDir, '--to', etcd!.url, '--etcd-prefix', '/migrated']);
  t.is(again.code, 1);
  t.regex(again.stderr, /already holds \d+ objects: migrate only into an empty prefix/);
  // The same data dir (certificates, token) now on etcd.
  const onEtcd = await startTestServer({ slot: 25, dataDir: one.dataDir, args: [...OFF, '--store', etcd!.url, '--etcd-prefix', '/migrated'] });
  servers.push(onEtcd);
  const got = await onEtcd.client.get<Service>(R.services, 'default', 'kept');
  t.is(got.metadata.uid, svc.metadata.uid);
  t.is(got.spec.clusterIP, svc.spec.clusterIP);
  t.is(got.spec.ports![0]!.nodePort, svc.spec.ports![0]!.nodePort);
  t.true(Number(got.metadata.resourceVersion) > Number(svc.metadata.resourceVersion));
  t.deepEqual((await onEtcd.client.get(R.configmaps, 'default', 'kept')).data, { k: 'v' });
  // Its allocation record starts from the migrated Services: the NodePort is not handed out again.
  const clash = await t.throwsAsync(onEtcd.client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'clash', namespace: 'default' }, spec: { type: 'NodePort', selector: { app: 'x' }, ports: [{ port: 80, nodePort: svc.spec.ports![0]!.nodePort }] } }));
  t.regex(clash!.message, /already allocated/);
});
