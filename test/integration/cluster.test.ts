// kubelite inside Docker, on the real engine: the node image built here (debootstrap once, then only
// kubelite's layer), `kubelite cluster create` routed from the host, the seed example through the host's
// kubectl, an image built on the node's engine running as a Pod at once, a "CI job" container using the
// served kubeconfig, the node image as a docker:dind-style CI service, a node whose dockerd never answers,
// and `kubelite cluster delete` leaving nothing behind.
//
// Slot 27: cluster `it27` in 10.233.0.0/16 (pods 10.233.0.0/17, services 10.233.128.0/18, LB pool
// 10.233.192.0/24, nodes 10.233.255.0/24); the CI-service network 10.234.255.0/24. Every packet the
// test sends goes to an address routed through a bridge this test made (checked with `ip route get`).

import test from 'ava';
import Dockerode from 'dockerode';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { deleteCluster } from '../../src/cluster/delete.js';
import { listClusters } from '../../src/cluster/docker.js';
import { buildNodeImage } from '../../src/images/node-image.js';
import { nodeImageRef } from '../../src/images/node-image-plan.js';
import { exec } from '../../src/util/exec.js';
import { KUBELITE_VERSION } from '../../src/version.js';
import { execIn } from '../helpers/docker.js';
import { findKubectl, kubectl132Binary, kubectlFor, type Kubectl } from '../helpers/kubectl.js';
import { ROOT, waitFor } from '../helpers/server.js';

const NAME = 'it27';
const NODE = `kubelite-${NAME}-server-0`;
const BRIDGE = `klc-${NAME}`;
const NET = `kubelite-${NAME}-net`;
const CIDRS = { pod: '10.233.0.0/17', svc: '10.233.128.0/18', lb: '10.233.192.0/24', node: '10.233.255.0/24' };
const NODE_IP = '10.233.255.2';
const CI_NET = 'kl-it27-ci';
const CI_SUBNET = '10.234.255.0/24';
const TEST_LABEL = 'io.kubelite.test';
const IMAGE = nodeImageRef(KUBELITE_VERSION);

const docker = new Dockerode();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-it27-'));
const clustersDir = path.join(tmp, 'clusters');
const userKubeconfig = path.join(tmp, 'home-kubeconfig');
// the 1.32 build itself (the host's kubectl may be a dispatcher that cannot run inside a container)
const kubectlBin = kubectl132Binary() ?? (findKubectl() ? fs.realpathSync(findKubectl()!) : undefined);
let kubectl: Kubectl | undefined;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const dist = path.join(ROOT, 'dist/cli/main.js');
  const bin = process.env.KUBELITE_TEST_DIST === '1' && fs.existsSync(dist) ? [dist] : ['--import', 'tsx', path.join(ROOT, 'cli/main.ts')];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...bin, ...args], { cwd: ROOT, env: { ...process.env, KUBELITE_CLUSTERS_DIR: clustersDir, KUBECONFIG: userKubeconfig } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** `ip route get` says the packet goes out through one of our bridges (or is for this host). */
async function assertOurRoute(ip: string, bridge: string): Promise<void> {
  const r = await exec('ip', ['-j', 'route', 'get', ip]);
  const [route] = JSON.parse(r.stdout) as { dev?: string; type?: string }[];
  if (route?.type !== 'local' && route?.dev !== bridge) throw new Error(`${ip} would leave through ${route?.dev}: refusing to send test traffic there`);
}

async function get(ip: string, port: number, urlPath = '/', bridge = BRIDGE): Promise<string> {
  await assertOurRoute(ip, bridge);
  return new Promise((resolve, reject) => {
    const req = http.get({ host: ip, port, path: urlPath, agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body.trim()));
    });
    req.on('timeout', () => req.destroy(new Error(`${ip}:${port}: no answer`)));
    req.on('error', reject);
  });
}

async function clusterObjects(): Promise<{ containers: string[]; networks: string[]; volumes: string[]; routes: string[] }> {
  const label = [`io.kubelite.cluster=${NAME}`];
  const [cs, ns, vs] = await Promise.all([docker.listContainers({ all: true, filters: { label } }), docker.listNetworks({ filters: { label } }), docker.listVolumes({ filters: { label } })]);
  const routes = (JSON.parse((await exec('ip', ['-j', 'route', 'show'])).stdout) as { dst: string; dev?: string }[])
    .filter((r) => r.dev === BRIDGE || r.dst.startsWith('10.233.'))
    .map((r) => `${r.dst} dev ${r.dev}`);
  return { containers: cs.map((c) => c.Names[0]), networks: ns.map((n) => n.Name), volumes: (vs.Volumes ?? []).map((v) => v.Name), routes };
}

async function removeTestObjects(): Promise<void> {
  const label = [`${TEST_LABEL}=${NAME}`];
  for (const c of await docker.listContainers({ all: true, filters: { label } })) await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
  for (const v of (await docker.listVolumes({ filters: { label } })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => undefined);
  for (const n of await docker.listNetworks({ filters: { label } })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
}

async function tokenOf(kubeconfig: string): Promise<string> {
  return (YAML.parse(fs.readFileSync(kubeconfig, 'utf8')) as { users: { user: { token: string } }[] }).users[0].user.token;
}

async function cleanupAll(): Promise<void> {
  await removeTestObjects();
  for (const n of [NAME, `${NAME}x`]) await deleteCluster({ name: n, docker, clustersDir }).catch(() => undefined);
}

test.before(async (t) => {
  t.timeout(20 * 60_000, 'the node image build runs debootstrap on a machine that has never built it');
  await cleanupAll();
});

test.after.always(async () => {
  kubectl?.cleanup();
  await cleanupAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test.serial('the node image builds here without a registry; an unchanged rebuild does nothing', async (t) => {
  t.timeout(20 * 60_000);
  const logs: string[] = [];
  const first = await buildNodeImage({ docker, log: (l) => logs.push(l) });
  t.is(first.ref, IMAGE);
  const info = await docker.getImage(IMAGE).inspect();
  t.deepEqual(info.Config.Entrypoint, ['/usr/bin/tini', '--', '/usr/local/bin/kubelite-node']);
  t.truthy(info.Config.Volumes?.['/var/lib/docker']);
  t.is(info.Config.Labels?.['io.kubelite.image.hash'], first.hash);
  const again = await buildNodeImage({ docker });
  t.false(again.built, 'nothing changed: nothing rebuilt');
  t.false(again.baseBuilt, 'debootstrap does not run again');
  t.is(again.id, first.id);
  t.log(`first build ${first.seconds}s (${first.built ? (first.baseBuilt ? 'with debootstrap' : 'top layer') : 'up to date'}), unchanged ${again.seconds}s`);
});

test.serial('kubelite cluster create: the Node is Ready, the kubeconfig written, the ranges routed through the cluster bridge', async (t) => {
  t.timeout(5 * 60_000);
  const r = await cli([
    'cluster', 'create', NAME,
    '--pod-cidr', CIDRS.pod, '--service-cidr', CIDRS.svc, '--lb-pool', CIDRS.lb, '--node-cidr', CIDRS.node,
    '--docker-api',
    // the cluster DNS forwards to a stub that does not exist: nothing leaves for the host's resolvers
    '--server-arg=--upstream-dns=127.0.0.1:1',
  ]);
  t.is(r.code, 0, r.stderr + r.stdout);
  t.regex(r.stdout, new RegExp(`cluster ${NAME} is ready in [\\d.]+s: node ${NODE} at ${NODE_IP.replace(/\./g, '\\.')}`));
  t.regex(r.stdout, /Docker {6}export DOCKER_HOST=tcp:\/\/10\.233\.255\.2:2375/);
  const kubeconfig = path.join(clustersDir, NAME, 'kubeconfig');
  t.is(fs.statSync(kubeconfig).mode & 0o777, 0o600);
  t.is((YAML.parse(fs.readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] }).clusters[0].cluster.server, `https://${NODE_IP}:6443`);

  if (!kubectlBin) return t.fail('no kubectl 1.32 on this machine');
  kubectl = kubectlFor(kubeconfig, kubectlBin);
  const nodes = await kubectl(['get', 'nodes', '-o', 'json']);
  t.is(nodes.code, 0, nodes.stderr);
  const items = (JSON.parse(nodes.stdout) as { items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[] }).items;
  t.deepEqual(items.map((n) => n.metadata.name), [NODE], 'the Node is named after its container');
  t.true(items[0].status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'));

  for (const probe of ['10.233.0.1', '10.233.128.1', '10.233.192.1']) {
    const route = JSON.parse((await exec('ip', ['-j', 'route', 'get', probe])).stdout)[0] as { dev: string; gateway: string };
    t.deepEqual([route.dev, route.gateway], [BRIDGE, NODE_IP], `${probe} goes to the node, never the uplink`);
  }

  const list = await cli(['cluster', 'list']);
  t.regex(list.stdout, new RegExp(`^${NAME} +running +1 +${NODE_IP.replace(/\./g, '\\.')} +10\\.233\\.0\\.0/17 +10\\.233\\.128\\.0/18 +10\\.233\\.192\\.0/24`, 'm'));
  const path1 = await cli(['cluster', 'kubeconfig', NAME, '--merge']);
  t.is(path1.stdout.trim(), kubeconfig);
  const merged = YAML.parse(fs.readFileSync(userKubeconfig, 'utf8')) as { 'current-context': string };
  t.is(merged['current-context'], `kubelite-${NAME}`);
  const dns = await cli(['cluster', 'dns', NAME]);
  t.regex(dns.stdout, /^server=\/svc\.cluster\.local\/10\.233\.128\.10$/m);
});

test.serial('bad input: a name taken, a port taken, an image missing, a bad name; nothing is left behind by any of them', async (t) => {
  const before = await clusterObjects();
  const taken = await cli(['cluster', 'create', NAME, '--pod-cidr', '10.235.0.0/17', '--service-cidr', '10.235.128.0/18', '--lb-pool', '10.235.192.0/24', '--node-cidr', '10.235.255.0/24']);
  t.is(taken.code, 1);
  t.regex(taken.stderr, new RegExp(`cluster ${NAME} already exists .*kubelite cluster delete ${NAME}`));

  const holder = net.createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
  const port = (holder.address() as net.AddressInfo).port;
  const busy = await cli(['cluster', 'create', `${NAME}x`, '--api-port', String(port), '--pod-cidr', '10.235.0.0/17', '--service-cidr', '10.235.128.0/18', '--lb-pool', '10.235.192.0/24', '--node-cidr', '10.235.255.0/24']);
  holder.close();
  t.is(busy.code, 1);
  t.regex(busy.stderr, new RegExp(`--api-port: port ${port} on 127\\.0\\.0\\.1 is taken by another program; pick another port`));

  const noImage = await cli(['cluster', 'create', `${NAME}x`, '--image', 'kubelite/no-such-node:0', '--pod-cidr', '10.235.0.0/17', '--service-cidr', '10.235.128.0/18', '--lb-pool', '10.235.192.0/24', '--node-cidr', '10.235.255.0/24']);
  t.is(noImage.code, 1);
  t.regex(noImage.stderr, /--image kubelite\/no-such-node:0: no such image here \(kubelite images build cluster-node builds the default one; nothing is pulled\)/);

  const overlap = await cli(['cluster', 'create', `${NAME}x`, '--pod-cidr', CIDRS.pod]);
  t.is(overlap.code, 1);
  t.regex(overlap.stderr, /--pod-cidr 10\.233\.0\.0\/17 overlaps 10\.233\.0\.0\/17/);

  const bad = await cli(['cluster', 'create', 'Bad_Name']);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /cluster name "Bad_Name": must be 1-32 characters/);

  t.deepEqual(await clusterObjects(), before);
  t.deepEqual((await listClusters(docker)).filter((c) => c.name === `${NAME}x`), []);
});

test.serial('the seed example through the host\'s kubectl answers from the host: ClusterIP, NodePort on the node, LoadBalancer IP, Pod IP, DNS', async (t) => {
  if (!kubectl) return t.fail('no cluster');
  const applied = await kubectl(['apply', '-f', path.join(ROOT, 'examples')]);
  t.is(applied.code, 0, applied.stderr);
  const rollout = await kubectl(['rollout', 'status', 'deployment/my-backend', '--timeout=120s'], { timeoutMs: 130_000 });
  t.is(rollout.code, 0, rollout.stderr);
  const svc = async (name: string) => JSON.parse((await kubectl!(['get', 'svc', name, '-o', 'json'])).stdout) as { spec: { clusterIP: string; ports: { nodePort?: number; port: number }[] }; status: { loadBalancer: { ingress?: { ip: string }[] } } };
  const cluster = await svc('my-backend');
  t.true(cluster.spec.clusterIP.startsWith('10.233.'), cluster.spec.clusterIP);
  const byVIP = (await waitFor(() => get(cluster.spec.clusterIP, 80).then((b) => (b.startsWith('pod=my-backend-') ? b : undefined)), 30_000, 'the ClusterIP from the host'))!;
  t.regex(byVIP, /^pod=my-backend-\S+ ip=10\.233\.0\.\d+ /);

  const nodePort = await svc('my-backend-nodeport');
  t.is(nodePort.spec.ports[0].nodePort, 30007);
  t.regex((await waitFor(() => get(NODE_IP, 30007).then((b) => (b.startsWith('pod=') ? b : undefined)), 30_000, 'the NodePort on the node'))!, /^pod=my-backend-/);

  const lb = (await waitFor(async () => (await svc('my-backend-lb')).status.loadBalancer.ingress?.[0]?.ip, 30_000, 'a LoadBalancer address'))!;
  t.true(lb.startsWith('10.233.192.'), lb);
  t.regex((await waitFor(() => get(lb, 8080).then((b) => (b.startsWith('pod=') ? b : undefined)), 30_000, 'the LoadBalancer IP'))!, /^pod=my-backend-/);

  const podIP = /ip=(\S+)/.exec(byVIP)![1];
  t.regex(await get(podIP, 8080), /^pod=my-backend-/);

  const kubeconfig = path.join(clustersDir, NAME, 'kubeconfig');
  const lookup = await cli(['--kubeconfig', kubeconfig, 'dns', 'lookup', 'my-backend']);
  t.is(lookup.code, 0, lookup.stderr);
  t.regex(lookup.stdout, new RegExp(`my-backend\\.default\\.svc\\.cluster\\.local\\. \\d+ IN A ${cluster.spec.clusterIP.replace(/\./g, '\\.')}`));
});

test.serial('a CI job on the cluster network: the served kubeconfig, docker build on the node\'s engine, the image runs as a Pod at once, the Service by NodePort', async (t) => {
  t.timeout(4 * 60_000);
  if (!kubectlBin) return t.fail('no kubectl');
  const token = await tokenOf(path.join(clustersDir, NAME, 'kubeconfig'));
  const job = await docker.createContainer({
    name: `kl-${NAME}-job`,
    Image: IMAGE,
    Entrypoint: ['sleep', '600'],
    Cmd: [],
    Env: [`KUBELITE_TOKEN=${token}`, `DOCKER_HOST=tcp://${NODE}:2375`],
    Labels: { [TEST_LABEL]: NAME },
    HostConfig: { NetworkMode: NET, Binds: [`${kubectlBin}:/usr/local/bin/kubectl:ro`] },
  });
  await job.start();
  const run = async (cmd: string[]) => {
    const r = await execIn(job.id, cmd, docker);
    if (r.exitCode !== 0) throw new Error(`${cmd.join(' ')}: exit ${r.exitCode}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  // the job asks the node by its name on the job's network, proving it knows the token
  await run(['curl', '-sSf', '-k', '-H', `Authorization: Bearer ${token}`, '-o', '/tmp/kubeconfig', `https://${NODE}:6443/kubeconfig`]);
  const served = YAML.parse(await run(['cat', '/tmp/kubeconfig'])) as { clusters: { cluster: Record<string, string> }[] };
  t.is(served.clusters[0].cluster.server, `https://${NODE}:6443`);
  t.regex(await run(['kubectl', '--kubeconfig', '/tmp/kubeconfig', 'get', 'nodes', '-o', 'name']), new RegExp(`^node/${NODE}$`, 'm'));

  // an image built on the node's engine: no load step
  await run(['sh', '-c', 'mkdir -p /tmp/ctx && printf "FROM kubelite/echo:1\\nRUN echo built-by-the-job > /www/job\\n" > /tmp/ctx/Dockerfile']);
  await run(['docker', 'build', '-q', '-t', 'job-app:1', '/tmp/ctx']);
  await run(['kubectl', '--kubeconfig', '/tmp/kubeconfig', 'run', 'job-app', '--image=job-app:1', '--port=8080']);
  await run(['kubectl', '--kubeconfig', '/tmp/kubeconfig', 'wait', '--for=condition=Ready', 'pod/job-app', '--timeout=60s']);
  const podIP = (await run(['kubectl', '--kubeconfig', '/tmp/kubeconfig', 'get', 'pod', 'job-app', '-o', 'jsonpath={.status.podIP}'])).trim();
  t.is(await get(podIP, 8081, '/job'), 'built-by-the-job', 'the Pod runs the image the job built a moment before');

  // the Service, from the job, by the node's name and the NodePort
  t.regex(await run(['curl', '-sSf', '-m', '5', `http://${NODE}:30007/`]), /^pod=my-backend-/);

  // without the token: no kubeconfig
  const anon = await execIn(job.id, ['curl', '-sk', '-o', '/dev/null', '-w', '%{http_code}', `https://${NODE}:6443/kubeconfig`], docker);
  t.is(anon.stdout, '401');
});

test.serial('the node image as a docker:dind-style CI service: Docker API on 2375, Kubernetes API on 6443, a kubeconfig on a shared volume naming the service', async (t) => {
  t.timeout(4 * 60_000);
  if (!kubectlBin) return t.fail('no kubectl');
  await docker.createNetwork({ Name: CI_NET, Driver: 'bridge', Labels: { [TEST_LABEL]: NAME }, Options: { 'com.docker.network.bridge.name': 'klc-it27ci' }, IPAM: { Config: [{ Subnet: CI_SUBNET }] } });
  await docker.createVolume({ Name: 'kl-it27-shared', Labels: { [TEST_LABEL]: NAME } });
  const token = 'ci-token-0123456789abcdef';
  // what GitLab does with `services: [{name: kubelite/cluster-node, alias: kubelite}]` and the job's variables
  const svc = await docker.createContainer({
    name: 'kl-it27-service',
    Image: IMAGE,
    Env: [
      `KUBELITE_TOKEN=${token}`,
      'KUBELITE_DOCKER_TCP=2375',
      'KUBELITE_KUBECONFIG_OUT=/shared/kubeconfig',
      'KUBELITE_SERVER_URL=https://kubelite:6443',
      'DOCKER_HOST=tcp://kubelite:2375',
    ],
    Labels: { [TEST_LABEL]: NAME },
    HostConfig: {
      NetworkMode: CI_NET,
      CapAdd: ['ALL'],
      CapDrop: ['SYS_RESOURCE'],
      SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
      MaskedPaths: [],
      ReadonlyPaths: [],
      Binds: ['kl-it27-shared:/shared'],
    },
    NetworkingConfig: { EndpointsConfig: { [CI_NET]: { Aliases: ['kubelite'] } } },
  });
  await svc.start();
  const job = await docker.createContainer({
    name: 'kl-it27-cijob',
    Image: IMAGE,
    Entrypoint: ['sleep', '600'],
    Cmd: [],
    Env: ['DOCKER_HOST=tcp://kubelite:2375', 'KUBECONFIG=/shared/kubeconfig'],
    Labels: { [TEST_LABEL]: NAME },
    HostConfig: { NetworkMode: CI_NET, Binds: ['kl-it27-shared:/shared:ro', `${kubectlBin}:/usr/local/bin/kubectl:ro`] },
  });
  await job.start();
  const tryRun = async (cmd: string[]) => execIn(job.id, cmd, docker);
  const nodes = await waitFor(async () => {
    const r = await tryRun(['kubectl', 'get', 'nodes', '-o', 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}']);
    return r.exitCode === 0 && r.stdout === 'True' ? r : undefined;
  }, 120_000, 'the service\'s Node Ready through the shared kubeconfig', 500);
  t.is(nodes!.stdout, 'True');
  const shared = YAML.parse((await tryRun(['cat', '/shared/kubeconfig'])).stdout) as { clusters: { cluster: Record<string, string> }[] };
  t.is(shared.clusters[0].cluster.server, 'https://kubelite:6443');
  t.is(shared.clusters[0].cluster['tls-server-name'], 'kubernetes', 'the alias is not in the certificate: kubectl checks the name it is');
  const info = await tryRun(['docker', 'info', '--format', '{{.ServerVersion}}']);
  t.is(info.exitCode, 0, info.stderr);
  t.regex(info.stdout, /^20\./);
  const served = await tryRun(['curl', '-sSf', '-k', '-H', `Authorization: Bearer ${token}`, 'https://kubelite:6443/kubeconfig']);
  t.is((YAML.parse(served.stdout) as { clusters: { cluster: Record<string, string> }[] }).clusters[0].cluster.server, 'https://kubelite:6443');

  // docker stop: kubelite first, then dockerd, within the stop timeout (not killed)
  const stopped = Date.now();
  await svc.stop({ t: 30 });
  const state = (await svc.inspect()).State;
  t.not(state.ExitCode, 137, 'stopped cleanly, not killed');
  t.true(Date.now() - stopped < 30_000);
  const logs = (await svc.logs({ stdout: true, stderr: true })).toString();
  t.regex(logs, /kubelite-node: stopping dockerd/);
});

test.serial('a node whose dockerd never answers exits with the last lines of its log, not a hang', async (t) => {
  t.timeout(2 * 60_000);
  const c = await docker.createContainer({
    name: 'kl-it27-stuck',
    Image: IMAGE,
    Env: ['KUBELITE_DOCKERD_ARGS=--containerd=/run/no-such-containerd.sock', 'KUBELITE_DOCKERD_TIMEOUT=5'],
    Labels: { [TEST_LABEL]: NAME },
    HostConfig: { NetworkMode: 'none', CapAdd: ['ALL'], CapDrop: ['SYS_RESOURCE'], SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'], MaskedPaths: [], ReadonlyPaths: [] },
  });
  const t0 = Date.now();
  await c.start();
  const r = (await c.wait()) as { StatusCode: number };
  t.is(r.StatusCode, 1);
  t.true(Date.now() - t0 < 60_000, 'it gives up after its timeout');
  const logs = (await c.logs({ stdout: true, stderr: true })).toString();
  t.regex(logs, /dockerd did not answer within 5s; the last lines of \/var\/log\/dockerd\.log:/);
  t.regex(logs, /no-such-containerd\.sock/);
});

test.serial('kubelite cluster delete leaves no container, network, volume, route, kubeconfig or context behind, and touches no other cluster', async (t) => {
  // another cluster's network (as far as labels go): it must survive
  await docker.createNetwork({ Name: `kubelite-${NAME}x-net`, Driver: 'bridge', Labels: { 'io.kubelite.cluster': `${NAME}x`, [TEST_LABEL]: NAME }, Options: { 'com.docker.network.bridge.name': `klc-${NAME}x` }, IPAM: { Config: [{ Subnet: '10.235.255.0/24' }] } });
  const r = await cli(['cluster', 'delete', NAME]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, new RegExp(`deleted cluster ${NAME}: container ${NODE}; volume ${NODE}-docker; network ${NET}; disconnected kl-${NAME}-job from it; routes 10\\.233\\.0\\.0/17, 10\\.233\\.128\\.0/18, 10\\.233\\.192\\.0/24`));
  t.is((await docker.getContainer(`kl-${NAME}-job`).inspect()).State.Running, true, 'the job container is let go, not removed');
  t.deepEqual(await clusterObjects(), { containers: [], networks: [], volumes: [], routes: [] });
  t.false(fs.existsSync(path.join(clustersDir, NAME)));
  const merged = YAML.parse(fs.readFileSync(userKubeconfig, 'utf8')) as { contexts: { name: string }[] };
  t.deepEqual(merged.contexts, []);
  t.truthy(await docker.getNetwork(`kubelite-${NAME}x-net`).inspect(), 'the other cluster\'s network is still there');
  const again = await cli(['cluster', 'delete', NAME]);
  t.is(again.code, 1);
  t.regex(again.stderr, new RegExp(`no cluster ${NAME} on this machine`));
});
