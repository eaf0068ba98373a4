// `kubelite cluster create NAME`: a node container on a Docker network of its own, host routes to the
// cluster's ranges through it, and a kubeconfig once its Node is Ready. Whatever fails after the first
// object exists rolls everything back (after printing the node's last log lines), so a failed create
// leaves nothing behind.

import Dockerode from 'dockerode';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import YAML from 'yaml';
import { withBuildLock } from '../images/build-lock.js';
import { buildNodeImage } from '../images/node-image.js';
import { nodeImageRef } from '../images/node-image-plan.js';
import { isIPv4 } from '../util/ip.js';
import { KUBELITE_VERSION } from '../version.js';
import { apiGet } from './api.js';
import { clusterDNS, planClusterCIDRs, type ClusterCIDRs, type TakenRange } from './cidrs.js';
import { deleteCluster } from './delete.js';
import { foreignObject, listClusters, logTail } from './docker.js';
import { dockerMessage, engineFacts, explainRunFailure, securityMode } from './engine.js';
import { hostCriticalAddresses, hostRoutes, routeGet, runIp } from './host-net.js';
import { clusterNames } from './names.js';
import { API_PORT, checkServerArgs, networkSpec, nodeAddress, nodeContainerSpec, volumeSpec } from './node-spec.js';
import { planRouteAdds, probeAddresses, routedRanges } from './routes.js';
import { clusterDir, defaultClustersDir, kubeconfigFile } from './state.js';

export interface CreateClusterOptions {
  name: string;
  /** A node image to run instead of building/refreshing kubelite/cluster-node:<version>. */
  image?: string;
  /** `[ADDRESS:]PORT`: also publish the API on the host there (the kubeconfig then names it). */
  apiPort?: string;
  cidrs?: Partial<ClusterCIDRs>;
  serverArgs?: string[];
  /** Serve the node's Docker API on ADDRESS:2375 of the cluster network (no TLS: the host's bridge only). */
  dockerApi?: boolean;
  /** Agent nodes: the next issue. */
  agents?: number;
  clustersDir?: string;
  waitSeconds?: number;
  keepOnFailure?: boolean;
  /** Aborting (Ctrl-C) stops the create and removes what it made. */
  signal?: AbortSignal;
  docker?: Dockerode;
  log?: (line: string) => void;
}

export interface CreatedCluster {
  name: string;
  container: string;
  address: string;
  cidrs: ClusterCIDRs;
  dns: string;
  server: string;
  kubeconfig: string;
  dockerHost?: string;
  image: string;
  seconds: number;
  /** Seconds from the start to each step's end. */
  timings: Record<string, number>;
}

export const DOCKER_TCP_PORT = 2375;

/** `[ADDRESS:]PORT` -> [address, port]; the address defaults to loopback. Pure. */
export function parseApiPort(v: string): [string, number] {
  const m = /^(?:(\d+\.\d+\.\d+\.\d+):)?(\d{1,5})$/.exec(v.trim());
  if (!m || (m[1] && !isIPv4(m[1]))) throw new Error(`--api-port ${JSON.stringify(v)}: expected PORT or ADDRESS:PORT`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new Error(`--api-port ${JSON.stringify(v)}: port out of range`);
  return [m[1] ?? '127.0.0.1', port];
}

function portFree(address: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE' ? `port ${port} on ${address} is taken by another program` : `cannot use ${address}:${port}: ${err.message}`));
    srv.listen({ host: address, port, exclusive: true }, () => srv.close(() => resolve(undefined)));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function createCluster(o: CreateClusterOptions): Promise<CreatedCluster> {
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const mark = (step: string) => (timings[step] = Math.round(performance.now() - t0) / 1000);
  const log = o.log ?? (() => undefined);
  const names = clusterNames(o.name);
  const serverName = names.node('server', 0);
  if (o.agents) throw new Error('--agents: agent nodes come with `kubelite agent` in the next release; a cluster has its server node only for now');
  const serverArgs = checkServerArgs(o.serverArgs ?? []);
  const apiPublish = o.apiPort !== undefined ? parseApiPort(o.apiPort) : undefined;
  if (process.getuid?.() !== 0) throw new Error('kubelite cluster create needs root: it adds host routes to the cluster\'s ranges');
  const docker = o.docker ?? new Dockerode();
  const clustersDir = o.clustersDir ?? defaultClustersDir();

  const engine = await engineFacts(docker);
  const existing = await listClusters(docker);
  const same = existing.find((c) => c.name === o.name);
  if (same) throw new Error(`cluster ${o.name} already exists (${same.nodes.map((n) => `${n.container} ${n.state}`).join(', ') || 'left-over network or volumes'}): delete it first with \`kubelite cluster delete ${o.name}\``);
  for (const [kind, n] of [['container', serverName], ['network', names.network]] as const) {
    const foreign = await foreignObject(docker, kind, n, o.name);
    if (foreign) throw new Error(foreign);
  }
  if (apiPublish) {
    const busy = await portFree(apiPublish[0], apiPublish[1]);
    if (busy) throw new Error(`--api-port: ${busy}; pick another port`);
  }
  mark('checks');

  let image = o.image;
  if (image) {
    try {
      await docker.getImage(image).inspect();
    } catch (err) {
      throw new Error(`--image ${image}: ${(err as { statusCode?: number }).statusCode === 404 ? 'no such image here (kubelite images build cluster-node builds the default one; nothing is pulled)' : dockerMessage(err)}`);
    }
  } else {
    image = nodeImageRef(KUBELITE_VERSION);
    const built = await buildNodeImage({ docker, log });
    if (built.built) log(`built ${built.ref} in ${built.seconds}s`);
  }
  mark('image');
  if (o.signal?.aborted) throw new Error('interrupted: nothing was created');

  const security = await securityMode(docker, engine, image, path.join(clustersDir, 'engine.json'), log);
  const token = crypto.randomBytes(24).toString('base64url');
  let created = false;
  let cidrs: ClusterCIDRs;
  try {
    // Two creates at once must not pick the same ranges: plan and claim (the network) under one lock.
    cidrs = await withBuildLock('cluster-plan', async () => {
      const routes = await hostRoutes();
      const others = await listClusters(docker);
      if (others.some((c) => c.name === o.name)) throw new Error(`cluster ${o.name} was just created by another command`);
      const taken: TakenRange[] = [
        ...routedRanges(routes),
        ...hostCriticalAddresses(routes),
        ...others.flatMap((c) => (c.cidrs ? Object.values(c.cidrs).map((cidr) => ({ cidr, why: `cluster ${c.name}` })) : [])),
      ];
      const planned = planClusterCIDRs(taken, o.cidrs ?? {});
      mark('plan');
      await docker.createNetwork(networkSpec({ cluster: o.name, cidrs: planned }));
      created = true;
      return planned;
    }, 60_000);
    const address = nodeAddress(cidrs.nodeCIDR, 'server', 0);
    await docker.createVolume(volumeSpec(o.name, serverName));
    const container = await docker.createContainer(
      nodeContainerSpec({
        cluster: o.name,
        role: 'server',
        index: 0,
        image,
        cidrs,
        security,
        cgroupV2: engine.cgroupV2,
        address,
        token,
        apiPublish,
        dockerTcpPort: o.dockerApi ? DOCKER_TCP_PORT : undefined,
        serverArgs,
      }),
    );
    if (o.signal?.aborted) throw new Error('interrupted; removing what was created');
    try {
      await container.start();
    } catch (err) {
      throw new Error(`cannot start ${serverName}: ${explainRunFailure(dockerMessage(err), security)}`);
    }
    mark('started');

    // Routes before any traffic: from now on nothing to these ranges can take the uplink.
    await runIp(planRouteAdds(await hostRoutes(), { cidrs, via: address, bridge: names.bridge }));
    for (const probe of probeAddresses(cidrs)) {
      const r = await routeGet(probe);
      if (r.dev !== names.bridge) throw new Error(`route check: ${probe} would leave through ${r.dev ?? '?'}, not ${names.bridge}`);
    }
    mark('routes');

    const deadline = Date.now() + (o.waitSeconds ?? 180) * 1000;
    const base = `https://${address}:${API_PORT}`;
    const stillRunning = async (what: string) => {
      if (o.signal?.aborted) throw new Error(`interrupted before ${what}; removing what was created`);
      const st = (await container.inspect()).State;
      if (!st.Running) throw new Error(`${serverName} stopped (exit status ${st.ExitCode}) before ${what}; its last lines:\n${await logTail(docker, container.id)}`);
      if (Date.now() > deadline) throw new Error(`${serverName}: ${what} did not happen within ${o.waitSeconds ?? 180}s; its last lines:\n${await logTail(docker, container.id)}`);
    };
    for (;;) {
      await stillRunning('its API answered');
      const r = await apiGet(`${base}/readyz`, { timeoutMs: 1000 }).catch(() => undefined);
      if (r?.status === 200) break;
      await sleep(50);
    }
    mark('api');

    const server = apiPublish ? `https://${apiPublish[0] === '0.0.0.0' ? '127.0.0.1' : apiPublish[0]}:${apiPublish[1]}` : base;
    const kc = await apiGet(`${base}/kubeconfig?server=${encodeURIComponent(server)}`, { token, timeoutMs: 5000 });
    if (kc.status !== 200) throw new Error(`GET ${base}/kubeconfig: ${kc.status} ${kc.body.slice(0, 200)}`);
    const caPem = caOf(kc.body);
    for (;;) {
      await stillRunning('its Node was Ready');
      const r = await apiGet(`${base}/api/v1/nodes/${serverName}`, { token, caPem, timeoutMs: 2000 }).catch(() => undefined);
      if (r?.status === 200 && nodeReady(r.body)) break;
      await sleep(50);
    }
    mark('ready');

    const dir = clusterDir(clustersDir, o.name);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const kubeconfig = kubeconfigFile(clustersDir, o.name);
    fs.writeFileSync(kubeconfig, kc.body, { mode: 0o600 });
    mark('kubeconfig');
    return {
      name: o.name,
      container: serverName,
      address,
      cidrs,
      dns: clusterDNS(cidrs.serviceCIDR),
      server,
      kubeconfig,
      dockerHost: o.dockerApi ? `tcp://${address}:${DOCKER_TCP_PORT}` : undefined,
      image,
      seconds: Math.round(performance.now() - t0) / 1000,
      timings,
    };
  } catch (err) {
    if (created && !o.keepOnFailure) {
      const r = await deleteCluster({ name: o.name, docker, clustersDir }).catch((e: Error) => ({ problems: [e.message] }));
      const problems = 'problems' in r ? r.problems : [];
      if (problems.length) (err as Error).message += `\n(rolling back left: ${problems.join('; ')})`;
    }
    throw err;
  }
}

function caOf(kubeconfigText: string): string {
  const doc = YAML.parse(kubeconfigText) as { clusters?: { cluster?: Record<string, string> }[] };
  const data = doc.clusters?.[0]?.cluster?.['certificate-authority-data'];
  if (!data) throw new Error('the node served a kubeconfig without a CA');
  return Buffer.from(data, 'base64').toString('utf8');
}

/** A Node object's Ready condition is True. Pure. */
export function nodeReady(body: string): boolean {
  try {
    const node = JSON.parse(body) as { status?: { conditions?: { type: string; status: string }[] } };
    return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  } catch {
    return false;
  }
}
