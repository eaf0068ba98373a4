// The pod network over VXLAN (`--pod-network vxlan`), on the real engine: a server and one agent node
// container (`kubelite cluster create --agents 1`). Each node gets a VXLAN device (VNI 1, UDP 8472, MTU
// 50 below its link) with a neighbour and FDB entry for the other node, its route to the other node's
// pod CIDR goes through that device, and Pods on the two nodes reach each other by their own addresses
// and through a ClusterIP, the packets counted on the VXLAN devices.
//
// Slot 60 (shared with bench/multihost.ts, which runs under the exclusive suite lock, so never at the
// same time): cluster `mh60` in 10.240.0.0/16 (pods 10.240.0.0/17, services 10.240.128.0/18, LB pool
// 10.240.192.0/24, nodes 10.240.255.0/24). Every packet the test sends itself goes to an address routed
// through the cluster's bridge (checked with `ip route get`).

import test from 'ava';
import type { Node, Pod } from '../../src/api/types.js';
import { R } from '../../src/api/resources.js';
import { exec } from '../../src/util/exec.js';
import { buildTestNodeImage, createTestCluster, httpGet, podOf, until, type TestCluster } from '../helpers/multihost.js';

const NAME = 'mh60';
let c: TestCluster | undefined;
const cl = () => c!;

test.before(async (t) => {
  t.timeout(20 * 60_000, 'the node image build may run debootstrap on a machine that never built it');
  await buildTestNodeImage();
  c = await createTestCluster({ name: NAME, block: 240, agents: 1, serverArgs: ['--pod-network=vxlan'] });
});

test.after.always(async () => {
  await c?.destroy();
});

async function inNodeOk(node: string, cmd: string[]): Promise<string> {
  const r = await cl().inNode(node, cmd);
  if (r.exitCode !== 0) throw new Error(`${cmd.join(' ')} in ${node}: ${r.stderr}`);
  return r.stdout;
}

interface Link { ifname: string; mtu: number; linkinfo?: { info_kind?: string; info_data?: { id?: number; port?: number } }; stats64?: { tx?: { packets: number }; rx?: { packets: number } } }

async function link(node: string, dev: string): Promise<Link> {
  return (JSON.parse(await inNodeOk(node, ['ip', '-d', '-j', '-s', 'link', 'show', 'dev', dev])) as Link[])[0];
}

async function uplinkOf(node: string): Promise<Link> {
  const [route] = JSON.parse(await inNodeOk(node, ['ip', '-j', 'route', 'get', cl().address(cl().nodes.find((n) => n !== node)!)])) as { dev: string }[];
  return link(node, route.dev);
}

async function readyPods(): Promise<Pod[]> {
  const list = await cl().client.list<Pod>(R.pods, { namespace: 'default', labelSelector: 'app=vx' });
  return list.items.filter((p) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'));
}

test.serial('each node has a VXLAN device (VNI 1, UDP 8472, MTU 50 below its link) and routes the other node\'s Pods through it', async (t) => {
  const nodes = (await cl().client.list<Node>(R.nodes)).items;
  t.is(nodes.length, 2);
  for (const n of nodes) {
    const name = n.metadata.name!;
    const peer = nodes.find((x) => x.metadata.name !== name)!;
    const vx = await until(async () => link(name, 'klvx').catch(() => undefined), 30_000, `klvx on ${name}`);
    t.is(vx.linkinfo?.info_kind, 'vxlan', name);
    t.is(vx.linkinfo?.info_data?.id, 1, name);
    t.is(vx.linkinfo?.info_data?.port, 8472, name);
    t.is(vx.mtu, (await uplinkOf(name)).mtu - 50, name);
    // a Pod address in the peer's share leaves through the VXLAN device, not the link
    const peerPod = peer.spec!.podCIDR!.replace(/\.0\/\d+$/, '.9');
    // The device comes first and the routes right after it: until then the cluster's blackhole answers
    // (`ip route get` says "Invalid argument"), and never the uplink.
    const dev = async () => {
      const r = await cl().inNode(name, ['ip', '-j', 'route', 'get', peerPod]);
      return r.exitCode === 0 ? (JSON.parse(r.stdout) as { dev: string }[])[0].dev : `error: ${r.stderr.trim()}`;
    };
    const seen = await until(async () => ((await dev()) === 'klvx' ? 'klvx' : undefined), 30_000, `${name}'s route to ${peerPod} through klvx`).catch(() => dev());
    t.is(seen, 'klvx', `${name} -> ${peerPod}`);
    // the peer's VTEP: an FDB entry for the peer's node address
    const fdb = await inNodeOk(name, ['bridge', 'fdb', 'show', 'dev', 'klvx']);
    t.regex(fdb, new RegExp(`dst ${cl().address(peer.metadata.name!).replace(/\./g, '\\.')}\\b`), `${name}'s FDB names ${peer.metadata.name}`);
  }
});

test.serial('Pods on the two nodes reach each other by Pod IP and through a ClusterIP, over the VXLAN devices', async (t) => {
  const r = await cl().kubectl(['apply', '-f', '-'], {
    input: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: vx}
spec:
  replicas: 4
  selector: {matchLabels: {app: vx}}
  template:
    metadata: {labels: {app: vx}}
    spec: {containers: [{name: echo, image: "kubelite/echo:1", ports: [{containerPort: 8080}], readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 1}}]}
---
apiVersion: v1
kind: Service
metadata: {name: vx}
spec: {selector: {app: vx}, ports: [{port: 80, targetPort: 8080}]}
`,
    timeoutMs: 120_000,
  });
  if (r.code !== 0) throw new Error(r.stderr);
  const pods = await until(async () => {
    const p = await readyPods();
    return p.length === 4 && new Set(p.map((x) => x.spec.nodeName)).size === 2 ? p : undefined;
  }, 120_000, '4 Ready replicas on both nodes');
  const txBefore = new Map<string, number>();
  for (const n of cl().nodes) txBefore.set(n, (await link(n, 'klvx')).stats64?.tx?.packets ?? 0);

  for (const node of cl().nodes) {
    const from = pods.find((p) => p.spec.nodeName === node)!;
    const others = pods.filter((p) => p.spec.nodeName !== node);
    // straight to each Pod on the other node (no -T: busybox 1.35's wget crashes with it; kubectl's timeout bounds it)
    for (const o of others) {
      const out = await cl().kubectl(['exec', from.metadata.name!, '--', 'wget', '-qO-', `http://${o.status!.podIP}:8080/`], { timeoutMs: 60_000 });
      t.is(podOf(out.stdout), o.metadata.name!, `${from.metadata.name} on ${node} -> ${o.metadata.name} (${o.status!.podIP})`);
    }
    // through the ClusterIP: every replica, those of the other node included
    const vip = (await cl().client.get<{ spec: { clusterIP: string } } & Pod>(R.services, 'default', 'vx')).spec.clusterIP;
    const want = new Set(pods.map((p) => p.metadata.name!));
    const seen = new Set<string>();
    for (let i = 0; i < 10 && [...want].some((p) => !seen.has(p)); i++) {
      const out = await cl().kubectl(['exec', from.metadata.name!, '--', 'wget', '-qO-', ...Array.from({ length: 8 }, () => `http://${vip}/`)], { timeoutMs: 60_000 });
      for (const a of out.stdout.split('pod=').filter(Boolean)) seen.add(podOf(`pod=${a}`));
    }
    t.deepEqual([...seen].sort(), [...want].sort(), `ClusterIP from a Pod on ${node}`);
  }
  for (const n of cl().nodes) t.true(((await link(n, 'klvx')).stats64?.tx?.packets ?? 0) > txBefore.get(n)! + 10, `packets left ${n} through klvx`);

  // full-size packets: Pods keep their link's MTU, the VXLAN device is 50 below it (path MTU discovery)
  const [a, b] = cl().nodes.map((n) => pods.find((p) => p.spec.nodeName === n)!);
  const mk = await cl().kubectl(['exec', b.metadata.name!, '--', 'dd', 'if=/dev/urandom', 'of=/www/big', 'bs=1024', 'count=512'], { timeoutMs: 60_000 });
  t.is(mk.code, 0, mk.stderr);
  const sum = async (pod: Pod, cmd: string) => (await cl().kubectl(['exec', pod.metadata.name!, '--', 'sh', '-c', cmd], { timeoutMs: 60_000 })).stdout.trim().split(/\s+/)[0];
  const want = await sum(b, 'md5sum /www/big');
  t.regex(want, /^[0-9a-f]{32}$/);
  t.is(await sum(a, `wget -qO- http://${b.status!.podIP}:8081/big | md5sum`), want, '512 KiB across the VXLAN, intact');

  // and from this machine (which routes each node's share to that node) to a Pod on the agent
  const onAgent = pods.find((p) => p.spec.nodeName === cl().agents[0])!;
  t.is(podOf(await httpGet(onAgent.status!.podIP!, 8080, cl().bridge)), onAgent.metadata.name!);
});

test.serial('kubelite cluster delete removes the nodes and this machine\'s routes to the pod CIDR', async (t) => {
  const r = await cl().cli(['cluster', 'delete', NAME]);
  t.is(r.code, 0, r.stderr);
  const routes = await exec('ip', ['-j', 'route', 'show']);
  t.false(/"dst":"10\.240\./.test(routes.stdout), routes.stdout);
});
