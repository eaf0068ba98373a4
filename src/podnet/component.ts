// The 'podnet' component: this host's side of the pod network across hosts. It follows the Node
// objects (their pod CIDRs and InternalIPs) and keeps the routes to every other node's share, the VXLAN
// device with its neighbour/FDB entries when some node shares no link with us (or --pod-network vxlan),
// and the two forwarding rules (rules.ts) in place. Level-triggered: every Node change and a periodic
// resync re-read the kernel and apply the difference, so a deleted route or device comes back.
// Stopping it leaves everything in place (Pods keep talking across hosts); `kubelite cleanup` removes it.

import type { Node } from '../api/types.js';
import { R } from '../api/resources.js';
import type { Component, ComponentContext } from '../server/component.js';
import { hostPrimaryIPv4 } from '../host/node-ips.js';
import type { Logger } from '../util/log.js';
import { diffPodNetwork } from './diff.js';
import { apply, readKernel, readLinks } from './ip.js';
import { peerOf, planPodNetwork, type Peer } from './plan.js';
import { ensureRules, podNetChains } from './rules.js';

const DEBOUNCE_MS = 20;
const RESYNC_MS = 15_000;

export interface PodNetOptions {
  /** The proxier's masquerade mark (default 0x4000). */
  mark?: string;
}

export class PodNetComponent implements Component {
  readonly name = 'podnet';
  private log!: Logger;
  private ctx!: ComponentContext;
  private timer?: NodeJS.Timeout;
  private resync?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private lastProblems = '';
  /** Commands of the last sync that changed something (tests). */
  lastApplied: string[][] = [];
  synced = 0;

  constructor(private readonly opts: PodNetOptions = {}) {}

  async start(ctx: ComponentContext): Promise<void> {
    this.ctx = ctx;
    this.log = ctx.logger.child({ component: this.name });
    this.stopped = false;
    const nodes = ctx.informers.for<Node>(R.nodes);
    const kick = () => this.request();
    nodes.on({ add: kick, update: (o, n) => (routingChanged(o, n) ? kick() : undefined), delete: kick });
    await nodes.start();
    // The first sync runs in the background: nothing on this host waits for routes to other nodes (a
    // lone host has none), so the server's start-up does not wait for its iptables and ip calls either.
    void this.syncNow();
    this.resync = setInterval(kick, RESYNC_MS);
    this.resync.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.resync);
    await this.running?.catch(() => undefined);
  }

  /** Coalesces bursts of Node changes into one sync; never two at once. */
  request(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.syncNow().catch(() => undefined);
    }, DEBOUNCE_MS);
  }

  async syncNow(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.syncOnce();
        } catch (err) {
          this.log.warn({ err: (err as Error).message }, 'pod network sync failed; retrying at the next change or resync');
        }
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private async syncOnce(): Promise<void> {
    const { config, names } = this.ctx;
    const nodes = this.ctx.informers.for<Node>(R.nodes).list();
    const peers: Peer[] = [];
    const problems: string[] = [];
    for (const n of nodes) {
      const p = peerOf(n);
      if ('problem' in p) {
        if (p.name !== config.nodeName) problems.push(`${p.name}: ${p.problem}`);
      } else peers.push(p);
    }
    const own = (dev: string) => dev.startsWith(names.podBridge) || dev === names.vxlanDevice || dev.startsWith(names.serviceDevice) || dev.startsWith('veth') || dev.startsWith('docker');
    const self = { name: config.nodeName, ip: config.nodeIP ?? hostPrimaryIPv4(), podCIDR: config.disabled.has('agent') ? '' : (config.nodePodCIDR ?? ''), links: await readLinks(own) };
    const plan = planPodNetwork(self, peers, config.podNetwork, names.vxlanDevice, config.podCIDR);
    for (const p of plan.problems) problems.push(`${p.node}: ${p.message}`);
    const key = problems.join('; ');
    if (key && key !== this.lastProblems) this.log.warn({ problems }, 'some nodes cannot be routed to yet');
    this.lastProblems = key;
    const cmds = diffPodNetwork(await readKernel(names.vxlanDevice), plan, config.podCIDR, names.vxlanDevice);
    if (cmds.length) {
      await apply(cmds);
      this.lastApplied = cmds.map((c) => [c.tool, ...c.args]);
      this.log.info({ changes: cmds.length, routes: plan.routes.length, vxlan: plan.vxlan !== undefined }, 'pod network routes updated');
    }
    await ensureRules({ ...podNetChains(names.chainPrefix), clusterCIDR: config.podCIDR, serviceCIDR: config.serviceCIDR, mark: this.opts.mark ?? '0x4000' });
    this.synced++;
  }
}

/** Did what routing depends on change (pod CIDR, addresses)? Heartbeats alone do not. */
export function routingChanged(a: Node, b: Node): boolean {
  const key = (n: Node) => JSON.stringify([n.spec?.podCIDR, n.status?.addresses?.filter((x) => x.type === 'InternalIP')]);
  return key(a) !== key(b);
}

export function createPodNet(opts: PodNetOptions = {}): Component {
  return new PodNetComponent(opts);
}
