// Many Docker hosts, on the real engine: a server and two agent node containers (each its own Docker
// engine) made by `kubelite cluster create --agents 2`, joined with `kubelite agent`. Replicas spread over
// the three nodes; a ClusterIP reaches every replica from a Pod on each node and from each host; NodePort
// on every node's address reaches Pods on the other nodes (with externalTrafficPolicy Local, only its own);
// a LoadBalancer IP answers from this machine and every node; DNS answers Pods on every node; logs, exec and
// port-forward reach Pods on agents through the server; an image built on one node runs on another;
// `kubectl drain` moves Pods off a node; and bad joins are refused with the reason.
//
// Slot 38: cluster `mh38` in 10.238.0.0/16 (pods 10.238.0.0/17 in /19 node shares, services
// 10.238.128.0/18, LB pool 10.238.192.0/24, nodes 10.238.255.0/24). Every packet the test sends goes to
// an address routed through the cluster's bridge (checked with `ip route get`).

import test from 'ava';
import type { Endpoints, Node, Pod, Service } from '../../src/api/types.js';
import { R } from '../../src/api/resources.js';
import { HttpClient } from '../../src/client/http-client.js';
import { nodeToken } from '../../src/server/node-auth.js';
import { buildTestNodeImage, createTestCluster, credentials, httpGet, podOf, until as waitFor, type TestCluster } from '../helpers/multihost.js';

const NAME = 'mh38';
let c: TestCluster | undefined;
const cl = () => c!;

test.before(async (t) => {
  t.timeout(20 * 60_000, 'the node image build may run debootstrap on a machine that never built it');
  await buildTestNodeImage();
  c = await createTestCluster({ name: NAME, block: 238, agents: 2, serverArgs: ['--node-cidr-mask-size=19'] });
});

test.after.always(async () => {
  await c?.destroy();
});

const web = (replicas: number) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: echo, image: "kubelite/echo:1", ports: [{containerPort: 8080}], readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 1}}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: webnp}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
`;

async function readyPods(): Promise<Pod[]> {
  const list = await cl().client.list<Pod>(R.pods, { namespace: 'default', labelSelector: 'app=web' });
  return list.items.filter((p) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'));
}

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const r = await cl().kubectl(args, { input, timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Pod names seen in answers to repeated requests, until `want` are all seen (or `max` requests). */
async function collect(ask: () => Promise<string[]>, want: Set<string>, max = 12): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < max && [...want].some((p) => !seen.has(p)); i++) for (const a of await ask()) seen.add(podOf(a));
  return seen;
}

test.serial('three nodes join: each Ready with its own share of the pod CIDR, a Lease renewed every second', async (t) => {
  const nodes = (await cl().client.list<Node>(R.nodes)).items;
  t.deepEqual(nodes.map((n) => n.metadata.name).sort(), [...cl().nodes].sort());
  for (const n of nodes) t.is(n.status?.conditions?.find((x) => x.type === 'Ready')?.status, 'True', n.metadata.name);
  const cidr = (name: string) => nodes.find((n) => n.metadata.name === name)!.spec!.podCIDR;
  t.is(cidr(cl().server), '10.238.0.0/19', 'the server keeps the first share');
  t.deepEqual(cl().agents.map(cidr).sort(), ['10.238.32.0/19', '10.238.64.0/19']);
  for (const a of cl().agents) {
    const n = nodes.find((x) => x.metadata.name === a)!;
    t.false('node-role.kubernetes.io/control-plane' in (n.metadata.labels ?? {}), 'an agent is no control plane');
    t.is(n.status?.daemonEndpoints?.kubeletEndpoint?.Port, 10250);
    t.is(n.status?.addresses?.find((x) => x.type === 'InternalIP')?.address, cl().address(a));
  }
  const renew = async (node: string) => (await cl().client.get<{ spec: { renewTime: string } } & Node>(R.leases, 'kube-node-lease', node)).spec.renewTime;
  const first = await renew(cl().agents[0]);
  await waitFor(async () => (await renew(cl().agents[0])) !== first, 5000, 'the agent to renew its Lease');
  // the host routes each agent's share through that agent
  const routes = await cl().inNode(cl().server, ['ip', '-j', 'route', 'show', 'proto', '111']);
  t.regex(routes.stdout, /10\.238\.32\.0\/19/, 'the server routes to an agent\'s share');
});

test.serial('a 6-replica Deployment spreads over the 3 nodes; Endpoints carry nodeName', async (t) => {
  await kubectlOk(['apply', '-f', '-'], web(6));
  const pods = await waitFor(async () => {
    const p = await readyPods();
    return p.length === 6 ? p : undefined;
  }, 90_000, '6 Ready replicas');
  const perNode = new Map<string, number>();
  for (const p of pods) perNode.set(p.spec.nodeName!, (perNode.get(p.spec.nodeName!) ?? 0) + 1);
  t.deepEqual([...perNode.entries()].sort(), cl().nodes.map((n) => [n, 2]).sort());
  const ep = await waitFor(async () => {
    const e = await cl().client.get<Endpoints>(R.endpoints, 'default', 'web');
    return (e.subsets ?? []).flatMap((s) => s.addresses ?? []).length === 6 ? e : undefined;
  }, 30_000, 'the Endpoints to list 6 addresses');
  const addrs = (ep.subsets ?? []).flatMap((s) => s.addresses ?? []);
  for (const a of addrs) t.is(a.nodeName, pods.find((p) => p.status?.podIP === a.ip)?.spec.nodeName, a.ip);
});

test.serial('a ClusterIP reaches every replica from each host and from a Pod on each node', async (t) => {
  const svc = await cl().client.get<{ spec: { clusterIP: string } } & Pod>(R.services, 'default', 'web');
  const vip = svc.spec.clusterIP;
  const all = new Set((await readyPods()).map((p) => p.metadata.name!));
  // this machine (routed to the server node) and each node container
  const fromHost = await collect(async () => Promise.all(Array.from({ length: 6 }, () => httpGet(vip, 80, cl().bridge))), all);
  t.deepEqual([...fromHost].sort(), [...all].sort(), 'from this machine');
  for (const node of cl().nodes) {
    const seen = await collect(async () => {
      const r = await cl().inNode(node, ['sh', '-c', `for i in 1 2 3 4 5 6 7 8; do curl -s -m 3 http://${vip}/; echo; done`]);
      return r.stdout.split('\n').filter(Boolean);
    }, all);
    t.deepEqual([...seen].sort(), [...all].sort(), `from node ${node}`);
  }
  // from a Pod on each node (busybox wget fetches each URL on a new connection)
  const pods = await readyPods();
  for (const node of cl().nodes) {
    const pod = pods.find((p) => p.spec.nodeName === node)!;
    const seen = await collect(async () => {
      const out = await kubectlOk(['exec', pod.metadata.name!, '--', 'wget', '-qO-', ...Array.from({ length: 8 }, () => `http://${vip}/`)]);
      return out.split('pod=').filter(Boolean).map((x) => `pod=${x}`);
    }, all);
    t.deepEqual([...seen].sort(), [...all].sort(), `from a Pod on ${node}`);
  }
});

test.serial('NodePort on every node\'s address reaches Pods on the other nodes', async (t) => {
  const svc = await cl().client.get<{ spec: { ports: { nodePort: number }[] } } & Pod>(R.services, 'default', 'webnp');
  const port = svc.spec.ports[0].nodePort;
  const pods = await readyPods();
  for (const node of cl().nodes) {
    const elsewhere = new Set(pods.filter((p) => p.spec.nodeName !== node).map((p) => p.metadata.name!));
    const seen = await collect(async () => Promise.all(Array.from({ length: 6 }, () => httpGet(cl().address(node), port, cl().bridge))), elsewhere, 15);
    for (const p of elsewhere) t.true(seen.has(p), `NodePort on ${node} reaches ${p} on another node`);
  }
});

test.serial('externalTrafficPolicy Local keeps a NodePort to its node\'s Pods; a LoadBalancer IP answers from this machine and every node', async (t) => {
  await kubectlOk(['apply', '-f', '-'], `
apiVersion: v1
kind: Service
metadata: {name: weblocal}
spec: {type: NodePort, externalTrafficPolicy: Local, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: weblb}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
`);
  const pods = await readyPods();
  const all = new Set(pods.map((p) => p.metadata.name!));
  const local = await cl().client.get<{ spec: { ports: { nodePort: number }[] } } & Pod>(R.services, 'default', 'weblocal');
  const port = local.spec.ports[0].nodePort;
  for (const node of cl().nodes) {
    const mine = new Set(pods.filter((p) => p.spec.nodeName === node).map((p) => p.metadata.name!));
    const seen = await waitFor(async () => {
      const s = await collect(async () => Promise.all(Array.from({ length: 6 }, () => httpGet(cl().address(node), port, cl().bridge))), mine, 10);
      return [...mine].every((p) => s.has(p)) ? s : undefined;
    }, 30_000, `NodePort (Local) on ${node} to answer from its Pods`);
    t.deepEqual([...seen].sort(), [...mine].sort(), `NodePort (Local) on ${node}: its own Pods only`);
  }
  const lb = await waitFor(async () => {
    const s = await cl().client.get<Service>(R.services, 'default', 'weblb');
    return s.status?.loadBalancer?.ingress?.[0]?.ip;
  }, 30_000, 'a LoadBalancer IP');
  t.true(lb.startsWith(`10.${cl().block}.192.`), lb);
  const fromHost = await waitFor(async () => {
    const s = await collect(async () => Promise.all(Array.from({ length: 6 }, () => httpGet(lb, 80, cl().bridge))), all);
    return s.size === all.size ? s : undefined;
  }, 30_000, 'the LoadBalancer IP to reach every replica from this machine');
  t.deepEqual([...fromHost].sort(), [...all].sort(), 'LoadBalancer from this machine');
  for (const node of cl().nodes) {
    const seen = await collect(async () => {
      const r = await cl().inNode(node, ['sh', '-c', `for i in 1 2 3 4 5 6 7 8; do curl -s -m 3 http://${lb}/; echo; done`]);
      return r.stdout.split('\n').filter(Boolean);
    }, all);
    t.deepEqual([...seen].sort(), [...all].sort(), `LoadBalancer from node ${node}`);
  }
  await kubectlOk(['delete', 'service', 'weblocal', 'weblb']);
});

test.serial('DNS answers Pods on every node, each from the replica on its own node', async (t) => {
  const eps = await cl().client.get<Endpoints>(R.endpoints, 'kube-system', 'kube-dns');
  t.deepEqual((eps.subsets ?? []).flatMap((s) => s.addresses ?? []).map((a) => a.nodeName).sort(), [...cl().nodes].sort(), 'a replica per node');
  const svc = await cl().client.get<{ spec: { clusterIP: string; internalTrafficPolicy?: string } } & Pod>(R.services, 'kube-system', 'kube-dns');
  t.is(svc.spec.internalTrafficPolicy, 'Local');
  const vip = (await cl().client.get<{ spec: { clusterIP: string } } & Pod>(R.services, 'default', 'web')).spec.clusterIP;
  const pods = await readyPods();
  for (const node of cl().nodes) {
    const pod = pods.find((p) => p.spec.nodeName === node)!;
    const out = await kubectlOk(['exec', pod.metadata.name!, '--', 'nslookup', 'web.default.svc.cluster.local']);
    t.regex(out, new RegExp(`Address:\\s*${vip.replace(/\./g, '\\.')}`), `a Pod on ${node}`);
  }
});

test.serial('logs, exec and port-forward of a Pod on an agent go through the server to its node', async (t) => {
  const pod = (await readyPods()).find((p) => p.spec.nodeName === cl().agents[1])!;
  const name = pod.metadata.name!;
  const exec = await kubectlOk(['exec', name, '--', 'cat', '/etc/hostname']);
  t.is(exec.trim(), name);
  const logs = await kubectlOk(['logs', name, '--tail', '5']);
  t.regex(logs, /GET \/ready 200|GET \/ 200/);
  const pf = cl().kubectl.spawn(['port-forward', `pod/${name}`, '23880:8080']);
  try {
    const answer = await waitFor(async () => {
      const a = await httpGet('127.0.0.1', 23880, 'lo').catch(() => '');
      return a.includes(`pod=${name}`) ? a : undefined;
    }, 15_000, 'port-forward to answer');
    t.is(podOf(answer), name, 'port-forward reaches the Pod on the agent');
  } finally {
    pf.kill();
  }
});

test.serial('an image built on one node runs on another; imagePullPolicy Never still means never', async (t) => {
  const [a0, a1] = cl().agents;
  const built = await cl().inNode(a0, ['sh', '-c', 'printf "FROM kubelite/echo:1\\nRUN echo built-on-agent-0 > /marker\\n" | docker build -q -t mh38img:v1 -']);
  t.is(built.exitCode, 0, built.stderr);
  t.not((await cl().inNode(a1, ['docker', 'image', 'inspect', 'mh38img:v1'])).exitCode, 0, 'agent-1 does not have it');
  const pod = (name: string, policy: string) => `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"${name}"},"spec":{"nodeSelector":{"kubernetes.io/hostname":"${a1}"},"containers":[{"name":"app","image":"mh38img:v1","imagePullPolicy":"${policy}"}]}}`;
  await kubectlOk(['apply', '-f', '-'], pod('never', 'Never'));
  const never = await waitFor(async () => {
    const p = await cl().client.get<Pod>(R.pods, 'default', 'never');
    return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImageNeverPull' ? p : undefined;
  }, 60_000, 'ErrImageNeverPull');
  t.truthy(never);
  await kubectlOk(['delete', 'pod', 'never', '--now']);
  await kubectlOk(['apply', '-f', '-'], pod('img', 'IfNotPresent'));
  await waitFor(async () => (await cl().client.get<Pod>(R.pods, 'default', 'img')).status?.phase === 'Running', 60_000, 'the Pod to run on agent-1');
  t.is((await kubectlOk(['exec', 'img', '--', 'cat', '/marker'])).trim(), 'built-on-agent-0');
  const events = await kubectlOk(['get', 'events', '--field-selector', 'involvedObject.name=img', '-o', 'jsonpath={.items[*].message}']);
  t.regex(events, /Successfully pulled image "mh38img:v1" from another node/);
  await kubectlOk(['delete', 'pod', 'img', '--now']);
});

test.serial('kubectl drain evicts the Pods off a node (they run elsewhere); uncordon lets Pods back', async (t) => {
  const node = cl().agents[1];
  const out = await kubectlOk(['drain', node, '--ignore-daemonsets', '--timeout', '90s']);
  t.regex(out, /evicted/);
  t.regex(out, new RegExp(`node/${node} drained`));
  const pods = await waitFor(async () => {
    const p = await readyPods();
    return p.length === 6 && p.every((x) => x.spec.nodeName !== node) ? p : undefined;
  }, 60_000, '6 Ready replicas, none on the drained node');
  t.is(pods.length, 6);
  const n = await cl().client.get<Node>(R.nodes, undefined, node);
  t.true(n.spec?.unschedulable);
  await kubectlOk(['uncordon', node]);
  await kubectlOk(['scale', 'deployment/web', '--replicas', '9']);
  await waitFor(async () => (await readyPods()).some((p) => p.spec.nodeName === node), 60_000, 'a new replica on the uncordoned node');
  t.falsy((await cl().client.get<Node>(R.nodes, undefined, node)).spec?.unschedulable, 'uncordoned');
});

test.serial('bad joins are refused with the reason: a foreign CA, a wrong secret, a claimed name, an address not on the host', async (t) => {
  const a0 = cl().agents[0];
  const token = (await cl().inNode(a0, ['cat', '/run/kubelite/join-token'])).stdout.trim();
  const secret = token.slice(token.lastIndexOf(':') + 1);
  const agent = (tok: string, extra: string[] = []) =>
    cl().inNode(a0, ['kubelite', 'agent', '--server', `https://${cl().server}:6443`, '--token', tok, '--instance', 'zz', '--kubelet-port', '0', '--data-dir', `/tmp/bad-${Math.random().toString(36).slice(2)}`, ...extra]);
  const foreign = await agent(`K10${'0'.repeat(64)}::node:${secret}`);
  t.not(foreign.exitCode, 0);
  t.regex(foreign.stderr, /has a CA whose sha256 is [0-9a-f]{16}…, but the join token pins 0000000000000000…: .*no credential was sent/);
  const wrong = await agent(`${token.slice(0, token.lastIndexOf(':'))}:wrongwrongwrongwrong1234`);
  t.regex(wrong.stderr, /refused the join \(HTTP 401\): the join token is not this cluster's/);
  const taken = await agent(token, ['--node-name', cl().agents[1]]);
  t.regex(taken.stderr, /HTTP 409.*already claimed by another agent/);
  const server = await agent(token, ['--node-name', cl().server]);
  t.regex(server.stderr, /HTTP 409.*is the server's own node/);
  const notMine = await agent(token, ['--node-name', 'elsewhere', '--node-ip', '10.99.99.99']);
  t.regex(notMine.stderr, /--node-ip 10\.99\.99\.99 is not an address of this host/);
  const garbage = await agent('not-a-token');
  t.regex(garbage.stderr, /must have the form K10<sha256 of the server CA>::node:<secret>/);
});

test.serial('a node\'s credentials reach only what a node needs', async (t) => {
  const { token, caPem } = credentials(cl().kubeconfig);
  const nodeClient = new HttpClient({ server: `https://${cl().address(cl().server)}:6443`, token: nodeToken(token, cl().agents[0]), caPem });
  try {
    t.true((await nodeClient.list(R.pods)).items.length > 0, 'a node reads Pods');
    const denied = await t.throwsAsync(nodeClient.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'i' }] } } as Pod));
    t.regex(denied!.message, /User "system:node:kubelite-mh38-agent-0" cannot create resource "pods"/);
    const other = await t.throwsAsync(nodeClient.patch(R.nodes, undefined, cl().agents[1], 'merge', { metadata: { labels: { x: 'y' } } }));
    t.regex(other!.message, /cannot modify node 'kubelite-mh38-agent-1'/);
    const kc = await nodeClient.raw('GET', '/kubeconfig');
    t.is(kc.status, 403, 'the admin kubeconfig is not a node\'s');
  } finally {
    nodeClient.close();
  }
});

test.serial('an exhausted pod CIDR is reported on the Node; a freed share is given again', async (t) => {
  const fake = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: {} }) as Node;
  t.teardown(async () => {
    for (const n of ['mh38-fake-1', 'mh38-fake-2']) await cl().client.delete(R.nodes, undefined, n).catch(() => undefined);
  });
  await cl().client.create(R.nodes, fake('mh38-fake-1'));
  const one = await waitFor(async () => (await cl().client.get<Node>(R.nodes, undefined, 'mh38-fake-1')).spec?.podCIDR, 10_000, 'the last free share');
  t.is(one, '10.238.96.0/19');
  await cl().client.create(R.nodes, fake('mh38-fake-2'));
  const why = await waitFor(async () => (await cl().client.get<Node>(R.nodes, undefined, 'mh38-fake-2')).metadata.annotations?.['kubelite.io/pod-cidr-error'], 10_000, 'the exhaustion to be reported');
  t.regex(why, /the pod CIDR 10\.238\.0\.0\/17 is exhausted: all 4 of its \/19 node shares are held by other Nodes/);
  const events = await cl().kubectl(['get', 'events', '-A', '--field-selector', 'involvedObject.name=mh38-fake-2', '-o', 'jsonpath={.items[*].reason}']);
  t.regex(events.stdout, /CIDRNotAvailable/);
  await cl().client.delete(R.nodes, undefined, 'mh38-fake-1');
  t.is(await waitFor(async () => (await cl().client.get<Node>(R.nodes, undefined, 'mh38-fake-2')).spec?.podCIDR, 15_000, 'the freed share'), '10.238.96.0/19');
});

test.serial('kubelite cluster delete removes every node and every route, the agents\' shares too', async (t) => {
  const r = await cl().cli(['cluster', 'delete', NAME]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /kubelite-mh38-agent-0, kubelite-mh38-agent-1/);
  t.regex(r.stdout, /10\.238\.32\.0\/19/);
  const { exec } = await import('../../src/util/exec.js');
  const routes = JSON.parse((await exec('ip', ['-j', 'route', 'show'])).stdout) as { dst: string }[];
  t.deepEqual(routes.filter((x) => x.dst.startsWith('10.238.')), []);
});
