// A Pod's sandbox (the pause container holding its network namespace, IP, hostname and resolv.conf),
// made with as few Docker round trips as the engine allows: the agent picks the Pod IP (ipam.ts), so
// the sandbox needs no inspect after it starts, and the Pod's app containers can be created while it
// starts (`beside`). Docker refusing the chosen address (a container we do not know holds it) falls
// back to Docker's own choice and an inspect.

import fs from 'node:fs/promises';
import path from 'node:path';
import type Dockerode from 'dockerode';
import type { Pod } from '../api/types.js';
import type { HostNames, ServerConfig } from '../config.js';
import { podResolvConf } from '../dns/resolv.js';
import { IMAGES } from '../images/index.js';
import { sandboxCreateOptions, type HostNaming } from './container-config.js';
import { dockerMessage, type DockerRuntime } from './docker.js';
import { PodIPAM } from './ipam.js';
import { fromCreate, fromInspect, isRunning } from './observed.js';
import type { RuntimeCache } from './runtime-cache.js';
import type { ObservedContainer } from './types.js';

export interface SandboxDeps {
  runtime: DockerRuntime;
  cache: RuntimeCache;
  names: HostNames;
  config: ServerConfig;
  /** The node's pod range (the agent's IPAM hands out addresses from it). */
  podCIDR: string;
  hostIP(): string;
  hostResolvConf: string;
  /** Docker's root directory (`docker info`), where each container's resolv.conf lives. */
  dockerRootDir?(): string | undefined;
}

/** Docker's answer when a fixed address is taken. */
const ADDRESS_TAKEN = /address already in use|no available|is in use|already allocated/i;

export class Sandboxes {
  private readonly ipam: PodIPAM;
  private readonly naming: HostNaming;

  constructor(private readonly d: SandboxDeps) {
    this.ipam = new PodIPAM(d.podCIDR);
    this.naming = { containerPrefix: d.names.containerPrefix, instanceLabel: d.names.instanceLabel, instanceValue: d.names.instanceValue, dockerNetwork: d.names.dockerNetwork };
  }

  resolvConf(pod: Pod): string {
    return podResolvConf(pod, { clusterDNS: this.d.config.clusterDNS, domain: this.d.config.clusterDomain, hostResolvConf: this.d.hostResolvConf });
  }

  /** Addresses our sandboxes hold (running, or made and about to start). */
  private usedIPs(): Set<string> {
    const used = new Set<string>();
    for (const c of this.d.cache.all()) if (c.role === 'infra' && c.ip && (isRunning(c) || c.state === 'created')) used.add(c.ip);
    return used;
  }

  /**
   * Creates and starts the Pod's sandbox, writes its resolv.conf and puts it in the cache. `beside`
   * runs once the sandbox exists (its id and IP known) while it starts; a failure of the sandbox waits
   * for it, then removes the sandbox and rethrows.
   */
  async create(pod: Pod, attempt: number, createNamed: (opts: Dockerode.ContainerCreateOptions) => Promise<string>, beside?: (id: string, ip: string) => Promise<void>): Promise<ObservedContainer> {
    const hostNetwork = !!pod.spec.hostNetwork;
    let ip = hostNetwork ? undefined : this.ipam.pick(this.usedIPs());
    for (;;) {
      const opts = sandboxCreateOptions(this.naming, { pod, attempt, image: IMAGES.pause, clusterDomain: this.d.config.clusterDomain, ip });
      let id: string | undefined;
      let side: Promise<void> | undefined;
      try {
        id = await createNamed(opts);
        if (ip) this.d.cache.set(fromCreate(id, opts, { state: 'created', now: Date.now(), ip })!);
        side = ip && beside ? beside(id, ip).catch(() => undefined) : undefined;
        await this.d.runtime.start(id);
        const observed = await this.observeStarted(pod, id, opts, ip);
        this.d.cache.set(observed);
        await side;
        return observed;
      } catch (err) {
        await side;
        if (id) {
          await this.d.runtime.remove(id).catch(() => undefined);
          this.d.cache.delete(id);
        }
        if (ip && ADDRESS_TAKEN.test(dockerMessage(err))) {
          // Someone else holds it: let Docker choose (and inspect to learn its choice).
          this.ipam.release(ip);
          ip = undefined;
          continue;
        }
        throw err;
      } finally {
        if (ip) this.ipam.release(ip);
      }
    }
  }

  /** The started sandbox as the agent sees it; resolv.conf written (every container of the Pod shares it). */
  private async observeStarted(pod: Pod, id: string, opts: Dockerode.ContainerCreateOptions, ip: string | undefined): Promise<ObservedContainer> {
    const root = this.d.dockerRootDir?.();
    if (ip && root) {
      // Docker keeps each container's resolv.conf at <root>/containers/<id>/resolv.conf.
      const file = path.join(root, 'containers', id, 'resolv.conf');
      try {
        await fs.access(file);
        await fs.writeFile(file, this.resolvConf(pod));
        return fromCreate(id, opts, { state: 'running', now: Date.now(), ip })!;
      } catch {
        // not where we expected it: ask Docker
      }
    }
    const raw = await this.d.runtime.inspectRaw(id);
    if (!raw) throw new Error('the sandbox container vanished right after it started');
    const observed = fromInspect(raw, this.d.names.dockerNetwork, this.d.hostIP());
    if (!observed || !observed.ip) throw new Error(`the sandbox has no address on network ${this.d.names.dockerNetwork}`);
    if (raw.ResolvConfPath) await fs.writeFile(raw.ResolvConfPath, this.resolvConf(pod));
    return observed;
  }
}
