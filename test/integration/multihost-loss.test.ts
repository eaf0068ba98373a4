// Many Docker hosts, when hosts fail, on the real engine: a server and two agent node containers
// (`kubelite cluster create --agents 2`). An agent restarted adopts its running containers; agents keep
// their Pods serving while the server is away; `docker kill` of an agent node: its Pods leave the
// Endpoints, are replaced on the other nodes, and the Service never routes to the dead host again; a
// node whose Docker engine dies goes NotReady with the reason; a node cut off from the network stops
// being routed to, and comes back.
//
// Slot 39: cluster `mh39` in 10.239.0.0/16 (pods 10.239.0.0/17, services 10.239.128.0/18, LB pool
// 10.239.192.0/24, nodes 10.239.255.0/24). Every packet the test sends goes to an address routed through
// the cluster's bridge (checked with `ip route get`).

import test from 'ava';
import type { Endpoints, Node, Pod, Taint } from '../../src/api/types.js';
import { R } from '../../src/api/resources.js';
import { buildTestNodeImage, createTestCluster, docker, httpGet, kubelitePid, natDestinations, podOf, until, type TestCluster } from '../helpers/multihost.js';

const NAME = 'mh39';
let c: TestCluster | undefined;
const cl = () => c!;

test.before(async (t) => {
  t.timeout(20 * 60_000, 'the node image build may run debootstrap on a machine that never built it');
  await buildTestNodeImage();
  c = await createTestCluster({ name: NAME, block: 239, agents: 2 });
  const r = await cl().kubectl(['apply', '-f', '-'], {
    input: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 6
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: echo, image: "kubelite/echo:1", readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 1}}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
`,
  });
  if (r.code !== 0) throw new Error(r.stderr);
  await sixReady();
});

test.after.always(async () => {
  await c?.destroy();
});

async function pods(): Promise<Pod[]> {
  return (await cl().client.list<Pod>(R.pods, { namespace: 'default', labelSelector: 'app=web' })).items;
}
const isReady = (p: Pod) => !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((x) => x.type === 'Ready' && x.status === 'True');

async function sixReady(exclude?: string): Promise<Pod[]> {
  return until(async () => {
    const p = (await pods()).filter(isReady).filter((x) => x.spec.nodeName !== exclude);
    return p.length === 6 ? p : undefined;
  }, 90_000, `6 Ready replicas${exclude ? ` off ${exclude}` : ''}`);
}

async function endpointNodes(): Promise<string[]> {
  const ep = await cl().client.get<Endpoints>(R.endpoints, 'default', 'web');
  return (ep.subsets ?? []).flatMap((s) => s.addresses ?? []).map((a) => a.nodeName ?? '?');
}

async function node(name: string): Promise<Node> {
  return cl().client.get<Node>(R.nodes, undefined, name);
}
const ready = (n: Node) => n.status?.conditions?.find((x) => x.type === 'Ready');

async function vip(): Promise<string> {
  return (await cl().client.get<{ spec: { clusterIP: string } } & Pod>(R.services, 'default', 'web')).spec.clusterIP;
}

test.serial('an agent restarted adopts its running containers: none restarted, none replaced', async (t) => {
  const a0 = cl().agents[0];
  const ids = async () => (await cl().inNode(a0, ['docker', 'ps', '-q', '--no-trunc'])).stdout.trim().split('\n').sort();
  const before = await ids();
  const podsBefore = (await pods()).filter((p) => p.spec.nodeName === a0).map((p) => p.metadata.uid).sort();
  t.true(podsBefore.length > 0);
  const pid = await kubelitePid(a0);
  // The node image ends the container when kubelite dies within 10 s of its start (a bad flag must not
  // loop), and starts it again only after that: on a quiet machine the cluster may be this young.
  await until(async () => Number((await cl().inNode(a0, ['ps', '-o', 'etimes=', '-p', pid])).stdout.trim()) > 11, 20_000, 'kubelite to have run 11 s');
  await cl().inNode(a0, ['kill', '-9', pid]);
  // the node image starts kubelite again; it adopts what runs
  await until(async () => (await kubelitePid(a0).catch(() => pid)) !== pid, 20_000, 'kubelite to be started again');
  const logs = await until(async () => {
    const l = (await docker.getContainer(a0).logs({ stdout: true, stderr: true, tail: 200 })).toString('utf8');
    return /"msg":"agent started"/.test(l.slice(l.lastIndexOf('starting it again'))) ? l : undefined;
  }, 30_000, 'the restarted agent to start');
  t.regex(logs.slice(logs.lastIndexOf('starting it again')), /"adopted":[1-9]/);
  t.deepEqual(await ids(), before, 'the same containers run');
  const after = await pods();
  t.deepEqual(after.filter((p) => p.spec.nodeName === a0).map((p) => p.metadata.uid).sort(), podsBefore, 'the same Pods');
  for (const p of after) t.is(p.status?.containerStatuses?.[0]?.restartCount ?? 0, 0);
  t.is(ready(await node(a0))?.status, 'True');
});

test.serial('agents keep their Pods serving while the server is away, and nothing is evicted when it is back', async (t) => {
  const a1 = cl().agents[1];
  const np = (await cl().client.get<{ spec: { ports: { nodePort: number }[] } } & Pod>(R.services, 'default', 'web')).spec.ports[0].nodePort;
  const podsBefore = await pods();
  const before = podsBefore.map((p) => p.metadata.uid).sort();
  const nodeOfIP = new Map(podsBefore.map((p) => [p.status?.podIP ?? '?', p.spec.nodeName ?? '?']));
  await docker.getContainer(cl().server).pause();
  try {
    await new Promise((r) => setTimeout(r, 8000));
    // The agent's own proxier still serves its NodePort from the Pods on every host, the other agent's
    // too. It cannot know that the paused server's Pods are frozen (neither can kube-proxy), so about a
    // third of the connections go there and time out: which Pod each connection was sent to is read
    // from the agent's conntrack, and every connection to a Pod on a host that is up must be answered.
    // Source ports of our own choosing (below the ephemeral range) name each connection in conntrack.
    let port = 20_000 + Math.floor(Math.random() * 10_000);
    const sent: { port: number; answer: string }[] = [];
    const answeredOn = new Set<string>();
    while (sent.length < 15 || (answeredOn.size < cl().agents.length && sent.length < 40)) {
      port++;
      const answer = await httpGet(cl().address(a1), np, cl().bridge, 3000, port).catch((e: Error) => `no answer (${e.message})`);
      if (answer.includes('EADDRINUSE')) continue;
      sent.push({ port, answer });
      const onNode = answer.includes('pod=') ? podsBefore.find((p) => p.metadata.name === podOf(answer))?.spec.nodeName : undefined;
      if (onNode) answeredOn.add(onNode);
    }
    const routed = await natDestinations(a1, np);
    const lines = sent.map((s) => ({ ...s, node: nodeOfIP.get(routed.get(s.port) ?? '') ?? `? (${routed.get(s.port) ?? 'no conntrack entry'})` }));
    const report = lines.map((l) => `${l.node}: ${l.answer.includes('pod=') ? podOf(l.answer) : l.answer}`).join('; ');
    const lost = lines.filter((l) => !l.answer.includes('pod=') && l.node !== cl().server);
    t.deepEqual(lost, [], `connections to Pods on the hosts that are up went unanswered: ${report}`);
    for (const a of cl().agents) t.true(lines.some((l) => l.node === a && l.answer.includes('pod=')), `no answer from a Pod on ${a}: ${report}`);
  } finally {
    await docker.getContainer(cl().server).unpause();
  }
  await new Promise((r) => setTimeout(r, 8000));
  t.deepEqual((await pods()).map((p) => p.metadata.uid).sort(), before, 'no Pod evicted or replaced');
  for (const n of cl().nodes) t.is(ready(await node(n))?.status, 'True', n);
});

test.serial('docker kill of an agent node: its Pods leave the Endpoints, are replaced elsewhere, the Service never routes there again', async (t) => {
  const dead = cl().agents[1];
  const deadPods = new Set((await pods()).filter((p) => p.spec.nodeName === dead).map((p) => p.metadata.name!));
  t.true(deadPods.size > 0);
  const t0 = Date.now();
  await docker.getContainer(dead).kill();
  await until(async () => !(await endpointNodes()).includes(dead), 30_000, 'the dead node\'s Pods to leave the Endpoints');
  const leftMs = Date.now() - t0;
  const n = await node(dead);
  t.is(ready(n)?.status, 'Unknown');
  t.truthy((n.spec?.taints ?? []).find((x: Taint) => x.key === 'node.kubernetes.io/unreachable' && x.effect === 'NoExecute'));
  await sixReady(dead);
  const replacedMs = Date.now() - t0;
  t.log(`endpoints without the dead node after ${leftMs} ms; 6 Ready replicas elsewhere after ${replacedMs} ms`);
  // from now on every request is answered, never by a Pod of the dead host
  await new Promise((r) => setTimeout(r, 500));
  const ip = await vip();
  for (let i = 0; i < 30; i++) {
    const a = await httpGet(ip, 80, cl().bridge, 3000);
    t.false(deadPods.has(podOf(a)), `answered by ${podOf(a)} of the dead host`);
  }
  // the host comes back: its node is Ready again and its old Pods are gone
  await docker.getContainer(dead).start();
  await until(async () => ready(await node(dead))?.status === 'True', 60_000, 'the node to be Ready again');
  await until(async () => (await pods()).every((p) => !deadPods.has(p.metadata.name!)), 60_000, 'the dead host\'s old Pods to be gone');
  t.false((await node(dead)).spec?.taints?.some((x) => x.key === 'node.kubernetes.io/unreachable') ?? false, 'untainted');
});

test.serial('a node whose Docker engine dies goes NotReady with the reason; its Pods go elsewhere', async (t) => {
  const sick = cl().agents[0];
  const ps = await cl().inNode(sick, ['ps', '-eo', 'pid=,comm=']);
  const dockerd = ps.stdout.split('\n').find((l) => l.trim().endsWith(' dockerd'))!.trim().split(/\s+/)[0];
  await cl().inNode(sick, ['kill', '-9', dockerd]);
  const cond = await until(async () => {
    const r = ready(await node(sick));
    return r?.status === 'False' ? r : undefined;
  }, 40_000, 'the node to report NotReady');
  t.regex(cond.message ?? '', /container runtime is down: the Docker engine does not answer/);
  t.truthy((await node(sick)).spec?.taints?.find((x) => x.key === 'node.kubernetes.io/not-ready' && x.effect === 'NoExecute'));
  await sixReady(sick);
  // restart the host (its engine comes back with it)
  await docker.getContainer(sick).restart({ t: 5 });
  await until(async () => ready(await node(sick))?.status === 'True', 90_000, 'the node to be Ready again');
  t.is(ready(await node(sick))?.status, 'True', 'Ready again once its engine is back');
});

test.serial('a node cut off from the network is not routed to; it comes back when the network does', async (t) => {
  const cut = cl().agents[0];
  // bring a replica onto it first
  await cl().kubectl(['scale', 'deployment/web', '--replicas', '9']);
  await until(async () => (await pods()).filter(isReady).some((p) => p.spec.nodeName === cut), 60_000, 'a Ready replica on the node');
  const net = docker.getNetwork(`kubelite-${NAME}-net`);
  await net.disconnect({ Container: cut, Force: true });
  try {
    await until(async () => !(await endpointNodes()).includes(cut), 30_000, 'the cut-off node\'s Pods to leave the Endpoints');
    t.is(ready(await node(cut))?.status, 'Unknown');
    const ip = await vip();
    const cutPods = new Set((await pods()).filter((p) => p.spec.nodeName === cut).map((p) => p.metadata.name!));
    for (let i = 0; i < 20; i++) t.false(cutPods.has(podOf(await httpGet(ip, 80, cl().bridge, 3000))), 'no answer from the cut-off node');
  } finally {
    await net.connect({ Container: cut, EndpointConfig: { IPAMConfig: { IPv4Address: cl().address(cut) }, Aliases: [cut] } });
  }
  await until(async () => ready(await node(cut))?.status === 'True', 60_000, 'the node to be Ready again');
  await until(async () => (await pods()).filter(isReady).length === 9, 90_000, '9 Ready replicas');
  t.is(ready(await node(cut))?.status, 'True', 'the reconnected node is Ready');
});
