// The two ways a Pod leaves a node: graceful termination (Ready=False, wait for the endpoints to drop
// the Pod's IP so no new connection is sent here, preStop hooks, SIGTERM, SIGKILL after the grace
// period, remove the containers and volumes, delete the object) and the sweep of containers whose Pod
// is gone (or is another incarnation of it).

import type { Endpoints, Pod } from '../api/types.js';
import { R } from '../api/resources.js';
import { isStatusError } from '../api/errors.js';
import { keyFor } from '../api/keys.js';
import type { ApiClient } from '../client/types.js';
import type { Informer } from '../client/informer.js';
import type { EventRecorder } from '../client/events.js';
import type { LeveledLogger } from '../util/log.js';
import type { DockerRuntime } from './docker.js';
import { runHook } from './hooks.js';
import { isRunning } from './observed.js';
import type { ProbeManager } from './probes.js';
import type { RuntimeCache } from './runtime-cache.js';
import type { ObservedContainer } from './types.js';
import type { VolumeManager } from './volumes.js';

/** Index of the Endpoints informer by the ready addresses it lists. */
export const ENDPOINTS_IP_INDEX = 'agent:ready-ip';

/** What both halves of a Pod's life on this node (its sync and its termination) act through. */
export interface PodRuntimeDeps {
  client: ApiClient;
  runtime: DockerRuntime;
  cache: RuntimeCache;
  volumes: VolumeManager;
  probes: ProbeManager;
  recorder: EventRecorder;
  logger: LeveledLogger;
  enqueue(key: string, afterMs?: number): void;
}

export interface TerminationDeps extends PodRuntimeDeps {
  endpoints: Informer<Endpoints>;
  /** Data-plane settle time after the Pod's IP left every Endpoints object. */
  settleMs: number;
  /** Upper bound of the wait for the endpoints to drop a terminating Pod. */
  endpointsWaitCapMs: number;
}

/** What the terminator asks of the Pod's sync: the Not-Ready status, and to forget a Pod that is gone. */
export interface TerminationHooks {
  writeTerminatingStatus(pod: Pod): Promise<void>;
  forget(uid: string): void;
}

export class PodTerminator {
  private readonly terminating = new Map<string, Promise<void>>();

  constructor(
    private readonly d: TerminationDeps,
    private readonly hooks: TerminationHooks,
  ) {}

  isTerminating(uid: string): boolean {
    return this.terminating.has(uid);
  }

  /** Stops and removes containers whose Pod is gone (or is another incarnation), and their volumes. */
  async removeOrphans(key: string, containers: ObservedContainer[], wholePod: boolean): Promise<void> {
    const victims = containers.filter((c) => !this.terminating.has(c.podUid));
    if (victims.length) {
      this.d.logger.info({ pod: key, containers: victims.length }, 'removing containers of a pod that is gone');
      await Promise.all(
        victims.map(async (c) => {
          await this.d.runtime.remove(c.id);
          this.d.cache.delete(c.id);
        }),
      );
    }
    for (const uid of new Set(victims.map((c) => c.podUid))) {
      await this.d.volumes.tearDown(uid).catch(() => undefined);
      this.hooks.forget(uid);
    }
    if (wholePod) this.d.probes.removePod(key);
  }

  /** Starts the graceful termination of a Pod being deleted (once: later calls while it runs do nothing). */
  start(pod: Pod): void {
    const uid = pod.metadata.uid!;
    if (this.terminating.has(uid)) return;
    const key = keyFor(pod.metadata.namespace ?? 'default', pod.metadata.name!);
    const run = this.terminate(pod, key)
      .catch((err) => this.d.logger.warn({ pod: key, err: String(err) }, 'pod termination failed; will retry'))
      .finally(() => {
        this.terminating.delete(uid);
        this.d.enqueue(key, 200);
      });
    this.terminating.set(uid, run);
  }

  private ipInEndpoints(ip: string): boolean {
    return this.d.endpoints.byIndex(ENDPOINTS_IP_INDEX, ip).length > 0;
  }

  private async terminate(pod: Pod, key: string): Promise<void> {
    const uid = pod.metadata.uid!;
    const t0 = Date.now();
    const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    const deadline = t0 + grace * 1000;
    const own = () => this.d.cache.forPod(key).filter((c) => c.podUid === uid);
    const running = own().filter((c) => c.role === 'app' && isRunning(c));
    const wasReady = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

    // 1. Not Ready any more, so the endpoints controller takes the Pod out of its Services.
    this.d.probes.removePod(key);
    if (running.length) await this.hooks.writeTerminatingStatus(pod).catch((err) => this.d.logger.debug({ err: String(err) }, 'terminating status'));

    // 2. Keep serving until the data plane stopped sending new connections here.
    const ip = pod.status?.podIP;
    if (running.length && ip && wasReady) {
      const cap = Math.min(deadline, t0 + this.d.endpointsWaitCapMs);
      while (this.ipInEndpoints(ip) && Date.now() < cap) await new Promise((r) => setTimeout(r, 20));
      const settle = Math.min(this.d.settleMs, Math.max(0, cap - Date.now()));
      if (settle > 0) await new Promise((r) => setTimeout(r, settle));
    }

    // 3. preStop hooks, within the grace period.
    await Promise.all(
      running.map(async (c) => {
        const spec = pod.spec.containers.find((s) => s.name === c.containerName);
        const hook = spec?.lifecycle?.preStop;
        if (!spec || !hook) return;
        const r = await runHook(this.d.runtime, hook, { id: c.id, spec, podIP: ip ?? '' }, Math.max(0, deadline - Date.now()));
        if (!r.ok) this.d.recorder.warning(pod, 'FailedPreStopHook', `PreStopHook failed: ${r.message ?? ''}`.trim());
      }),
    );

    // 4. SIGTERM, SIGKILL once the grace period is over; then the sandbox.
    await Promise.all(
      running.map(async (c) => {
        this.d.recorder.normal(pod, 'Killing', `Stopping container ${c.containerName}`);
        await this.d.runtime.stop(c.id, Math.max(0, (deadline - Date.now()) / 1000));
      }),
    );
    await Promise.all(
      own().map(async (c) => {
        await this.d.runtime.remove(c.id);
        this.d.cache.delete(c.id);
      }),
    );
    await this.d.volumes.tearDown(uid);

    // 5. Done: the object goes (only this incarnation of it).
    try {
      await this.d.client.delete(R.pods, pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid } });
    } catch (err) {
      if (!isStatusError(err, 'NotFound') && !isStatusError(err, 'Conflict')) throw err;
    }
    this.hooks.forget(uid);
    this.d.logger.debug({ pod: key, ms: Date.now() - t0 }, 'pod terminated');
  }
}
