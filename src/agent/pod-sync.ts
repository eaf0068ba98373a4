// One Pod's reconcile: plan (pure) -> act on Docker -> read back -> plan again, then write the status
// if it changed. A Pod being deleted, and containers whose Pod is gone, go to the PodTerminator
// (pod-terminate.ts).

import fs from 'node:fs/promises';
import type { ConfigMap, Container, PersistentVolume, PersistentVolumeClaim, Pod, PodStatus, Secret, Service } from '../api/types.js';
import { R } from '../api/resources.js';
import { isStatusError } from '../api/errors.js';
import type { Informer } from '../client/informer.js';
import { thisNodePodCIDR, type HostNames, type ServerConfig } from '../config.js';
import { ensureImages, imageKeyOf, IMAGES } from '../images/index.js';
import { deepEqual } from '../util/equal.js';
import { admitPod, type NodeAllocatable } from './admit.js';
import { forgiveSince, pullFailed, type BackoffConfig, type BackoffEntry } from './backoff.js';
import { appCreateOptions, type HostNaming } from './container-config.js';
import { dockerMessage, type DockerRuntime } from './docker.js';
import { ConfigError, expandCommand, resolveEnv } from './env.js';
import { runHook } from './hooks.js';
import { fromCreate, fromInspect, isRunning } from './observed.js';
import { planPodSync, type Action, type Plan } from './plan.js';
import { podStatusFrom, rejectedStatus, stoppedSinceStatus, withoutNulls } from './status.js';
import { INFRA_CONTAINER_NAME, type ObservedContainer, type Waiting } from './types.js';
import { containerMounts, MountError, unboundClaims } from './volumes-plan.js';
import type { VolumeManager } from './volumes.js';
import type { PodRuntimeDeps, PodTerminator } from './pod-terminate.js';
import { Sandboxes } from './sandbox.js';
import { keyFor } from '../api/keys.js';
import { linkedServices, serviceEnv } from './service-env.js';
import type { TokenManager } from './token-manager.js';
import { isTerminalPhase, rvNewer } from './agent-support.js';


export interface SyncDeps extends PodRuntimeDeps {
  names: HostNames;
  config: ServerConfig;
  nodeName: string;
  hostIP(): string;
  allocatable(): NodeAllocatable;
  backoff: BackoffConfig;
  pods: Informer<Pod>;
  configMaps: Informer<ConfigMap>;
  secrets: Informer<Secret>;
  /** For service links (`<SVC>_SERVICE_HOST`, `KUBERNETES_SERVICE_HOST`). */
  services?: Informer<Service>;
  /** Service account tokens of projected volumes. */
  tokens?: TokenManager;
  hostResolvConf: string;
  terminator: PodTerminator;
  /** Loads an image from another node that has it; false when none does (images without a registry across hosts). */
  fetchImage?(image: string): Promise<boolean>;
  /** Resolves when the pod network is whole (no rebuild running): sandboxes are only made on it. */
  networkSettled?(): Promise<void>;
  /** Docker's root directory (`docker info`). */
  dockerRootDir?(): string | undefined;
  /** Claims and volumes, for persistentVolumeClaim volumes (absent: such Pods fail to mount). */
  claims?: Informer<PersistentVolumeClaim>;
  persistentVolumes?: Informer<PersistentVolume>;
}

/** A Pod whose claims are not bound yet looks again this often (claim updates also wake it). */
const UNBOUND_CLAIM_RECHECK_MS = 5000;

/** What the agent remembers about one Pod between syncs (all of it can be lost: it only tunes back-offs). */
interface PodMemory {
  restartBackoff: Map<string, BackoffEntry>;
  createBackoff: Map<string, BackoffEntry>;
  lastErrors: Map<string, Waiting>;
  livenessFailed: Set<string>;
  /** App containers created while their sandbox started, not started yet. */
  prepared: Set<string>;
}

const MAX_LAYERS = 8;
const IMAGE_PRESENT_TTL_MS = 30_000;

export class PodSyncer {
  private readonly memory = new Map<string, PodMemory>();
  private readonly admitted = new Set<string>();
  /** The status we last wrote per uid, and the resourceVersion the write produced. */
  private readonly written = new Map<string, { status: PodStatus; rv?: string }>();
  private readonly naming: HostNaming;
  private readonly imagesSeen = new Map<string, number>();
  private readonly sandboxes: Sandboxes;
  /** Containers being started by us: Docker's `start` event for them needs no inspect. */
  private readonly startingIds = new Set<string>();
  /** When the container engine was last away (a dockerd restart). */
  private engineAway?: { from: number; to: number };

  constructor(private readonly d: SyncDeps) {
    this.naming = { containerPrefix: d.names.containerPrefix, instanceLabel: d.names.instanceLabel, instanceValue: d.names.instanceValue, dockerNetwork: d.names.dockerNetwork };
    // This node's share of the pod CIDR (the server's assignment, known once the Node is registered).
    this.sandboxes = new Sandboxes({ ...d, podCIDR: thisNodePodCIDR(d.config) });
  }

  /** Is this container being started by a sync right now (its start is read back by that sync)? */
  starting(id: string): boolean {
    return this.startingIds.has(id);
  }

  private mem(uid: string): PodMemory {
    let m = this.memory.get(uid);
    if (!m) this.memory.set(uid, (m = { restartBackoff: new Map(), createBackoff: new Map(), lastErrors: new Map(), livenessFailed: new Set(), prepared: new Set() }));
    return m;
  }

  /**
   * The engine was away from `from` to `to` (a dockerd restart): the back-offs recorded meanwhile
   * (containers it stopped on its way down, sandboxes it refused) are not the Pods' own failures, and
   * containers that stopped in that window restart at once without growing their restart streak.
   */
  engineWasAway(from: number, to: number): void {
    this.engineAway = { from, to };
    for (const m of this.memory.values()) {
      forgiveSince(m.restartBackoff, from);
      forgiveSince(m.createBackoff, from);
      m.lastErrors.delete(INFRA_CONTAINER_NAME);
    }
  }

  /** A liveness probe reached its failure threshold: the next sync restarts the container. */
  livenessFailed(uid: string, containerId: string): void {
    this.mem(uid).livenessFailed.add(containerId);
  }

  // ------------------------------------------------------------------ sync

  async sync(key: string): Promise<void> {
    const pod = this.d.pods.getByKey(key);
    const containers = this.d.cache.forPod(key);
    if (!pod || pod.spec.nodeName !== this.d.nodeName) {
      await this.d.terminator.removeOrphans(key, containers, true);
      return;
    }
    const uid = pod.metadata.uid!;
    const stale = containers.filter((c) => c.podUid !== uid && !this.d.terminator.isTerminating(c.podUid));
    if (stale.length) await this.d.terminator.removeOrphans(key, stale, false);
    if (pod.metadata.deletionTimestamp) {
      this.d.terminator.start(pod);
      return;
    }

    const own = () => this.d.cache.forPod(key).filter((c) => c.podUid === uid);
    if (!this.admitted.has(uid) && !isTerminalPhase(pod)) {
      if (own().length > 0 || pod.status?.phase === 'Running') this.admitted.add(uid);
      else {
        // Pods already running here count even before their first sync after a restart of ours.
        const runsHere = (p: Pod) => this.admitted.has(p.metadata.uid!) || p.status?.phase === 'Running' || this.d.cache.forPod(keyFor(p.metadata.namespace ?? 'default', p.metadata.name!)).some((c) => c.podUid === p.metadata.uid);
        const others = this.d.pods.list().filter((p) => p.metadata.uid !== uid && !isTerminalPhase(p) && runsHere(p));
        const verdict = admitPod(pod, others, this.d.allocatable());
        if (!verdict.ok) {
          this.d.recorder.warning(pod, verdict.reason, verdict.message);
          await this.putStatus(pod, rejectedStatus(pod, verdict.reason, verdict.message, this.d.hostIP(), Date.now()));
          return;
        }
        this.admitted.add(uid);
      }
    }

    // Claims first: a Pod that has not started waits, without a sandbox, until its claims are bound
    // (a WaitForFirstConsumer claim is provisioned for this node once the Pod is bound here).
    if (this.d.claims && own().length === 0 && !isTerminalPhase(pod)) {
      const ns = pod.metadata.namespace ?? 'default';
      const waiting = unboundClaims(pod, (name) => this.d.claims!.get(ns, name));
      if (waiting.length) {
        // Not yet bound is the normal WaitForFirstConsumer path (it takes a moment); a missing claim is not.
        const missing = waiting.filter((name) => !this.d.claims!.get(ns, name));
        if (missing.length) this.d.recorder.warning(pod, 'FailedMount', `Unable to attach or mount volumes: persistentvolumeclaim "${missing[0]}" not found`);
        this.d.enqueue(key, UNBOUND_CLAIM_RECHECK_MS);
        return;
      }
    }

    const m = this.mem(uid);
    let plan: Plan | undefined;
    for (let layer = 0; layer < MAX_LAYERS; layer++) {
      const current = this.freshPod(pod);
      plan = planPodSync({
        pod: current,
        containers: own(),
        now: Date.now(),
        backoff: this.d.backoff,
        restartBackoff: m.restartBackoff,
        createBackoff: m.createBackoff,
        lastErrors: m.lastErrors,
        livenessFailed: m.livenessFailed,
        prepared: m.prepared,
        engineAway: this.engineAway,
      });
      if (plan.actions.length === 0) break;
      // What stopped is reported before it is restarted (the Pod shows NotReady in between).
      if (layer === 0 && stoppedSinceStatus(current, own()).length > 0) await this.writeStatus(pod, plan, plan.sandbox && isRunning(plan.sandbox) ? plan.sandbox : undefined, false);
      await this.execute(pod, plan, m);
      if (layer === MAX_LAYERS - 1) this.d.enqueue(key, 100);
    }
    if (!plan) return;
    for (const [name, w] of plan.waiting) {
      if (w.reason === 'CrashLoopBackOff') this.d.recorder.warning(pod, 'BackOff', `Back-off restarting failed container ${name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${uid})`);
      else if (w.reason === 'ImagePullBackOff') this.d.recorder.normal(pod, 'BackOff', `Back-off pulling image "${[...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((c) => c.name === name)?.image ?? ''}"`);
    }
    const sandbox = plan.sandbox ? (this.d.cache.get(plan.sandbox.id) ?? plan.sandbox) : undefined;
    // configMap/secret/projected volumes follow their objects (and tokens their renewals) while the
    // Pod runs: the atomic swap makes it safe.
    if (sandbox && (pod.spec.volumes ?? []).some((v) => v.configMap || v.secret || v.projected || v.downwardAPI)) {
      await this.d.volumes.setUp(pod, this.lookup(pod, sandbox.ip)).catch((err) => this.d.logger.debug({ pod: key, err: (err as Error).message }, 'volume refresh failed'));
    }
    const tokenDue = this.d.tokens?.nextRefresh(uid);
    if (tokenDue !== undefined) this.d.enqueue(key, Math.max(0, tokenDue - Date.now()) + 50);

    // Probe the running containers of the current sandbox.
    const podIP = sandbox?.ip ?? '';
    const targets = own()
      .filter((c) => c.role === 'app' && isRunning(c) && sandbox && c.networkMode === `container:${sandbox.id}`)
      .map((c) => {
        const spec = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((s) => s.name === c.containerName);
        const prev = pod.status?.containerStatuses?.find((s) => s.name === c.containerName);
        return spec ? { id: c.id, spec, podIP, initialReady: prev?.containerID === `docker://${c.id}` && prev.ready } : undefined;
      })
      .filter((t): t is NonNullable<typeof t> => t !== undefined);
    // Probes first: an adopted container's readiness starts from what the API said, not from unknown.
    this.d.probes.sync(key, targets);
    await this.writeStatus(pod, plan, sandbox && isRunning(sandbox) ? sandbox : undefined, false);
    if (plan.requeueAfterMs !== undefined) this.d.enqueue(key, plan.requeueAfterMs + 5);
  }

  /** The informer's Pod, or our own last status write if the informer has not caught up with it yet. */
  private freshPod(pod: Pod): Pod {
    const w = this.written.get(pod.metadata.uid!);
    if (w && (!pod.metadata.resourceVersion || !w.rv || rvNewer(w.rv, pod.metadata.resourceVersion))) return { ...pod, status: w.status };
    return pod;
  }

  // ------------------------------------------------------------------ acting

  private async execute(pod: Pod, plan: Plan, m: PodMemory): Promise<void> {
    const starts = plan.actions.filter((a): a is Extract<Action, { kind: 'start' }> => a.kind === 'start');
    for (const a of plan.actions) {
      if (a.kind === 'start') continue;
      try {
        await this.act(pod, a, m);
      } catch (err) {
        this.d.logger.warn({ pod: keyFor(pod.metadata.namespace!, pod.metadata.name!), action: a.kind, err: dockerMessage(err) }, 'pod action failed');
        throw err;
      }
    }
    if (starts.length === 0) return;
    const sandbox = plan.sandbox;
    if (!sandbox) return;
    if (starts.every((a) => a.existing)) {
      // Prepared beside the sandbox (volumes and all): only the start is left.
      await Promise.all(starts.map((a) => this.startContainer(pod, a, sandbox, new Map(), m)));
      return;
    }
    // Volumes first: one failure holds every container of the Pod (as the kubelet's volume manager).
    let sources: Awaited<ReturnType<VolumeManager['setUp']>>;
    try {
      sources = await this.d.volumes.setUp(pod, this.lookup(pod, sandbox.ip));
    } catch (err) {
      const message = err instanceof MountError ? err.message : `MountVolume.SetUp failed: ${(err as Error).message}`;
      this.d.recorder.warning(pod, 'FailedMount', message);
      for (const a of starts) this.failCreate(m, a.container, { reason: 'ContainerCreating', message });
      return;
    }
    await Promise.all(starts.map((a) => this.startContainer(pod, a, sandbox, sources, m)));
  }

  private lookup(pod: Pod, podIP?: string) {
    const ns = pod.metadata.namespace ?? 'default';
    const tokens = this.d.tokens;
    return {
      configMap: (name: string) => this.d.configMaps.get(ns, name),
      secret: (name: string) => this.d.secrets.get(ns, name),
      token: tokens ? (p: Pod, src: Parameters<TokenManager['get']>[1]) => tokens.get(p, src) : undefined,
      podIP,
      hostIP: this.d.hostIP(),
      nodeAllocatable: this.d.allocatable(),
      claim: (name: string) => this.d.claims?.get(ns, name),
      volume: (name: string) => this.d.persistentVolumes?.get(undefined, name),
    };
  }

  private async refresh(id: string): Promise<ObservedContainer | undefined> {
    const raw = await this.d.runtime.inspectRaw(id);
    const c = raw ? fromInspect(raw, this.d.names.dockerNetwork, this.d.hostIP()) : undefined;
    if (c) this.d.cache.set(c);
    else this.d.cache.delete(id);
    return c;
  }

  private async act(pod: Pod, a: Exclude<Action, { kind: 'start' }>, m: PodMemory): Promise<void> {
    switch (a.kind) {
      case 'remove': {
        this.d.logger.debug({ id: a.id.slice(0, 12), container: a.container, reason: a.reason }, 'removing container');
        await this.d.runtime.remove(a.id);
        this.d.cache.delete(a.id);
        m.livenessFailed.delete(a.id);
        return;
      }
      case 'kill': {
        this.d.recorder.normal(pod, 'Killing', a.message);
        const spec = pod.spec.containers.find((c) => c.name === a.container);
        const probeGrace = a.message.includes('liveness') ? spec?.livenessProbe?.terminationGracePeriodSeconds : undefined;
        await this.d.runtime.stop(a.id, probeGrace ?? pod.spec.terminationGracePeriodSeconds ?? 30);
        m.livenessFailed.delete(a.id);
        await this.refresh(a.id);
        return;
      }
      case 'stopSandbox': {
        await this.d.runtime.stop(a.id, 2);
        await this.refresh(a.id);
        return;
      }
      case 'createSandbox':
        await this.createSandbox(pod, a.attempt, m, a.reason === 'new pod' && this.preparable(pod));
        return;
    }
  }

  /** A Pod whose app containers can be made while its sandbox starts: no init containers, and none of its containers ever ran. */
  private preparable(pod: Pod): boolean {
    if ((pod.spec.initContainers ?? []).length > 0) return false;
    if (this.d.cache.forPod(keyFor(pod.metadata.namespace ?? 'default', pod.metadata.name!)).some((c) => c.podUid === pod.metadata.uid && c.role === 'app')) return false;
    return !(pod.status?.containerStatuses ?? []).some((s) => s.containerID || s.state?.running || s.state?.terminated || s.lastState?.terminated);
  }

  private async createSandbox(pod: Pod, attempt: number, m: PodMemory, prepare: boolean): Promise<void> {
    try {
      await this.d.networkSettled?.();
      const beside = prepare ? (id: string, ip: string) => this.prepareApps(pod, id, ip, m) : undefined;
      await this.sandboxes.create(pod, attempt, (opts) => this.createNamed(opts), beside);
      m.restartBackoff.delete(INFRA_CONTAINER_NAME);
      m.lastErrors.delete(INFRA_CONTAINER_NAME);
    } catch (err) {
      const message = `Failed to create pod sandbox: ${dockerMessage(err)}`;
      this.d.logger.warn({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, err: message }, 'sandbox creation failed');
      this.d.recorder.warning(pod, 'FailedCreatePodSandBox', message);
      const prev = m.restartBackoff.get(INFRA_CONTAINER_NAME);
      m.restartBackoff.set(INFRA_CONTAINER_NAME, { failures: (prev?.failures ?? 0) + 1, lastFailureAt: Date.now() });
      m.lastErrors.set(INFRA_CONTAINER_NAME, { reason: 'CreatePodSandboxError', message });
      // Containers prepared for it joined a sandbox that is gone.
      for (const id of m.prepared) {
        await this.d.runtime.remove(id).catch(() => undefined);
        this.d.cache.delete(id);
      }
      m.prepared.clear();
    }
  }

  /** Creates (without starting) the app containers of a new Pod while its sandbox starts. */
  private async prepareApps(pod: Pod, sandboxId: string, ip: string, m: PodMemory): Promise<void> {
    let sources: Awaited<ReturnType<VolumeManager['setUp']>>;
    try {
      sources = await this.d.volumes.setUp(pod, this.lookup(pod));
    } catch {
      return; // the next layer sets them up again and reports why
    }
    const sandbox = { id: sandboxId, ip } as ObservedContainer;
    await Promise.all(pod.spec.containers.map((c) => this.startContainer(pod, { kind: 'start', container: c.name, init: false, restartCount: 0, reason: 'new container' }, sandbox, sources, m, { prepareOnly: true })));
  }

  /** After Docker re-attached a sandbox to a rebuilt network (and rewrote its resolv.conf): cluster DNS again. */
  async rewriteResolvConf(containerId: string): Promise<void> {
    const c = this.d.cache.get(containerId);
    const raw = await this.d.runtime.inspectRaw(containerId);
    const observed = raw ? fromInspect(raw, this.d.names.dockerNetwork, this.d.hostIP()) : undefined;
    if (!raw?.ResolvConfPath || (c ?? observed)?.role !== 'infra') return;
    const o = (c ?? observed)!;
    const pod = this.d.pods.getByKey(keyFor(o.podNamespace, o.podName));
    if (!pod || pod.metadata.uid !== o.podUid || pod.spec.hostNetwork) return;
    await fs.writeFile(raw.ResolvConfPath, this.sandboxes.resolvConf(pod));
  }

  /** Creates a container; a leftover of ours holding the name (a crash between create and record) is removed once. */
  private async createNamed(opts: Parameters<DockerRuntime['create']>[0]): Promise<string> {
    try {
      return await this.d.runtime.create(opts);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 409 || !opts.name) throw err;
      const raw = await this.d.runtime.inspectRaw(opts.name);
      if (!raw || raw.Config?.Labels?.[this.d.names.instanceLabel] !== this.d.names.instanceValue || raw.State?.Running) throw err;
      await this.d.runtime.remove(raw.Id);
      this.d.cache.delete(raw.Id);
      return await this.d.runtime.create(opts);
    }
  }

  private failCreate(m: PodMemory, container: string, why: Waiting): void {
    m.lastErrors.set(container, why);
    m.createBackoff.set(container, pullFailed(m.createBackoff.get(container), Date.now()));
  }

  /** Is the image on this host? A yes is remembered for a while: 20 Pods of one image ask once, not 20 times. */
  private async imagePresent(image: string): Promise<boolean> {
    const until = this.imagesSeen.get(image);
    if (until !== undefined && until > Date.now()) return true;
    const present = await this.d.runtime.imagePresent(image);
    if (present) {
      if (this.imagesSeen.size > 256) this.imagesSeen.clear();
      this.imagesSeen.set(image, Date.now() + IMAGE_PRESENT_TTL_MS);
    } else this.imagesSeen.delete(image);
    return present;
  }

  /** Makes the image available as its pull policy says; returns false (and records why) when it is not. */
  private async ensureImage(pod: Pod, c: Container, m: PodMemory): Promise<boolean> {
    const policy = c.imagePullPolicy ?? 'IfNotPresent';
    const image = c.image;
    try {
      if (imageKeyOf(image) && image.includes('/')) {
        // Only this host can make kubelite's images: never ask a registry for them.
        if (policy === 'Always' || !(await this.imagePresent(image))) {
          this.d.recorder.normal(pod, 'Pulling', `Building image "${image}" on this host (kubelite's own images come from no registry)`);
          await ensureImages(this.d.runtime.docker, [image]);
        }
        this.d.recorder.normal(pod, 'Pulled', `Container image "${image}" already present on machine`);
        return true;
      }
      const present = policy === 'Always' ? false : await this.imagePresent(image);
      if (present) {
        this.d.recorder.normal(pod, 'Pulled', `Container image "${image}" already present on machine`);
        return true;
      }
      if (policy === 'Never') {
        const message = `Container image "${image}" is not present with pull policy of Never`;
        this.d.recorder.warning(pod, 'ErrImageNeverPull', message);
        this.failCreate(m, c.name, { reason: 'ErrImageNeverPull', message });
        return false;
      }
      // Show ContainerCreating with the Pod's IP while a pull runs.
      await this.writeStatus(pod, undefined, undefined, false).catch(() => undefined);
      this.d.recorder.normal(pod, 'Pulling', `Pulling image "${image}"`);
      const t0 = Date.now();
      // Another node that has the image is this cluster's registry mirror (as k3s's embedded one).
      if (this.d.fetchImage && (await this.d.fetchImage(image))) {
        this.d.recorder.normal(pod, 'Pulled', `Successfully pulled image "${image}" from another node in ${((Date.now() - t0) / 1000).toFixed(3)}s`);
        this.imagesSeen.delete(image);
        return true;
      }
      await this.d.runtime.pull(image);
      this.d.recorder.normal(pod, 'Pulled', `Successfully pulled image "${image}" in ${((Date.now() - t0) / 1000).toFixed(3)}s`);
      return true;
    } catch (err) {
      const message = `Failed to pull image "${image}": ${dockerMessage(err)}`;
      this.d.recorder.warning(pod, 'Failed', message);
      this.d.recorder.warning(pod, 'Failed', 'Error: ErrImagePull');
      this.failCreate(m, c.name, { reason: 'ErrImagePull', message });
      return false;
    }
  }

  /** Creates and starts one container (`prepareOnly`: creates it, for a later `existing` start; `a.existing`: only starts it). */
  private async startContainer(pod: Pod, a: Extract<Action, { kind: 'start' }>, sandbox: ObservedContainer, sources: Awaited<ReturnType<VolumeManager['setUp']>>, m: PodMemory, o: { prepareOnly?: boolean } = {}): Promise<void> {
    const spec = (a.init ? pod.spec.initContainers ?? [] : pod.spec.containers).find((c) => c.name === a.container);
    if (!spec) return;
    const t0 = Date.now();
    const slow = (step: string) => {
      const ms = Date.now() - t0;
      if (ms > 2000) this.d.logger.info({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, container: spec.name, step, ms }, 'slow container start');
    };
    if (a.existing) {
      m.prepared.delete(a.existing);
      return this.runCreated(pod, spec, a.existing, sandbox, m, slow);
    }
    if (!(await this.ensureImage(pod, spec, m))) return;
    slow('image');

    let createOpts;
    try {
      const { env, skipped } = resolveEnv(pod, spec, {
        configMap: (n) => this.d.configMaps.get(pod.metadata.namespace ?? 'default', n),
        secret: (n) => this.d.secrets.get(pod.metadata.namespace ?? 'default', n),
        podIP: sandbox.ip,
        hostIP: this.d.hostIP(),
        nodeAllocatable: this.d.allocatable(),
        serviceEnv: this.d.services ? serviceEnv(linkedServices(this.d.services.list(), pod.metadata.namespace ?? 'default', pod.spec.enableServiceLinks !== false)) : undefined,
      });
      if (skipped.length) this.d.recorder.warning(pod, 'InvalidEnvironmentVariableNames', `Keys [${skipped.join(', ')}] from the EnvFrom were skipped since they are invalid environment variable names.`);
      createOpts = appCreateOptions(this.naming, {
        pod,
        container: spec,
        restartCount: a.restartCount,
        sandboxId: sandbox.id,
        env,
        command: expandCommand(spec.command, env),
        args: expandCommand(spec.args, env),
        mounts: containerMounts(pod, spec.name, sources),
      });
    } catch (err) {
      const message = (err as Error).message;
      const reason = err instanceof ConfigError ? 'CreateContainerConfigError' : err instanceof MountError ? 'CreateContainerConfigError' : 'CreateContainerError';
      this.d.recorder.warning(pod, 'Failed', `Error: ${message}`);
      this.failCreate(m, spec.name, { reason, message });
      return;
    }

    let id: string;
    try {
      id = await this.createNamed(createOpts);
    } catch (err) {
      const message = dockerMessage(err);
      if (/No such image/i.test(message)) this.imagesSeen.delete(spec.image);
      this.d.recorder.warning(pod, 'Failed', `Error: ${message}`);
      this.failCreate(m, spec.name, { reason: 'CreateContainerError', message });
      return;
    }
    slow('create');
    this.d.recorder.normal(pod, 'Created', `Created container ${spec.name}`);
    m.createBackoff.delete(spec.name);
    if (a.backoff) m.restartBackoff.set(spec.name, a.backoff);
    if (o.prepareOnly) {
      this.d.cache.set(fromCreate(id, createOpts, { state: 'created', now: Date.now() })!);
      m.prepared.add(id);
      return;
    }
    await this.runCreated(pod, spec, id, sandbox, m, slow);
  }

  /** Starts a created container, reads it back, runs its postStart hook. */
  private async runCreated(pod: Pod, spec: Container, id: string, sandbox: ObservedContainer, m: PodMemory, slow: (step: string) => void): Promise<void> {
    this.startingIds.add(id);
    try {
      await this.d.runtime.start(id);
    } catch (err) {
      this.startingIds.delete(id);
      const message = dockerMessage(err);
      this.d.recorder.warning(pod, 'Failed', `Error: ${message}`);
      m.lastErrors.set(spec.name, { reason: 'RunContainerError', message });
      await this.refresh(id);
      return;
    }
    slow('start');
    m.lastErrors.delete(spec.name);
    this.d.recorder.normal(pod, 'Started', `Started container ${spec.name}`);
    const observed = await this.refresh(id).finally(() => this.startingIds.delete(id));
    const postStart = spec.lifecycle?.postStart;
    if (postStart && observed && isRunning(observed)) {
      const r = await runHook(this.d.runtime, postStart, { id, spec, podIP: sandbox.ip ?? '' }, 30_000);
      if (!r.ok) {
        this.d.recorder.warning(pod, 'FailedPostStartHook', `PostStartHook failed: ${r.message ?? ''}`.trim());
        await this.d.runtime.stop(id, pod.spec.terminationGracePeriodSeconds ?? 30);
        await this.refresh(id);
      }
    }
  }

  // ------------------------------------------------------------------ status

  /** Computes the status from what Docker shows now and writes it if it differs from the API's. */
  private async writeStatus(pod: Pod, plan: Plan | undefined, sandbox: ObservedContainer | undefined, terminating: boolean): Promise<void> {
    const key = keyFor(pod.metadata.namespace ?? 'default', pod.metadata.name!);
    const uid = pod.metadata.uid!;
    const containers = this.d.cache.forPod(key).filter((c) => c.podUid === uid);
    const sb = sandbox ?? containers.filter((c) => c.role === 'infra' && isRunning(c)).sort((a, b) => b.restartCount - a.restartCount)[0];
    const m = this.mem(uid);
    const lastErrors = new Map(m.lastErrors);
    lastErrors.delete(INFRA_CONTAINER_NAME);
    const current = this.freshPod(pod);
    const status = podStatusFrom({
      pod: current,
      containers,
      sandbox: sb,
      probes: this.d.probes.statuses(containers.map((c) => c.id)),
      waiting: plan?.waiting ?? new Map(),
      lastErrors,
      now: Date.now(),
      hostIP: this.d.hostIP(),
      terminating,
    });
    if (deepEqual(withoutNulls(status), withoutNulls(current.status))) return;
    await this.putStatus(pod, status);
  }

  private async putStatus(pod: Pod, status: PodStatus): Promise<void> {
    const uid = pod.metadata.uid!;
    try {
      const { resourceVersion: _rv, ...meta } = pod.metadata;
      const updated = await this.d.client.update<Pod>(R.pods, { ...pod, metadata: { ...meta, uid }, status }, { subresource: 'status' });
      this.written.set(uid, { status: updated.status ?? status, rv: updated.metadata.resourceVersion });
    } catch (err) {
      // Gone (deleted meanwhile) or replaced by a new Pod of the same name: nothing to report on.
      if (isStatusError(err, 'NotFound') || isStatusError(err, 'Conflict')) return;
      throw err;
    }
  }

  forget(uid: string): void {
    this.d.tokens?.forget(uid);
    this.memory.delete(uid);
    this.admitted.delete(uid);
    this.written.delete(uid);
  }

  /** The status a Pod shows while it terminates: Not Ready, so it leaves its Services. */
  writeTerminatingStatus(pod: Pod): Promise<void> {
    return this.writeStatus(pod, undefined, undefined, true);
  }
}
