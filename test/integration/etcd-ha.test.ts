// Several servers on a 3-member etcd (all on loopback), end to end with real containers: one
// kubeconfig reaching both servers; kill -9 of the leader (the other takes over the controllers and a
// Deployment scaled during the gap converges); one etcd member killed (nothing stops); 20 kill trials
// that lose no acknowledged write and never run a Pod's container twice.
// Slots 25 (server A: API and control plane, no agent) and 26 (server B: with this host's agent).

import test from 'ava';
import type { Deployment, KObject } from '../../src/api/types.js';
import type { Lease } from '../../src/leader/lease.js';
import { R } from '../../src/api/resources.js';
import { LABELS } from '../../src/agent/labels.js';
import { HttpClient } from '../../src/client/http-client.js';
import { loadConnection } from '../../src/client/kubeconfig.js';
import { cleanupInstance, slotConfig, startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { dockerAvailable, dockerClient, removeContainersByLabel, removeNetworksByLabel } from '../helpers/docker.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { kubectlFor } from '../helpers/kubectl.js';

const S = slotConfig(25);
const SHARED = ['--service-cidr', S.serviceCIDR, '--cluster-dns', S.clusterDNS, '--service-node-port-range', `${S.nodePortRange[0]}-${S.nodePortRange[1]}`];
const NS = 'default';

let etcd: EtcdCluster | undefined;
let a: TestServer | undefined;
let b: TestServer | undefined;

test.before(async () => {
  if (!(await dockerAvailable())) throw new Error('these tests need a Docker engine (scripts/ensure-docker.sh starts one)');
  etcd = await startEtcd({ members: 3 });
  // A starts first, so it leads; B runs this host's agent, so Pods keep running whoever leads.
  a = await startTestServer({ slot: 25, args: ['--store', etcd.url, '--node-name', 'etcd-a', '--disable', 'agent,proxy,dns,ingress'] });
  await waitFor(() => leader().then((h) => h.startsWith('etcd-a_')), 20_000, 'A to lead');
  b = await startTestServer({ slot: 26, args: ['--store', etcd.url, '--node-name', 'etcd-b', ...SHARED, '--disable', 'proxy,dns,ingress'] });
});

test.after.always(async () => {
  for (const s of [a, b]) await s?.stop('SIGKILL').catch(() => undefined);
  for (const s of [a, b]) cleanupInstance(s);
  for (const i of ['t25', 't26']) {
    await removeContainersByLabel(LABELS.instance, i).catch(() => 0);
    await removeNetworksByLabel(LABELS.instance, i).catch(() => 0);
  }
  await etcd?.stop();
});

/** The leader Lease's holder, read through whichever server answers. */
async function leader(): Promise<string> {
  for (const s of [a, b]) {
    if (!s || s.proc.exitCode !== null || s.proc.signalCode !== null) continue;
    try {
      return (await s.client.get<Lease>(R.leases, 'kube-system', 'kubelite-leader')).spec?.holderIdentity ?? '';
    } catch {
      // next
    }
  }
  return '';
}

function deployment(replicas: number): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'kubelite/echo:1', readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 1 } }] } },
    },
  } as Deployment;
}

async function converged(client: HttpClient, replicas: number): Promise<boolean> {
  const d = await client.get<Deployment>(R.deployments, NS, 'web');
  const pods = (await client.list(R.pods, { namespace: NS, labelSelector: 'app=web' })).items.filter((p) => !p.metadata.deletionTimestamp);
  return d.status?.readyReplicas === replicas && d.status?.updatedReplicas === replicas && (d.status?.replicas ?? 0) === replicas && pods.length === replicas;
}

/** Running app containers of this test's Pods, per Pod uid and container name: each must be 1. */
async function runningContainers(): Promise<Map<string, number>> {
  const list = await dockerClient().listContainers({ filters: { label: [`${LABELS.instance}=t26`, `${LABELS.role}=app`], status: ['running'] } });
  const out = new Map<string, number>();
  for (const c of list) {
    const k = `${c.Labels[LABELS.podName]}/${c.Labels[LABELS.containerName]} ${c.Labels[LABELS.podUid]}`;
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

test.serial('one kubeconfig reaches both servers; kubectl through either sees the same objects', async (t) => {
  const conn = loadConnection(b!.kubeconfig);
  t.deepEqual(conn.fallbackServers, [a!.client.server]);
  const kb = kubectlFor(b!.kubeconfig);
  t.teardown(() => kb.cleanup());
  t.is((await kb(['create', 'configmap', 'seen-by-both', '--from-literal=k=v'])).code, 0);
  const contexts = (await kb(['config', 'get-contexts', '-o', 'name'])).stdout.trim().split('\n');
  t.is(contexts.length, 2, contexts.join(','));
  const other = contexts.find((c) => c !== 'kubelite-t26')!;
  const viaA = await kb(['--context', other, 'get', 'configmap', 'seen-by-both', '-o', 'jsonpath={.data.k}']);
  t.is(viaA.stdout, 'v', viaA.stderr);
  await a!.client.create(R.deployments, deployment(2));
  await waitFor(() => converged(b!.client, 2), 90_000, 'the Deployment to run 2 Pods');
});

test.serial('kill -9 of the leader: the other server takes over and a Deployment scaled in the gap converges', async (t) => {
  const holder = await leader();
  t.true(holder.startsWith('etcd-a_'), holder);
  const t0 = Date.now();
  await a!.stop('SIGKILL');
  await b!.client.patch(R.deployments, NS, 'web', 'merge', { spec: { replicas: 3 } }, { subresource: 'scale' });
  await waitFor(() => converged(b!.client, 3), 90_000, 'the scaled Deployment to converge on the new leader');
  t.log(`kill -9 of the leader -> 3 Pods ready: ${Date.now() - t0} ms`);
  t.true((await leader()).startsWith('etcd-b_'));
  for (const [k, n] of await runningContainers()) t.is(n, 1, k);
  await a!.restart();
});

test.serial('one etcd member killed: both servers keep serving reads, writes and watches', async (t) => {
  etcd!.kill(1);
  t.teardown(() => etcd!.restart(1));
  for (const [i, s] of [a!, b!].entries()) {
    const cm = await s.client.create<KObject>(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `member-down-${i}`, namespace: NS } });
    t.truthy(cm.metadata.resourceVersion);
    t.is((await (i ? a! : b!).client.get(R.configmaps, NS, `member-down-${i}`)).metadata.uid, cm.metadata.uid);
  }
  await a!.client.patch(R.deployments, NS, 'web', 'merge', { spec: { replicas: 2 } }, { subresource: 'scale' });
  await waitFor(() => converged(a!.client, 2), 90_000, 'scaling to converge with a member down');
  await etcd!.restart(1);
});

test.serial('20 kill trials: no acknowledged write lost, no Pod container run twice', async (t) => {
  t.timeout(25 * 60_000);
  // One client for the whole run, with both servers in its kubeconfig: it moves on when one dies.
  const client = new HttpClient(loadConnection(a!.kubeconfig));
  t.teardown(() => client.close());
  const acked: string[] = [];
  let writing = true;
  let n = 0;
  const writer = (async () => {
    while (writing) {
      const name = `w-${n++}`;
      try {
        await client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS }, data: { n: String(n) } });
        acked.push(name);
      } catch {
        await new Promise((r) => setTimeout(r, 50)); // unacknowledged: may or may not exist
      }
    }
  })();
  const failovers: number[] = [];
  try {
    for (let trial = 0; trial < 20; trial++) {
      const holder = await waitFor(() => leader(), 30_000, 'a leader');
      const [victim, survivor] = holder.startsWith('etcd-a_') ? [a!, b!] : [b!, a!];
      const replicas = 2 + (trial % 2);
      const t0 = Date.now();
      await victim.stop('SIGKILL');
      await survivor.client.patch(R.deployments, NS, 'web', 'merge', { spec: { replicas } }, { subresource: 'scale' });
      await waitFor(async () => (await leader()) !== holder && (await leader()) !== '', 30_000, 'a new leader');
      failovers.push(Date.now() - t0);
      await victim.restart();
      await waitFor(() => converged(survivor.client, replicas), 120_000, `trial ${trial}: the Deployment to converge at ${replicas}`);
      for (const [k, c] of await runningContainers()) t.is(c, 1, `trial ${trial}: ${k} runs ${c} times`);
      // Containers of Pods scaled away stop within their grace period.
      await waitFor(async () => (await runningContainers()).size === replicas, 60_000, `trial ${trial}: one running container per Pod`);
    }
  } finally {
    writing = false;
    await writer;
  }
  const stored = new Set((await b!.client.list(R.configmaps, { namespace: NS })).items.map((c) => c.metadata.name));
  const lost = acked.filter((x) => !stored.has(x));
  t.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged writes lost`);
  t.true(acked.length > 100, `only ${acked.length} writes were acknowledged`);
  t.log(`${acked.length} acknowledged writes, none lost; leader re-elected in ${Math.min(...failovers)}-${Math.max(...failovers)} ms`);
});
