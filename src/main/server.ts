// `kubelite server`: data dir -> store -> registry -> HTTPS API -> components. Also the embedding API
// tests and benchmarks use to run a real server in-process or as a child.

import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import express from 'express';
import promClient from 'prom-client';
import { hostNames, thisNodePodCIDR, type ServerConfig } from '../config.js';
import { openWithRetry, serverStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { Registry } from '../server/registry.js';
import { crdAdmission } from '../server/crd/admission.js';
import { serveCustomResources, type CustomResourceServing } from '../server/crd/serving.js';
import { bootstrapPriorityClasses, priorityAdmission } from '../server/priority.js';
import { serveMetricsAPI } from '../server/metrics-api.js';
import { createApp, sendError, type AppContext, type SubresourceHandler } from '../server/app.js';
import { loadOrCreatePki, loadOrCreateToken, prepareDataDir, writeClusterCredentials } from './datadir.js';
import { knownServers, publishServer, serverKey, shareCredentials } from './cluster-join.js';
import { startComponents } from './start-order.js';
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
import { claimClusterConfig } from './cluster-config.js';
import { isLeaderOnly, LeaderOnlyComponent, LeaderWork } from './leader-work.js';
import { LeaderElector } from '../leader/elector.js';
import { DEFAULT_TIMINGS } from '../leader/lease.js';
import { nthAddress } from '../util/ip.js';
import { advertisedURL, joinCommand, MultiHostServer } from './multihost.js';
import { R } from '../api/resources.js';
import { Auth, serveTokenRequest, ServiceAccountTokens } from '../server/auth/index.js';
import { ensureBootstrapPolicy } from '../server/auth/bootstrap-policy.js';
import { listenForPods, podAccessPlan, podGateway, type PodListener } from './pod-access.js';

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
  /** The token `kubelite agent --token` takes (also in <data-dir>/join-token). */
  joinToken: string;
  /** `kubelite agent --server URL --token TOKEN` for other hosts. */
  joinCommand: string;
  stop(): Promise<void>;
}

function hostIPv4s(): string[] {
  const out: string[] = [];
  for (const addrs of Object.values(os.networkInterfaces())) for (const a of addrs ?? []) if (a.family === 'IPv4') out.push(a.address);
  return out;
}

/** Cluster-wide work: with several servers on one etcd, only the leader assigns pod CIDRs. */
function nodeIpam(): Component {
  return new LeaderOnlyComponent('node-ipam', async () => (await import('../controllers/node-ipam.js')).createNodeIpam());
}

export async function startServer(config: ServerConfig, components: Component[] = [], logger: Logger = createLogger(config.logLevel)): Promise<RunningServer> {
  // Milliseconds since the process started, per start-up phase: logged with "server ready" (and read
  // by bench/coldstart.ts) so a slow start says where its time went.
  const phases: Record<string, number> = { process: Math.round(performance.now()) };
  const mark = (name: string) => (phases[name] = Math.round(performance.now()));
  const names = hostNames(config);
  prepareDataDir(config.dataDir);
  let token = loadOrCreateToken(config.dataDir, config.tokenFile);
  const kubernetesServiceIP = nthAddress(config.serviceCIDR, 1);
  const sans = {
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${config.clusterDomain}`, os.hostname().toLowerCase()],
    ipAddresses: [...new Set(['127.0.0.1', kubernetesServiceIP, podGateway(config.podCIDR), ...(config.bindAddress !== '0.0.0.0' ? [config.bindAddress] : []), ...hostIPv4s()])],
  };
  // Milliseconds on a first start (the DER is written on Node's crypto): done before anything else, so
  // components find the CA on disk (the UI reads it).
  let pki = await loadOrCreatePki(config.dataDir, sans);
  mark('pki');
  // ServiceAccount tokens: signed with a key of the data dir, for the API's own audience (the issuer).
  const tokens = await ServiceAccountTokens.load(path.join(config.dataDir, 'pki'), `https://kubernetes.default.svc.${config.clusterDomain}`);

  // etcd may not be up yet: the API then listens first (503s, /readyz false) while the store retries.
  const store = serverStore(config, logger);
  if (!config.etcd) await store.open();
  const registry = new Registry(store);
  // CustomResourceDefinitions: names checked at admission, Established ones served once the store is open.
  registry.addAdmission(crdAdmission(registry));
  let customResources: CustomResourceServing | undefined;
  // Pod priority from PriorityClasses (with the two system classes every cluster has).
  for (const hook of priorityAdmission(registry)) registry.addAdmission(hook);
  // metrics.k8s.io from the usage summaries the agents report.
  const metricsAPI = serveMetricsAPI(registry);
  /** What needs the store: system namespaces and priority classes, serving the CRDs it holds. */
  const bootstrap = async () => {
    await registry.bootstrapNamespaces();
    await bootstrapPriorityClasses(registry);
    customResources = serveCustomResources(registry, logger);
  };
  registry.addSubresourceHandler(R.serviceaccounts, 'token', (ns, name, body) => serveTokenRequest({ tokens, get: (r, n, nm) => registry.get(r, n, nm) }, ns, name, body));

  const multi = new MultiHostServer({ config, dataDir: config.dataDir, registry, adminToken: token, ca: pki.ca, logger });
  const subresources = new Map<string, SubresourceHandler>();
  // Pod streams of this server's own agent; those of Pods on other nodes go to their node's kubelet.
  const localStreams = new Map<string, SubresourceHandler>();
  subresources.set('pods/log', multi.routeSubresource(() => localStreams.get('pods/log')));
  // Components add routes while they start, after the app exists: they go on a sub-app mounted now.
  const lateRoutes = express();
  lateRoutes.disable('x-powered-by');
  // Routes that authenticate themselves (the UI's page and cookie login), mounted before the token check.
  const publicRoutes = express();
  publicRoutes.disable('x-powered-by');
  // Not ready until every component has started: a check registered late must not let /readyz say ok early.
  let componentsStarted = false;
  const readiness = new Map<string, () => boolean>([['store', () => store.health().ok], ['components', () => componentsStarted]]);
  // kubectl port-forward is served here, not by the agent: Pods are on this host's pod bridge.
  const localUpgrades: UpgradeHandler[] = [portForwardUpgradeHandler({ client: registry, podCIDR: config.podCIDR, logger })];
  const upgradeHandlers: UpgradeHandler[] = [multi.upgradeHandler(() => localUpgrades), (req, socket, head) => localUpgrades.some((h) => h(req, socket, head))];
  subresources.set('pods/portforward', (_req, res) => {
    res.status(400).type('application/json').send(JSON.stringify(errors.badRequest('Upgrade request required').status));
  });
  let port = config.apiPort;
  const serverAddress = () => `${config.bindAddress === '0.0.0.0' ? '127.0.0.1' : config.bindAddress}:${port}`;

  // Process metrics (RSS, heap, event-loop lag, GC) on /metrics beside the components' own.
  if (!promClient.register.getSingleMetric('process_resident_memory_bytes')) promClient.collectDefaultMetrics();
  const idleGC = new IdleGC();
  const informers = new InformerFactory(registry, logger);
  let podListener: PodListener | undefined;
  const auth = new Auth({ adminToken: token, tokens, informers, get: (r, ns, name) => registry.get(r, ns, name), podFacing: (req) => !!podListener?.owns(req) });
  // Mutable: a server that joins a cluster adopts its token after the API is up.
  const appOpts: AppContext = {
    authenticate: auth.middleware(),
    onRequest: () => idleGC.touch(),
    maxWatchesPerClient: config.maxWatchesPerClient,
    registry,
    token,
    kubeliteVersion: KUBELITE_VERSION,
    serverAddress,
    logger,
    subresources,
    extraRoutes: (a) => {
      multi.mount(a);
      auth.mountRoutes(a);
      a.use(lateRoutes);
    },
    publicRoutes: (a) => {
      multi.mountPublic(a);
      a.use(publicRoutes);
    },
    readiness: () => Object.fromEntries([...readiness].map(([n, f]) => [n, f()])),
  };
  const app = createApp(appOpts);
  const httpsServer = https.createServer({ cert: pki.serving.certPem, key: pki.serving.keyPem, ca: pki.ca.certPem }, app);
  httpsServer.keepAliveTimeout = 65_000;
  httpsServer.headersTimeout = 70_000;
  httpsServer.requestTimeout = 0; // watches and log streams are long-lived
  const onUpgrade = (req: import('node:http').IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
    const fail = (status: { code: number }) => socket.end(`HTTP/1.1 ${status.code} ${status.code === 403 ? 'Forbidden' : status.code === 401 ? 'Unauthorized' : 'Error'}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify(status)}`);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'https://localhost');
    } catch {
      return fail(errors.badRequest('the request URL cannot be parsed').status);
    }
    auth.check(req, url.pathname, Object.fromEntries(url.searchParams)).then(
      () => {
        try {
          for (const h of upgradeHandlers) if (h(req, socket, head)) return;
        } catch (err) {
          // A handler that throws (a path it cannot parse) must not take the process down.
          return fail(isStatusError(err) ? err.status : errors.badRequest((err as Error).message).status);
        }
        socket.end(`HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound', message: 'no upgrade handler for this path' })}`);
      },
      (err) => fail(isStatusError(err) ? err.status : errors.unauthorized().status),
    );
  };
  httpsServer.on('clientError', onClientError);
  httpsServer.on('upgrade', onUpgrade);
  void sendError;

  const ctx: ComponentContext = {
    client: registry,
    registry,
    config,
    names,
    informers,
    logger,
    recorder: (component) => new EventRecorder(registry, component, config.nodeName, logger),
    addSubresource: (key, handler) => {
      if (key === 'pods/log') localStreams.set(key, handler);
      else subresources.set(key, handler);
    },
    addRoutes: (mount) => mount(lateRoutes),
    addPublicRoutes: (mount) => mount(publicRoutes),
    addReadiness: (name, check) => readiness.set(name, check),
    addUpgradeHandler: (h) => localUpgrades.push(h),
    fetchNodeImage: (node, image) => multi.fetchNodeImage(node, image),
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
  const contextName = config.instance ? `kubelite-${config.instance}` : 'kubelite';
  // Written to a temporary file and renamed over the old one: a client reading it at this moment sees
  // either the old kubeconfig or the new one, never a half-written file.
  const writeKubeconfig = (servers: Record<string, string> = {}) => {
    const tmp = `${kubeconfigPath}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, renderKubeconfig({ server: url, caPem: pki.ca.certPem, token, name: contextName, others: Object.entries(servers).map(([k, s]) => ({ name: `kubelite-${k}`, server: s })) }), { mode: 0o600 });
    fs.renameSync(tmp, kubeconfigPath);
  };
  writeKubeconfig();
  mark('listening');
  let serversTimer: NodeJS.Timeout | undefined;

  // Node IPAM is part of every server (whatever components it was given): an agent, this server's own or
  // a joined one, waits for the pod CIDR it assigns. Cluster-wide work: with several servers, the leader's.
  const all = components.some((c) => c.name === 'node-ipam') ? components : [nodeIpam(), ...components];
  const started: Component[] = [];
  const componentTimes: Record<string, number> = {};
  let stopping: Promise<void> | undefined;
  // Several servers may share an etcd: the work that must happen once runs on the elected leader only.
  const work = config.etcd ? new LeaderWork(ctx, logger) : undefined;
  const elector = work
    ? new LeaderElector({
        client: registry,
        namespace: 'kube-system',
        name: 'kubelite-leader',
        identity: `${config.nodeName}_${crypto.randomBytes(4).toString('hex')}`,
        timings: config.leaderElection ?? DEFAULT_TIMINGS,
        logger: logger.child({ component: 'leader-election' }),
        onStartedLeading: () => work.start(),
        onStoppedLeading: () => work.stop(),
      })
    : undefined;
  try {
    if (config.etcd) {
      await openWithRetry(store, logger, () => stopping !== undefined);
      await bootstrap();
      await claimClusterConfig(registry, config);
      // One CA, token and ServiceAccount key for all servers of the cluster; one kubeconfig context per server.
      const saKey = tokens.privateKeyPem();
      const shared = await shareCredentials(registry, { token, ca: pki.ca, saKey });
      if (shared.saKey && shared.saKey !== saKey) await tokens.adopt(shared.saKey);
      if (shared.adopted) {
        writeClusterCredentials(config.dataDir, shared);
        token = shared.token;
        appOpts.token = token;
        auth.setAdminToken(token);
        pki = await loadOrCreatePki(config.dataDir, sans);
        httpsServer.setSecureContext({ cert: pki.serving.certPem, key: pki.serving.keyPem, ca: pki.ca.certPem });
        multi.adopt(token, pki.ca);
        logger.info('joined the cluster: its CA, token and ServiceAccount key replace this data dir\'s');
      }
      const key = serverKey(config.nodeName, config.instance);
      writeKubeconfig(await publishServer(registry, key, url));
      let last = '';
      serversTimer = setInterval(() => {
        knownServers(registry).then((s) => {
          const text = JSON.stringify(s);
          if (text !== last) writeKubeconfig(s);
          last = text;
        }, () => undefined);
      }, 10_000);
      serversTimer.unref();
    } else await bootstrap();
    await ensureBootstrapPolicy(registry);
    await auth.start();
    mark('store');
    // Components start side by side where they do not depend on each other (start-order.ts).
    const here: Component[] = [];
    for (const c of all) {
      if (config.disabled.has(c.name as never)) continue;
      if (work && isLeaderOnly(c)) work.register(c);
      else here.push(c);
    }
    await startComponents(here, async (c) => {
      const t0 = performance.now();
      await c.start(ctx);
      started.push(c);
      componentTimes[c.name] = Math.round(performance.now() - t0);
      logger.debug({ component: c.name, ms: componentTimes[c.name] }, 'component started');
    });
    await informers.start();
    const plan = podAccessPlan({ bindAddress: config.bindAddress, podCIDR: thisNodePodCIDR(config), agentEnabled: !config.disabled.has('agent') });
    let endpoint = plan.endpointIP ? { ip: plan.endpointIP, port } : undefined;
    if (plan.extraListen) {
      try {
        podListener = await listenForPods(plan.extraListen, port, { cert: pki.serving.certPem, key: pki.serving.keyPem }, app, onUpgrade);
        endpoint = { ip: plan.extraListen, port: podListener.port };
        logger.info({ address: `${plan.extraListen}:${podListener.port}` }, 'API listening for Pods (ServiceAccount tokens only)');
      } catch (err) {
        endpoint = undefined;
        logger.warn({ address: plan.extraListen, err: (err as Error).message }, 'cannot listen for Pods on the pod bridge: in-cluster clients will not reach the API');
      }
    }
    const { KubernetesServiceController } = await import('../controllers/kubernetes-service.js');
    const kubeSvcOpts = { clusterIP: kubernetesServiceIP, port: endpoint?.port ?? port, endpoint };
    if (work) {
      // Several servers: the leader's address is the Endpoints' (one writer, none fighting over it).
      work.register(new LeaderOnlyComponent('kubernetes-service', async () => new KubernetesServiceController(kubeSvcOpts)));
    } else {
      const kubeSvc = new KubernetesServiceController(kubeSvcOpts);
      await kubeSvc.start(ctx);
      started.push(kubeSvc);
    }
    mark('components');
    elector?.start();
    componentsStarted = true;
  } catch (err) {
    for (const c of [...started].reverse()) await c.stop().catch(() => undefined);
    informers.stop();
    podListener?.close();
    httpsServer.closeAllConnections?.();
    httpsServer.close();
    customResources?.stop();
    metricsAPI.stop();
    await store.close();
    throw err;
  }
  mark('ready');
  // CPU time of this process so far (user + system): unlike the wall-clock phases, not inflated by a busy host.
  const cpu = process.cpuUsage();
  logger.info({ phases, components: componentTimes, cpuMs: Math.round((cpu.user + cpu.system) / 1000) }, 'server ready');

  return {
    url,
    port,
    kubeconfigPath,
    joinToken: multi.joinToken,
    joinCommand: joinCommand(advertisedURL(config, port), multi.joinToken),
    token,
    caPem: pki.ca.certPem,
    registry,
    store,
    logger,
    components: started,
    stop() {
      stopping ??= (async () => {
        // The leader hands over first: its work stops and the Lease is released for the next server.
        await elector?.stop();
        clearInterval(serversTimer);
        for (const c of [...started].reverse()) {
          try {
            await c.stop();
          } catch (err) {
            logger.warn({ component: c.name, err: String(err) }, 'component stop failed');
          }
        }
        informers.stop();
        idleGC.stop();
        podListener?.close();
        httpsServer.closeAllConnections?.();
        await new Promise<void>((resolve) => httpsServer.close(() => resolve()));
        customResources?.stop();
        metricsAPI.stop();
        await store.close();
      })();
      return stopping;
    },
  };
}
