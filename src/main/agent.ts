// `kubelite agent`: a Docker host joined to a kubelite server as a node. The composition root of the
// agent side: join (CA checked against the token first), then the same components the server runs for
// its own host — the agent (kubelet), the pod network, the proxier and a DNS replica — against the
// server's API over HTTPS (HttpClient + informers) with this node's own credentials, and the kubelet
// endpoint through which the API server reaches this node's Pods. Nothing here decides anything.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { defaultConfig, hostNames, type Component as ComponentName, type ServerConfig } from '../config.js';
import { HttpClient } from '../client/http-client.js';
import { InformerFactory } from '../client/informer.js';
import { EventRecorder } from '../client/events.js';
import type { Component, ComponentContext } from '../server/component.js';
import type { Registry } from '../server/registry.js';
import { portForwardUpgradeHandler } from '../server/portforward.js';
import { hostHasAddress, hostPrimaryIPv4 } from '../host/node-ips.js';
import { createLogger, type Logger } from '../util/log.js';
import { join, loadJoin, loadOrCreatePassword, saveJoin, unreachable } from './agent-join.js';
import { KubeletServer } from './kubelet.js';
import type { JoinResponse } from './join.js';
import { parseJoinToken } from '../server/join-token.js';

export interface AgentProcessOptions {
  servers: string[];
  token: string;
  nodeName?: string;
  nodeIP?: string;
  dataDir: string;
  instance?: string;
  kubeletPort?: number;
  /** Components to leave out: 'proxy', 'dns'. */
  disabled?: ComponentName[];
  logLevel?: string;
  logger?: Logger;
}

export interface RunningAgent {
  nodeName: string;
  server: string;
  config: ServerConfig;
  client: HttpClient;
  components: Component[];
  stop(): Promise<void>;
}

const MARKER = 'kubelite-agent.json';

function prepareAgentDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const marker = path.join(dir, MARKER);
  if (!fs.existsSync(marker)) {
    const entries = fs.readdirSync(dir);
    if (entries.length) throw new Error(`data dir ${dir} is not empty and is not a kubelite agent's (no ${MARKER}): pass another --data-dir`);
    fs.writeFileSync(marker, JSON.stringify({ format: 1, created: new Date().toISOString() }) + '\n', { mode: 0o600 });
  }
  fs.chmodSync(dir, 0o700);
}

/** The registry is the server's; an agent has none (no component it runs asks for it). */
const NO_REGISTRY = new Proxy({} as Registry, {
  get(_t, prop) {
    throw new Error(`an agent has no registry (asked for ${String(prop)}): only server components use it`);
  },
});

/** Joins through the first server that answers; falls back to what the last join gave when none does. */
async function joinAny(o: AgentProcessOptions, nodeName: string, nodeIP: string, log: Logger): Promise<{ server: string; res: JoinResponse }> {
  const password = loadOrCreatePassword(o.dataDir);
  const token = parseJoinToken(o.token);
  let lastErr: unknown;
  for (const server of o.servers) {
    try {
      const res = await join(server, o.token, { nodeName, password, nodeIP });
      saveJoin(o.dataDir, { server, caHash: token.caHash, response: res });
      return { server, res };
    } catch (err) {
      lastErr = err;
      if (!unreachable(err)) throw err;
      log.warn({ server, err: (err as Error).message }, 'server not reachable');
    }
  }
  const cached = loadJoin(o.dataDir);
  if (cached && cached.caHash === token.caHash && cached.response.nodeName === nodeName) {
    log.warn({ server: cached.server }, 'no server answers: starting with the credentials of the last join (the Pods keep running; the agent catches up when the server is back)');
    return { server: cached.server, res: cached.response };
  }
  throw new Error(`cannot join: no server answers (${o.servers.join(', ')}): ${(lastErr as Error)?.message ?? ''}`);
}

export async function startAgent(o: AgentProcessOptions): Promise<RunningAgent> {
  const logger = o.logger ?? createLogger(o.logLevel ?? 'info');
  const nodeName = (o.nodeName ?? os.hostname()).toLowerCase();
  const nodeIP = o.nodeIP ?? hostPrimaryIPv4();
  // Before anything is claimed on the server: the address must be this host's own.
  if (!hostHasAddress(nodeIP)) throw new Error(`--node-ip ${nodeIP} is not an address of this host: give one of its own addresses (ip -4 addr)`);
  prepareAgentDir(o.dataDir);
  const { server, res } = await joinAny(o, nodeName, nodeIP, logger);
  const c = res.cluster;
  const config = defaultConfig({
    dataDir: o.dataDir,
    instance: o.instance ?? '',
    nodeName,
    nodeIP,
    podCIDR: c.podCIDR,
    serviceCIDR: c.serviceCIDR,
    clusterDNS: c.clusterDNS,
    clusterDomain: c.clusterDomain,
    nodePortRange: c.nodePortRange,
    lbPool: c.lbPool,
    podNetwork: c.podNetwork,
    nodeCIDRMaskSize: c.nodeCIDRMaskSize,
    nodeLeaseRenewIntervalMs: c.nodeLeaseRenewIntervalMs,
    dnsTTL: c.dnsTTL,
    resyncSchedule: c.resyncSchedule,
    kubeletPort: o.kubeletPort ?? 10250,
    disabled: new Set(['scheduler', 'controllers', 'ingress', ...(o.disabled ?? [])] as ComponentName[]),
    logLevel: o.logLevel ?? 'info',
  });
  const names = hostNames(config);
  const client = new HttpClient({ server, token: res.nodeToken, caPem: res.caPem });
  const informers = new InformerFactory(client, logger);

  const kubelet = new KubeletServer({ bindAddress: '0.0.0.0', port: config.kubeletPort, certPem: res.kubeletCertPem, keyPem: res.kubeletKeyPem, caPem: res.caPem, token: res.kubeletToken, logger });
  config.kubeletPort = await kubelet.start();
  kubelet.upgrades.push(portForwardUpgradeHandler({ client, podCIDR: config.podCIDR, logger }));

  const readiness = new Map<string, () => boolean>();
  const ctx: ComponentContext = {
    client,
    registry: NO_REGISTRY,
    config,
    names,
    informers,
    logger,
    recorder: (component) => new EventRecorder(client, component, nodeName, logger),
    addSubresource: (key, handler) => kubelet.subresources.set(key, handler),
    addRoutes: () => undefined,
    addPublicRoutes: () => undefined,
    addReadiness: (n, check) => readiness.set(n, check),
    addUpgradeHandler: (h) => kubelet.upgrades.unshift(h),
    fetchNodeImage: (node, image) => fetchThroughServer(server, res, node, image),
  };

  const { Agent } = await import('../agent/index.js');
  const components: Component[] = [new Agent({ controlPlane: false, kubeletPort: config.kubeletPort })];
  components.push((await import('../podnet/component.js')).createPodNet());
  if (!config.disabled.has('proxy')) components.push((await import('../netfilter/component.js')).createProxy());
  if (!config.disabled.has('dns')) components.push((await import('../dns/component.js')).createDns({ role: 'node' }));

  const started: Component[] = [];
  try {
    for (const comp of components) {
      const t0 = Date.now();
      await comp.start(ctx);
      started.push(comp);
      logger.debug({ component: comp.name, ms: Date.now() - t0 }, 'component started');
    }
    await informers.start();
  } catch (err) {
    for (const comp of started.reverse()) await comp.stop().catch(() => undefined);
    informers.stop();
    await kubelet.stop();
    client.close();
    throw err;
  }
  logger.info({ node: nodeName, server, podCIDR: config.nodePodCIDR, kubeletPort: config.kubeletPort }, 'agent joined and running');
  let stopping: Promise<void> | undefined;
  return {
    nodeName,
    server,
    config,
    client,
    components: started,
    stop() {
      stopping ??= (async () => {
        for (const comp of [...started].reverse()) await comp.stop().catch((err) => logger.warn({ component: comp.name, err: String(err) }, 'component stop failed'));
        informers.stop();
        await kubelet.stop();
        client.close();
      })();
      return stopping;
    },
  };
}

/** GET /v1-kubelite/nodes/NODE/images?name=IMAGE on the API server, as this node. */
function fetchThroughServer(server: string, res: JoinResponse, node: string, image: string): Promise<Readable> {
  const url = new URL(`/v1-kubelite/nodes/${encodeURIComponent(node)}/images?name=${encodeURIComponent(image)}`, server);
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: url.hostname, port: url.port || 443, path: url.pathname + url.search, ca: res.caPem, headers: { authorization: `Bearer ${res.nodeToken}` }, agent: false },
      (r) => {
        if (r.statusCode === 200) return resolve(r);
        let body = '';
        r.on('data', (d) => (body += d));
        r.on('end', () => reject(new Error(`HTTP ${r.statusCode}: ${body.slice(0, 200)}`)));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
