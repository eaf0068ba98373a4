// The pod network of this node: the Docker bridge network the sandboxes live on, and its Linux bridge
// (`kl0`, `kl0-<instance>`). Made at start; afterwards watched (netlink: the bridge deleted by hand;
// the heartbeat: the bridge or the Docker network gone) and rebuilt when it breaks: every running
// sandbox is detached, the network is made again, and each sandbox is attached again with its own Pod
// IP, so the Pods keep their addresses and their containers keep running. A sandbox that cannot get
// its address back is stopped, and its Pod gets a new sandbox as after any sandbox loss. While the
// network is broken the Node says NotReady (and NetworkUnavailable) with the reason; each loss and
// repair is an Event on the Node and counted in kubelite_agent_pod_network_repairs_total.

import fs from 'node:fs';
import client from 'prom-client';
import type { HostNames } from '../config.js';
import type { LeveledLogger } from '../util/log.js';
import { dockerMessage, isNotFound, type DockerRuntime } from './docker.js';
import { decideNetwork, gatewayOf, type WantedNetwork } from './network.js';
import type { ObservedContainer } from './types.js';
import { isRunning } from './observed.js';

export interface NetworkHealth {
  ok: boolean;
  /** Why not (for the Node's conditions and the logs). */
  reason?: string;
  message?: string;
}

/**
 * What a rebuilt network must take back: every container Docker lists on it (with its address), and
 * the running sandboxes the agent knows on it that Docker no longer lists. Pure.
 */
export function toReattach(attached: Record<string, { IPv4Address?: string }> | undefined, containers: readonly ObservedContainer[], dockerNetwork: string): { id: string; ip: string }[] {
  const out = new Map<string, string>();
  for (const [id, ep] of Object.entries(attached ?? {})) {
    const ip = ep.IPv4Address?.split('/')[0];
    if (ip) out.set(id, ip);
  }
  for (const c of containers) {
    if (c.role === 'infra' && isRunning(c) && c.networkMode === dockerNetwork && c.ip && !out.has(c.id)) out.set(c.id, c.ip);
  }
  return [...out].map(([id, ip]) => ({ id, ip }));
}

export interface RepairReport {
  /** Why the network needed a rebuild. */
  why: string;
  reattached: number;
  /** Containers stopped because they could not be attached again (a sandbox's Pod gets a new one). */
  stopped: string[];
}

interface Metrics {
  ready: client.Gauge;
  repairs: client.Counter<'result'>;
}

function metrics(): Metrics {
  const get = <T>(name: string, make: () => T): T => (client.register.getSingleMetric(name) as T | undefined) ?? make();
  return {
    ready: get('kubelite_agent_pod_network_ready', () => new client.Gauge({ name: 'kubelite_agent_pod_network_ready', help: '1 while the pod bridge and its Docker network are in place, 0 while they are broken' })),
    repairs: get(
      'kubelite_agent_pod_network_repairs_total',
      () => new client.Counter({ name: 'kubelite_agent_pod_network_repairs_total', help: 'Rebuilds of the pod network after its bridge or Docker network was lost', labelNames: ['result'] as const }),
    ),
  };
}

export interface PodNetworkDeps {
  runtime: DockerRuntime;
  names: HostNames;
  podCIDR: string;
  logger: Pick<LeveledLogger, 'info' | 'warn' | 'debug'>;
  /** Our containers as the agent last saw them. */
  containers(): ObservedContainer[];
  /** Rewrites a sandbox's resolv.conf for its Pod (Docker writes its own when a container is attached); not ours: nothing. */
  rewriteResolvConf(containerId: string): Promise<void>;
  /** Whether a network device exists (default: /sys/class/net). */
  linkExists?(name: string): boolean;
}

export class PodNetwork {
  private readonly want: WantedNetwork;
  private readonly m = metrics();
  private repairing?: Promise<RepairReport | undefined>;
  health: NetworkHealth = { ok: true };

  constructor(private readonly d: PodNetworkDeps) {
    this.want = { name: d.names.dockerNetwork, subnet: d.podCIDR, bridge: d.names.podBridge, instanceLabel: d.names.instanceLabel, instanceValue: d.names.instanceValue };
    this.m.ready.set(1);
  }

  get bridge(): string {
    return this.want.bridge;
  }

  private linkExists(name: string): boolean {
    return this.d.linkExists ? this.d.linkExists(name) : fs.existsSync(`/sys/class/net/${name}`);
  }

  /** Resolves when no rebuild is running (a sandbox is only ever created on a whole network). */
  async settled(): Promise<void> {
    await this.repairing?.catch(() => undefined);
  }

  /** At start: reuse ours, (re)create it, or refuse (a foreign network holds the subnet or the bridge name). */
  async ensure(): Promise<void> {
    const networks = await this.d.runtime.networks();
    const mine = networks.find((n) => n.name === this.want.name);
    if (mine) mine.containers = await this.d.runtime.networkContainers(mine.id).catch(() => undefined);
    const decision = decideNetwork(networks, this.want);
    if (decision.action === 'refuse') throw new Error(`cannot set up the pod network: ${decision.message}`);
    if (decision.action === 'reuse') {
      // Ours, but its bridge was deleted while we were down: rebuild it with whatever is attached.
      if (!this.linkExists(this.want.bridge)) await this.repair(`the pod bridge ${this.want.bridge} is missing`);
      return;
    }
    if (decision.action === 'recreate') {
      this.d.logger.info({ network: this.want.name, why: decision.why }, 'recreating the pod network');
      await this.d.runtime.removeNetwork(decision.id);
    }
    try {
      await this.d.runtime.createNetwork(this.want, gatewayOf(this.want.subnet));
    } catch (err) {
      throw new Error(`cannot create Docker network ${this.want.name} (${this.want.subnet} on bridge ${this.want.bridge}): ${dockerMessage(err)}`);
    }
  }

  /** Why the network is broken now, or undefined when the bridge and the Docker network are in place. */
  async problem(): Promise<string | undefined> {
    if (!this.linkExists(this.want.bridge)) return `the pod bridge ${this.want.bridge} is missing`;
    try {
      await this.d.runtime.docker.getNetwork(this.want.name).inspect();
    } catch (err) {
      if (isNotFound(err)) return `the Docker network ${this.want.name} is missing`;
      throw err;
    }
    return undefined;
  }

  /** Rebuilds the network and re-attaches the sandboxes (one rebuild at a time; a second call joins it). */
  repair(why: string): Promise<RepairReport | undefined> {
    this.repairing ??= this.rebuild(why).finally(() => (this.repairing = undefined));
    return this.repairing;
  }

  private async rebuild(why: string): Promise<RepairReport | undefined> {
    const { runtime, logger } = this.d;
    const docker = runtime.docker;
    this.health = { ok: false, reason: 'PodNetworkLost', message: `${why}: rebuilding the pod network` };
    this.m.ready.set(0);
    let sandboxes: { id: string; ip: string }[] = [];
    try {
      const existing = (await runtime.networks()).find((n) => n.name === this.want.name);
      let attached: Record<string, { IPv4Address?: string }> | undefined;
      if (existing) attached = ((await docker.getNetwork(existing.id).inspect()) as { Containers?: Record<string, { IPv4Address?: string }> }).Containers;
      sandboxes = toReattach(attached, this.d.containers(), this.want.name);
      logger.warn({ why, containers: sandboxes.length }, 'pod network lost: rebuilding it and re-attaching its containers');
      if (existing) {
        // Detach every endpoint (Docker's record of them outlives the bridge); then the network can go.
        await inBatches(sandboxes, 8, (s) => docker.getNetwork(existing.id).disconnect({ Container: s.id, Force: true }).catch((err: unknown) => logger.debug({ id: s.id.slice(0, 12), err: dockerMessage(err) }, 'detach failed')));
        await runtime.removeNetwork(existing.id);
      }
      await runtime.createNetwork(this.want, gatewayOf(this.want.subnet));
    } catch (err) {
      const message = `${why}, and rebuilding it failed: ${dockerMessage(err)}`;
      this.health = { ok: false, reason: 'PodNetworkRepairFailed', message };
      this.m.repairs.inc({ result: 'failed' });
      throw new Error(message);
    }
    const stopped: string[] = [];
    let reattached = 0;
    await inBatches(sandboxes, 8, async (s) => {
      try {
        // The same address: the Pod keeps its IP, its Endpoints and its connections' other ends.
        await docker.getNetwork(this.want.name).connect({ Container: s.id, EndpointConfig: { IPAMConfig: { IPv4Address: s.ip } } });
        await this.d.rewriteResolvConf(s.id);
        reattached++;
      } catch (err) {
        logger.warn({ id: s.id.slice(0, 12), ip: s.ip, err: dockerMessage(err) }, 'could not re-attach a container to the rebuilt pod network: stopping it (a sandbox is then replaced with its Pod\'s containers)');
        stopped.push(s.id);
        await runtime.stop(s.id, 0).catch(() => undefined);
      }
    });
    this.health = { ok: true };
    this.m.ready.set(1);
    this.m.repairs.inc({ result: 'ok' });
    logger.info({ reattached, stopped: stopped.length }, 'pod network rebuilt');
    return { why, reattached, stopped };
  }
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}
