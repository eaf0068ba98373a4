// The 'dns' server component: the embedded cluster DNS server, fed by the Service, Endpoints and Pod
// informers, listening where Pods reach it (the pod bridge's gateway, port 53, UDP and TCP), and
// published as the selector-less Service kube-system/kube-dns on --cluster-dns with Endpoints naming
// that listen address. Pods then reach DNS through the proxier's DNAT like any other Service, and the
// query path never touches the API.

import type { Endpoints, Pod, Service } from '../api/types.js';
import { R, type ResourceInfo } from '../api/resources.js';
import { isStatusError } from '../api/errors.js';
import { nodePodCIDR } from '../config.js';
import type { Component, ComponentContext } from '../server/component.js';
import type { Logger } from '../util/log.js';
import type { AnswerConfig } from './records.js';
import { ClusterDNSIndex } from './records.js';
import { DNSServer } from './server.js';
import { readResolvConf } from './forward.js';
import { attachIndex } from './sync.js';
import { KUBE_DNS_NAME, KUBE_DNS_NAMESPACE, kubeDnsEndpoints, kubeDnsService } from './publish.js';
import { planEndpoints, planService, type PublishStep } from './publish-plan.js';
import { chooseListenAddress, isLocalAddress, isLoopback, upstreamsFor } from './listen.js';
import { registerDNSMetrics } from './metrics.js';
import { nthAddress } from '../util/ip.js';

export interface DNSComponentOptions {
  /** Listen here instead of the pod bridge's gateway (tests). */
  listenAddress?: string;
  /** Default 53 (a free port on loopback). When it is taken (or not ours to bind), a free port is used and published instead. */
  port?: number;
  /** How long start() waits for the pod bridge's gateway address before serving on loopback meanwhile. */
  addressWaitMs?: number;
  addressPollMs?: number;
  pods?: AnswerConfig['pods'];
  /** Default /etc/resolv.conf; used when --upstream-dns is not given. */
  resolvConfPath?: string;
}

const PUBLISH_DEBOUNCE_MS = 100;
const PUBLISH_RETRY_MAX_MS = 5000;
/** start() gives up (and the server does not start) when kube-dns cannot be written for this long. */
const PUBLISH_START_DEADLINE_MS = 20_000;

function isKubeDns(o: { metadata: { namespace?: string; name?: string } }): boolean {
  return o.metadata.namespace === KUBE_DNS_NAMESPACE && o.metadata.name === KUBE_DNS_NAME;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class DNSComponent implements Component {
  readonly name = 'dns';
  readonly index = new ClusterDNSIndex();
  private server?: DNSServer;
  private ctx?: ComponentContext;
  private log?: Logger;
  private stopped = false;
  private published = false;
  private publishTimer?: NodeJS.Timeout;
  private publishing?: Promise<void>;
  private publishAgain = false;
  private publishRetryMs = 200;
  private moveTimer?: NodeJS.Timeout;
  private unregisterMetrics?: () => void;

  constructor(private readonly opts: DNSComponentOptions = {}) {}

  /** The running server (tests and benchmarks read its stats). */
  get dnsServer(): DNSServer | undefined {
    return this.server;
  }

  /** Where it listens (UDP and TCP share the port). */
  get listen(): { address: string; port: number } | undefined {
    return this.server?.addresses[0];
  }

  async start(ctx: ComponentContext): Promise<void> {
    const { config } = ctx;
    this.ctx = ctx;
    this.stopped = false;
    const log = ctx.logger.child({ component: this.name });
    this.log = log;
    // Registered first: /readyz must say "not ready" while we wait for the bridge and publish.
    ctx.addReadiness('dns', () => !this.stopped && this.server !== undefined && this.published);

    const services = ctx.informers.for<Service>(R.services);
    const endpoints = ctx.informers.for<Endpoints>(R.endpoints);
    const pods = ctx.informers.for<Pod>(R.pods);
    attachIndex(this.index, { services, endpoints, pods });
    // Level-triggered: a kube-dns object deleted or edited by hand is put back.
    const ours = (o: Service | Endpoints) => {
      if (isKubeDns(o)) this.requestPublish();
    };
    const watchOurs = { add: ours, update: (_o: Service | Endpoints, n: Service | Endpoints) => ours(n), delete: ours };
    services.on(watchOurs);
    endpoints.on(watchOurs);
    await Promise.all([services.start(), endpoints.start(), pods.start()]);

    const gateway = nthAddress(nodePodCIDR(config.podCIDR), 1);
    const address = this.opts.listenAddress ?? (await this.initialAddress(gateway, !config.disabled.has('agent')));
    this.server = await this.bindServer(address);
    this.unregisterMetrics = registerDNSMetrics({ server: () => this.server, index: this.index });
    try {
      await this.publishAtStart();
    } catch (err) {
      // The server does not stop a component whose start failed: close our sockets and timers here.
      await this.stop();
      throw err;
    }
  }

  private async publishAtStart(): Promise<void> {
    const { config } = this.ctx!;
    const log = this.log!;
    const deadline = Date.now() + PUBLISH_START_DEADLINE_MS;
    for (;;) {
      try {
        // Through `publishing`, so an informer event meanwhile queues behind it instead of racing it.
        this.publishing = this.publishOnce();
        await this.publishing;
        break;
      } catch (err) {
        if (Date.now() > deadline || this.stopped) throw new Error(`dns: cannot publish the Service ${KUBE_DNS_NAMESPACE}/${KUBE_DNS_NAME} on ${config.clusterDNS}: ${(err as Error).message}`);
        log.warn({ err: (err as Error).message }, 'dns: publishing kube-dns failed; retrying');
        await sleep(500);
      } finally {
        this.publishing = undefined;
      }
    }
    if (this.publishAgain) {
      this.publishAgain = false;
      this.requestPublish();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.publishTimer);
    clearInterval(this.moveTimer);
    this.publishTimer = undefined;
    this.moveTimer = undefined;
    await this.publishing?.catch(() => undefined);
    this.unregisterMetrics?.();
    this.unregisterMetrics = undefined;
    const s = this.server;
    this.server = undefined;
    await s?.stop();
  }

  /**
   * The gateway once the agent has brought up the pod bridge; loopback when there is no agent. If the
   * bridge is late, serve on loopback meanwhile and move to the gateway as soon as it appears.
   */
  private async initialAddress(gateway: string, agentEnabled: boolean): Promise<string> {
    const waitMs = this.opts.addressWaitMs ?? 10_000;
    const pollMs = this.opts.addressPollMs ?? 20;
    const deadline = Date.now() + waitMs;
    for (;;) {
      const c = chooseListenAddress({ gateway, gatewayIsLocal: agentEnabled && (await isLocalAddress(gateway)), agentEnabled });
      if (!('wait' in c)) {
        if (c.reason === 'agent-disabled') this.log?.info({ address: c.address }, 'dns: the agent is disabled, so there is no pod network: serving on a free loopback port for this host only (kubelite dns lookup finds it; the kube-dns VIP has no endpoint)');
        return c.address;
      }
      if (Date.now() >= deadline || this.stopped) break;
      await sleep(pollMs);
    }
    this.log?.error({ gateway }, 'dns: the pod bridge gateway is not on this host yet: serving on 127.0.0.1 meanwhile (Pods cannot reach DNS until it appears)');
    this.moveTimer = setInterval(() => {
      void isLocalAddress(gateway).then((local) => {
        if (!local || !this.moveTimer) return;
        clearInterval(this.moveTimer);
        this.moveTimer = undefined;
        void this.moveTo(gateway);
      });
    }, 1000);
    this.moveTimer.unref();
    return '127.0.0.1';
  }

  private async moveTo(address: string): Promise<void> {
    if (this.stopped) return;
    let next: DNSServer;
    try {
      next = await this.bindServer(address);
    } catch (err) {
      this.log?.error({ address, err: (err as Error).message }, 'dns: cannot listen on the pod bridge gateway');
      return;
    }
    if (this.stopped) {
      await next.stop();
      return;
    }
    const old = this.server;
    this.server = next;
    this.requestPublish();
    await old?.stop();
  }

  private async bindServer(address: string): Promise<DNSServer> {
    const { config } = this.ctx!;
    const log = this.log!;
    const up = upstreamsFor(config.upstreamDNS, () => readResolvConf(this.opts.resolvConfPath), config.clusterDNS);
    for (const d of up.dropped) log.warn(d, 'dns: upstream left out');
    if (!up.upstreams.length) log.warn({ source: up.source }, 'dns: no upstream resolvers: names outside the cluster get SERVFAIL (pass --upstream-dns)');
    const make = (port: number) =>
      new DNSServer({
        index: this.index,
        domain: config.clusterDomain,
        ttl: config.dnsTTL,
        listen: [{ address, port }],
        upstreams: up.upstreams,
        reverseCIDRs: [config.serviceCIDR, config.podCIDR],
        pods: this.opts.pods,
        logger: log,
      });
    // On loopback (no agent) a free port: port 53 there is the conventional place of the host's own
    // stub resolver, and several kubelite instances share a test host; the CLI finds the port through
    // the dns-listen annotation.
    const port = this.opts.port ?? (isLoopback(address) ? 0 : 53);
    const server = make(port);
    try {
      await server.start();
      return server;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (port === 0 || (code !== 'EADDRINUSE' && code !== 'EACCES')) throw err;
      // Pods still use port 53: they reach the VIP, and the DNAT goes to whatever port we publish.
      log.warn({ address, port, code }, 'dns: port 53 is not available on the listen address: using a free port (Pods still use port 53 of the cluster DNS address)');
      const fallback = make(0);
      await fallback.start();
      return fallback;
    }
  }

  /** Coalesces bursts of informer events into one publish; never runs two at once. */
  private requestPublish(): void {
    if (this.stopped || !this.server) return;
    if (this.publishing) {
      this.publishAgain = true;
      return;
    }
    if (this.publishTimer) return;
    this.publishTimer = setTimeout(() => {
      this.publishTimer = undefined;
      this.publishing = this.publishOnce()
        .then(() => {
          this.publishRetryMs = 200;
        })
        .catch((err) => {
          this.log?.warn({ err: (err as Error).message, retryMs: this.publishRetryMs }, 'dns: publishing kube-dns failed; retrying');
          this.publishAgain = false;
          const delay = this.publishRetryMs;
          this.publishRetryMs = Math.min(this.publishRetryMs * 2, PUBLISH_RETRY_MAX_MS);
          setTimeout(() => this.requestPublish(), delay).unref();
        })
        .finally(() => {
          this.publishing = undefined;
          if (this.publishAgain) {
            this.publishAgain = false;
            this.requestPublish();
          }
        });
    }, PUBLISH_DEBOUNCE_MS);
  }

  /** Brings kube-system/kube-dns (Service, then Endpoints) to what this server needs. Idempotent. */
  private async publishOnce(): Promise<void> {
    const { config, client } = this.ctx!;
    const at = this.listen;
    if (!at) return;
    const svc = kubeDnsService(config.clusterDNS, at.port, { domain: config.clusterDomain, listen: `${at.address}:${at.port}` });
    const eps = kubeDnsEndpoints(at.address, at.port, config.nodeName);
    // Endpoints may not name loopback (nor could a Pod reach it): without a pod network the VIP has no
    // backend, and the host finds the server through the Service's dns-listen annotation.
    if (isLoopback(at.address)) eps.subsets = [];
    await this.apply('Service', planService(await this.stored<Service>(R.services), svc), R.services);
    await this.apply('Endpoints', planEndpoints(await this.stored<Endpoints>(R.endpoints), eps), R.endpoints);
    if (!this.published) this.log?.info({ clusterIP: config.clusterDNS, endpoint: `${at.address}:${at.port}` }, 'dns: published kube-system/kube-dns');
    this.published = true;
  }

  private async stored<T extends Service | Endpoints>(res: ResourceInfo): Promise<T | undefined> {
    try {
      return await this.ctx!.client.get<T>(res, KUBE_DNS_NAMESPACE, KUBE_DNS_NAME);
    } catch (err) {
      if (isStatusError(err, 'NotFound')) return undefined;
      throw err;
    }
  }

  private async apply<T extends Service | Endpoints>(kind: string, step: PublishStep<T>, res: ResourceInfo): Promise<void> {
    const { client } = this.ctx!;
    switch (step.op) {
      case 'none':
        return;
      case 'create':
        await client.create<T>(res, step.obj);
        return;
      case 'update':
        this.log?.info({ kind, why: step.why }, 'dns: updating kube-dns');
        await client.update<T>(res, step.obj);
        return;
      case 'recreate':
        this.log?.warn({ kind, why: step.why }, 'dns: replacing kube-dns');
        try {
          await client.delete(res, KUBE_DNS_NAMESPACE, KUBE_DNS_NAME, { gracePeriodSeconds: 0 });
        } catch (err) {
          if (!isStatusError(err, 'NotFound')) throw err;
        }
        await client.create<T>(res, step.obj);
    }
  }
}

export function createDns(opts: DNSComponentOptions = {}): Component {
  return new DNSComponent(opts);
}
