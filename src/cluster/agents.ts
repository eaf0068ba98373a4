// Agent nodes of a `kubelite cluster`: node containers `kubelite-NAME-agent-I` (address .10+I on the
// cluster network) running `kubelite agent`, joined to the cluster's server with the join token (made
// from the cluster's token and CA, as the server makes it), each waited for until its Node is Ready,
// then routed from the host: its share of the pod CIDR via its own address.

import Dockerode from 'dockerode';
import path from 'node:path';
import { loadConnection } from '../client/kubeconfig.js';
import { buildNodeImage } from '../images/node-image.js';
import { nodeImageRef } from '../images/node-image-plan.js';
import { formatJoinToken } from '../server/join-token.js';
import { joinSecret } from '../server/node-auth.js';
import { KUBELITE_VERSION } from '../version.js';
import { apiGet } from './api.js';
import { listClusters, logTail } from './docker.js';
import { dockerMessage, engineFacts, explainRunFailure, securityMode } from './engine.js';
import { hostRoutes, runIp } from './host-net.js';
import { clusterNames } from './names.js';
import { API_PORT, nodeAddress, nodeContainerSpec, volumeSpec } from './node-spec.js';
import { serverNode } from './record.js';
import { planNodeRouteAdds } from './routes.js';
import { defaultClustersDir, kubeconfigFile } from './state.js';

export interface AddAgentsOptions {
  name: string;
  count: number;
  image?: string;
  waitSeconds?: number;
  clustersDir?: string;
  signal?: AbortSignal;
  docker?: Dockerode;
  log?: (line: string) => void;
}

export interface AddedAgent {
  container: string;
  address: string;
  podCIDR: string;
  /** Seconds from its container's start to its Node Ready. */
  seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The indices the next `count` agents take: after the highest one in use. Pure. */
export function nextAgentIndices(existing: readonly number[], count: number): number[] {
  const start = existing.length ? Math.max(...existing) + 1 : 0;
  return Array.from({ length: count }, (_, i) => start + i);
}

interface NodeView {
  ready: boolean;
  podCIDR?: string;
}

function nodeView(body: string): NodeView {
  try {
    const n = JSON.parse(body) as { spec?: { podCIDR?: string }; status?: { conditions?: { type: string; status: string }[] } };
    return { ready: n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false, podCIDR: n.spec?.podCIDR };
  } catch {
    return { ready: false };
  }
}

export async function addAgents(o: AddAgentsOptions): Promise<AddedAgent[]> {
  if (o.count < 1) return [];
  if (process.getuid?.() !== 0) throw new Error('adding agents needs root: it adds host routes to their Pods');
  const docker = o.docker ?? new Dockerode();
  const log = o.log ?? (() => undefined);
  const clustersDir = o.clustersDir ?? defaultClustersDir();
  const names = clusterNames(o.name);
  const cluster = (await listClusters(docker)).find((c) => c.name === o.name);
  const server = cluster && serverNode(cluster);
  if (!cluster?.cidrs || !server?.address) throw new Error(`no cluster ${o.name} with a server node on this machine (kubelite cluster list)`);
  if (server.state !== 'running') throw new Error(`the server node ${server.container} is ${server.state}: start it first`);
  const conn = loadConnection(kubeconfigFile(clustersDir, o.name));
  if (!conn.token || !conn.caPem) throw new Error(`the kubeconfig of cluster ${o.name} has no token or CA`);
  const joinToken = formatJoinToken(conn.caPem, joinSecret(conn.token));
  const engine = await engineFacts(docker);
  let image = o.image;
  if (!image) {
    const inspect = await docker.getContainer(server.id).inspect();
    image = inspect.Config.Image || nodeImageRef(KUBELITE_VERSION);
    if (image === nodeImageRef(KUBELITE_VERSION)) await buildNodeImage({ docker, log });
  }
  const security = await securityMode(docker, engine, image, path.join(clustersDir, 'engine.json'), log);
  const indices = nextAgentIndices(cluster.nodes.filter((n) => n.role === 'agent').map((n) => n.index), o.count);
  const api = `https://${server.address}:${API_PORT}`;
  const deadline = Date.now() + (o.waitSeconds ?? 180) * 1000;

  const one = async (index: number): Promise<AddedAgent> => {
    const container = names.node('agent', index);
    const address = nodeAddress(cluster.cidrs!.nodeCIDR, 'agent', index);
    await docker.createVolume(volumeSpec(o.name, container));
    const c = await docker.createContainer(
      nodeContainerSpec({ cluster: o.name, role: 'agent', index, image: image!, cidrs: cluster.cidrs!, security, cgroupV2: engine.cgroupV2, address, token: joinToken, serverArgs: [] }),
    );
    try {
      await c.start();
    } catch (err) {
      throw new Error(`cannot start ${container}: ${explainRunFailure(dockerMessage(err), security)}`);
    }
    const t0 = performance.now();
    for (;;) {
      if (o.signal?.aborted) throw new Error(`interrupted before ${container} was Ready`);
      const st = (await c.inspect()).State;
      if (!st.Running) throw new Error(`${container} stopped (exit status ${st.ExitCode}) before its Node was Ready; its last lines:\n${await logTail(docker, c.id)}`);
      if (Date.now() > deadline) throw new Error(`${container}: its Node was not Ready within ${o.waitSeconds ?? 180}s; its last lines:\n${await logTail(docker, c.id)}`);
      const r = await apiGet(`${api}/api/v1/nodes/${container}`, { token: conn.token, caPem: conn.caPem, timeoutMs: 2000 }).catch(() => undefined);
      const v = r?.status === 200 ? nodeView(r.body) : { ready: false };
      if (v.ready && v.podCIDR) {
        await runIp(planNodeRouteAdds(await hostRoutes(), [{ podCIDR: v.podCIDR, via: address }], cluster.cidrs!, cluster.bridge));
        return { container, address, podCIDR: v.podCIDR, seconds: Math.round(performance.now() - t0) / 1000 };
      }
      await sleep(50);
    }
  };
  const results = await Promise.allSettled(indices.map(one));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length) throw new Error(failed.map((f) => (f.reason as Error).message).join('\n'));
  return results.map((r) => (r as PromiseFulfilledResult<AddedAgent>).value);
}
