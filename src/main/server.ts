// `kubelite server`: data dir -> store -> registry -> HTTPS API -> components. Also the embedding API
// tests and benchmarks use to run a real server in-process or as a child.

import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import express from 'express';
import promClient from 'prom-client';
import { hostNames, type ServerConfig } from '../config.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { Registry } from '../server/registry.js';
import { crdAdmission } from '../server/crd/admission.js';
import { serveCustomResources } from '../server/crd/serving.js';
import { bootstrapPriorityClasses, priorityAdmission } from '../server/priority.js';
import { serveMetricsAPI } from '../server/metrics-api.js';
import { createApp, sendError, type SubresourceHandler } from '../server/app.js';
import { loadOrCreatePki, loadOrCreateToken, prepareDataDir } from './datadir.js';
import { renderKubeconfig } from '../client/kubeconfig.js';
import { InformerFactory } from '../client/informer.js';
import { EventRecorder } from '../client/events.js';
import { createLogger, type Logger } from '../util/log.js';
import type { Component, ComponentContext, UpgradeHandler } from '../server/component.js';
import { errors, isStatusError } from '../api/errors.js';
import { KUBELITE_VERSION } from '../version.js';
import { portForwardUpgradeHandler } from '../server/portforward.js';
import { onClientError } from '../server/client-error.js';
import { IdleGC } from './idle-gc.js';
import { nthAddress } from '../util/ip.js';

export interface RunningServer {
  url: string;
  port: number;
  kubeconfigPath: string;
  token: string;
  caPem: string;
  registry: Registry;
  store: Store;
  logger: Logger;
  components: Component[];
  stop(): Promise<void>;
}

function hostIPv4s(): string[] {
  const out: string[] = [];
  for (const addrs of Object.values(os.networkInterfaces())) for (const a of addrs ?? []) if (a.family === 'IPv4') out.push(a.address);
  return out;
}

export async function startServer(config: ServerConfig, components: Component[] = [], logger: Logger = createLogger(config.logLevel)): Promise<RunningServer> {
  const names = hostNames(config);
  prepareDataDir(config.dataDir);
  const token = loadOrCreateToken(config.dataDir, config.tokenFile);
  const kubernetesServiceIP = nthAddress(config.serviceCIDR, 1);
  const pki = await loadOrCreatePki(config.dataDir, {
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${config.clusterDomain}`, os.hostname().toLowerCase()],
    ipAddresses: [...new Set(['127.0.0.1', kubernetesServiceIP, ...(config.bindAddress !== '0.0.0.0' ? [config.bindAddress] : []), ...hostIPv4s()])],
  });

  const store = await openStore(config.dataDir);
  const registry = new Registry(store);
  await registry.bootstrapNamespaces();
  // CustomResourceDefinitions: names checked at admission, Established ones served from here on.
  registry.addAdmission(crdAdmission(registry));
  const customResources = serveCustomResources(registry, logger);
  // Pod priority from PriorityClasses (with the two system classes every cluster has).
  for (const hook of priorityAdmission(registry)) registry.addAdmission(hook);
  await bootstrapPriorityClasses(registry);
  // metrics.k8s.io from the usage summaries the agents report.
  const metricsAPI = serveMetricsAPI(registry);

  const subresources = new Map<string, SubresourceHandler>();
  // Components add routes while they start, after the app exists: they go on a sub-app mounted now.
  const lateRoutes = express();
  lateRoutes.disable('x-powered-by');
  // Routes that authenticate themselves (the UI's page and cookie login), mounted before the token check.
  const publicRoutes = express();
  publicRoutes.disable('x-powered-by');
  // Not ready until every component has started: a check registered late must not let /readyz say ok early.
  let componentsStarted = false;
  const readiness = new Map<string, () => boolean>([['components', () => componentsStarted]]);
  // kubectl port-forward is served here, not by the agent: Pods are on this host's pod bridge.
  const upgradeHandlers: UpgradeHandler[] = [portForwardUpgradeHandler({ client: registry, podCIDR: config.podCIDR, logger })];
  subresources.set('pods/portforward', (_req, res) => {
    res.status(400).type('application/json').send(JSON.stringify(errors.badRequest('Upgrade request required').status));
  });
  let port = config.apiPort;
  const serverAddress = () => `${config.bindAddress === '0.0.0.0' ? '127.0.0.1' : config.bindAddress}:${port}`;

  // Process metrics (RSS, heap, event-loop lag, GC) on /metrics beside the components' own.
  if (!promClient.register.getSingleMetric('process_resident_memory_bytes')) promClient.collectDefaultMetrics();
  const idleGC = new IdleGC();
  const app = createApp({
    onRequest: () => idleGC.touch(),
    maxWatchesPerClient: config.maxWatchesPerClient,
    registry,
    token,
    kubeliteVersion: KUBELITE_VERSION,
    serverAddress,
    logger,
    subresources,
    extraRoutes: (a) => {
      a.use(lateRoutes);
    },
    publicRoutes: (a) => {
      a.use(publicRoutes);
    },
    readiness: () => Object.fromEntries([...readiness].map(([n, f]) => [n, f()])),
  });
  const httpsServer = https.createServer({ cert: pki.serving.certPem, key: pki.serving.keyPem, ca: pki.ca.certPem }, app);
  httpsServer.keepAliveTimeout = 65_000;
  httpsServer.headersTimeout = 70_000;
  httpsServer.requestTimeout = 0; // watches and log streams are long-lived
  httpsServer.on('clientError', onClientError);
  httpsServer.on('upgrade', (req, socket, head) => {
    const auth = req.headers.authorization ?? '';
    if (auth !== `Bearer ${token}`) {
      socket.end(`HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify(errors.unauthorized().status)}`);
      return;
    }
    try {
      for (const h of upgradeHandlers) if (h(req, socket, head)) return;
    } catch (err) {
      // A handler that throws (a path it cannot parse) must not take the process down.
      const st = isStatusError(err) ? err.status : errors.badRequest((err as Error).message).status;
      socket.end(`HTTP/1.1 ${st.code} Error\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify(st)}`);
      return;
    }
    socket.end(`HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound', message: 'no upgrade handler for this path' })}`);
  });
  void sendError;

  const informers = new InformerFactory(registry, logger);
  const ctx: ComponentContext = {
    client: registry,
    registry,
    config,
    names,
    informers,
    logger,
    recorder: (component) => new EventRecorder(registry, component, config.nodeName, logger),
    addSubresource: (key, handler) => subresources.set(key, handler),
    addRoutes: (mount) => mount(lateRoutes),
    addPublicRoutes: (mount) => mount(publicRoutes),
    addReadiness: (name, check) => readiness.set(name, check),
    addUpgradeHandler: (h) => upgradeHandlers.push(h),
  };

  await new Promise<void>((resolve, reject) => {
    httpsServer.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`cannot listen on ${config.bindAddress}:${config.apiPort}: the address is in use (another kubelite server? pass --api-port)`) : err),
    );
    httpsServer.listen(config.apiPort, config.bindAddress, () => resolve());
  });
  port = (httpsServer.address() as AddressInfo).port;
  const url = `https://${serverAddress()}`;
  const kubeconfigPath = path.join(config.dataDir, 'kubeconfig');
  // Written to a temporary file and renamed over the old one: a client reading it at this moment sees
  // either the old kubeconfig or the new one, never a half-written file.
  const tmpKubeconfig = `${kubeconfigPath}.${process.pid}.tmp`;
  fs.writeFileSync(tmpKubeconfig, renderKubeconfig({ server: url, caPem: pki.ca.certPem, token, name: config.instance ? `kubelite-${config.instance}` : 'kubelite' }), { mode: 0o600 });
  fs.renameSync(tmpKubeconfig, kubeconfigPath);

  const started: Component[] = [];
  try {
    for (const c of components) {
      if (config.disabled.has(c.name as never)) continue;
      const t0 = Date.now();
      await c.start(ctx);
      started.push(c);
      logger.debug({ component: c.name, ms: Date.now() - t0 }, 'component started');
    }
    await informers.start();
    componentsStarted = true;
  } catch (err) {
    for (const c of started.reverse()) await c.stop().catch(() => undefined);
    httpsServer.close();
    customResources.stop();
    metricsAPI.stop();
    await store.close();
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    kubeconfigPath,
    token,
    caPem: pki.ca.certPem,
    registry,
    store,
    logger,
    components: started,
    stop() {
      stopping ??= (async () => {
        for (const c of [...started].reverse()) {
          try {
            await c.stop();
          } catch (err) {
            logger.warn({ component: c.name, err: String(err) }, 'component stop failed');
          }
        }
        informers.stop();
        idleGC.stop();
        httpsServer.closeAllConnections?.();
        await new Promise<void>((resolve) => httpsServer.close(() => resolve()));
        customResources.stop();
        metricsAPI.stop();
        await store.close();
      })();
      return stopping;
    },
  };
}
