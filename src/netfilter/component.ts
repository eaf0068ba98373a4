// The proxier as a `kubelite server` component ('proxy'): fed from the Service and Endpoints informers,
// started (first full sync, adopting what a previous run left in the kernel) before the server reports
// ready. Stopping it leaves the rules in force, so a restart changes nothing for live traffic;
// `kubelite cleanup` is what removes them.

import type { Endpoints, Service } from '../api/types.js';
import { R } from '../api/resources.js';
import { thisNodePodCIDR } from '../config.js';
import type { Component, ComponentContext } from '../server/component.js';
import type { Logger } from '../util/log.js';
import { ensureHairpin } from '../host/hairpin.js';
import { hostPrimaryIPv4 } from '../host/node-ips.js';
import { chooseProxyMode } from './mode.js';
import type { NftSupport } from './nft.js';
import { Proxier, type NetfilterHost, type ProxyMode, type SyncResult } from './proxier.js';
import { iptablesSave } from './iptables.js';
import { iptablesFingerprint, ProxyWatchdog } from './watchdog.js';
import { netlinkMonitor, type NetlinkMonitor } from '../host/netlink.js';
import { nthAddress } from '../util/ip.js';
import { objectKey } from '../api/keys.js';

/** How often hairpin mode is re-checked on the pod bridge besides on every Endpoints change. */
const HAIRPIN_INTERVAL_MS = 10_000;

export interface ProxyComponentOptions {
  /** Replaces the host tools (tests without root). */
  host?: NetfilterHost;
  /** Skip hairpin mode on the pod bridge (tests without sysfs). */
  hairpin?: boolean;
  /** Replaces the nftables probe (tests without root). */
  probeNft?: () => Promise<NftSupport>;
  /** Repair between the periodic resyncs (netlink events, a fingerprint of our rules); default on with the host tools. */
  watchdog?: boolean;
  netlink?: NetlinkMonitor;
}

export class ProxyComponent implements Component {
  readonly name = 'proxy';
  proxier?: Proxier;
  private log?: Logger;
  private stopped = false;
  private started = false;
  private ready = false;
  private hairpinTimer?: NodeJS.Timeout;
  private hairpinPending = false;
  private hairpinRunning?: Promise<void>;
  private bridge = '';
  private watchdog?: ProxyWatchdog;
  private unsubscribeBridge?: () => void;

  constructor(private readonly opts: ProxyComponentOptions = {}) {}

  async start(ctx: ComponentContext): Promise<void> {
    const { config, names } = ctx;
    const log = ctx.logger.child({ component: this.name });
    this.log = log;
    this.stopped = false;
    this.bridge = names.podBridge;
    // The whole cluster's pod CIDR (kube-proxy's --cluster-cidr): Pods on every node are "inside".
    const podCIDR = config.podCIDR;
    // The node's address and the pod bridge's gateway are both this host's.
    const nodeIPs = [...new Set([config.nodeIP ?? hostPrimaryIPv4(), nthAddress(thisNodePodCIDR(config), 1)])];
    // Registered first, so /readyz says "not ready" from the moment this component starts syncing.
    ctx.addReadiness('proxy', () => (this.ready ||= this.started && !this.stopped && this.proxier?.lastError === undefined));
    // Host tools without nftables (tests) cannot run that mode, whatever this machine has.
    const noNft = this.opts.host && !this.opts.host.nftApply ? async () => ({ ok: false, reason: 'the host tools given have no nftables support' }) : undefined;
    const choice = await chooseProxyMode(config.proxyMode as ProxyMode | undefined, this.opts.probeNft ?? noNft);
    if (choice.fellBack) log.warn(choice.message);
    else log.info(choice.message);
    const proxier = new Proxier({
      mode: choice.mode,
      names,
      podCIDR,
      nodePodCIDR: thisNodePodCIDR(config),
      serviceCIDR: config.serviceCIDR,
      nodeIPs,
      lbPool: config.lbPool,
      nodeName: config.nodeName,
      resyncSchedule: config.resyncSchedule,
      host: this.opts.host,
      logger: {
        info: (m) => log.info(m),
        warn: (m) => log.warn(m),
        error: (m) => log.error(m),
      },
    });
    this.proxier = proxier;

    const services = ctx.informers.for<Service>(R.services);
    const endpoints = ctx.informers.for<Endpoints>(R.endpoints);
    services.on({
      add: (s) => !this.stopped && proxier.upsertService(s),
      update: (_o, s) => !this.stopped && proxier.upsertService(s),
      delete: (s) => !this.stopped && proxier.deleteService(objectKey(s)),
    });
    endpoints.on({
      add: (e) => this.endpointsChanged(() => proxier.upsertEndpoints(e)),
      update: (_o, e) => this.endpointsChanged(() => proxier.upsertEndpoints(e)),
      delete: (e) => this.endpointsChanged(() => proxier.deleteEndpoints(objectKey(e))),
    });
    await Promise.all([services.start(), endpoints.start()]);
    const first = await proxier.start();
    this.started = true;
    if (first.ok) {
      this.ready = true;
      log.debug({ ms: Math.round(first.durationMs), rules: first.rulesWritten }, 'proxy rules in place');
    } else {
      // The proxier keeps retrying with back-off; the server reports not ready until one succeeds.
      log.error({ err: first.error?.message }, `proxy: first sync failed (kubelite needs root and ${choice.mode === 'nftables' ? 'nft' : 'iptables'} for the data plane; --disable proxy runs without it)`);
    }
    if (this.opts.watchdog ?? !this.opts.host) {
      const netlink = this.opts.netlink ?? netlinkMonitor(log);
      this.watchdog = new ProxyWatchdog({
        proxier,
        device: names.serviceDevice,
        routes: [config.serviceCIDR, ...(config.lbPool ? [config.lbPool] : [])],
        // The rules' fingerprint exists for the iptables plane; the nftables plane repairs its table at
        // the periodic resync (the watchdog takes an nft fingerprint once there is one: its listing
        // carries traffic counters, which would have to be left out).
        fingerprint: proxier.mode === 'iptables' ? iptablesFingerprint(iptablesSave, proxier.chains, () => proxier.writtenRules) : undefined,
        netlink,
        logger: { warn: (m) => log.warn(m), debug: (m) => log.debug(m) },
      });
      this.watchdog.start();
      // A Pod's new veth on the bridge (a new Pod, or the bridge rebuilt by the agent) gets hairpin mode at once.
      if (this.opts.hairpin ?? true) this.unsubscribeBridge = netlink.subscribe((ev) => ev.kind === 'link' && !ev.deleted && ev.master === this.bridge && this.requestHairpin());
    }
    if (this.opts.hairpin ?? true) {
      this.requestHairpin();
      this.hairpinTimer = setInterval(() => this.requestHairpin(), HAIRPIN_INTERVAL_MS);
      this.hairpinTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribeBridge?.();
    await this.watchdog?.stop();
    if (this.hairpinTimer) clearInterval(this.hairpinTimer);
    this.hairpinTimer = undefined;
    await this.hairpinRunning;
    await this.proxier?.stop();
  }

  /** Resolves after the next sync completes (tests and benchmarks). */
  waitForSync(): Promise<SyncResult> {
    if (!this.proxier) return Promise.reject(new Error('proxy not started'));
    return this.proxier.waitForSync();
  }

  private endpointsChanged(apply: () => void): void {
    if (this.stopped) return;
    apply();
    // A Pod's veth exists once the Pod runs, which is before it can be in any Endpoints.
    if (this.started && (this.opts.hairpin ?? true)) this.requestHairpin();
  }

  /** Coalesces: one pass at a time, one more if asked for during a pass. */
  private requestHairpin(): void {
    if (this.stopped) return;
    if (this.hairpinRunning) {
      this.hairpinPending = true;
      return;
    }
    this.hairpinRunning = (async () => {
      do {
        this.hairpinPending = false;
        try {
          const changed = await ensureHairpin(this.bridge);
          if (changed.length) this.log?.debug({ ports: changed }, 'hairpin mode turned on');
        } catch (err) {
          this.log?.warn({ err: (err as Error).message }, 'could not set hairpin mode on the pod bridge');
        }
      } while (this.hairpinPending && !this.stopped);
    })().finally(() => (this.hairpinRunning = undefined));
  }
}

export function createProxy(opts: ProxyComponentOptions = {}): Component {
  return new ProxyComponent(opts);
}
