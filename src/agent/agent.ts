// The agent: the kubelet of one Docker host. It registers the host as a Node and keeps it Ready,
// owns the pod network, and runs the Pods bound to this node as containers — through the API's
// list/watch only (so it can later run remotely). Docker events say when to look; a periodic relist
// is the level-triggered safety net; a pod's containers are found again by their labels after a
// restart of ours, and adopted instead of restarted.

import './dockerode-lean.js';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import Dockerode from 'dockerode';
import cron, { type ScheduledTask } from 'node-cron';
import type { ConfigMap, Endpoints, Node, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Service } from '../api/types.js';
import { R } from '../api/resources.js';
import { isStatusError } from '../api/errors.js';
import { Informer } from '../client/informer.js';
import { keyFor, objectKey } from '../api/keys.js';
import { QueueController, type Startable } from '../client/controller.js';
import type { ApiClient } from '../client/types.js';
import type { Component, ComponentContext } from '../server/component.js';
import { KUBE_VERSION } from '../server/discovery.js';
import { ensureImages, IMAGES } from '../images/index.js';
import { deepEqual } from '../util/equal.js';
import type { NodeAllocatable } from './admit.js';
import { backoffFromEnv } from './backoff.js';
import { DockerRuntime, dockerMessage, type DockerEvent, type EventWatch } from './docker.js';
import { execUpgradeHandler } from './exec.js';
import { LABELS } from './labels.js';
import { logsHandler } from './logs.js';
import { PodNetwork } from './pod-network.js';
import { netlinkMonitor } from '../host/netlink.js';
import { nodeObject, nodeStatus, type DockerFacts, type NodeIdentity } from './node-status.js';
import { hostHasAddress, hostPrimaryIPv4 } from '../host/node-ips.js';
import { LeaseRenewer, registerNode } from './node-lease.js';
import { fetchImageFromPeers, nodeStatusImages } from './images-peer.js';
import { fromInspect } from './observed.js';
import { PodSyncer } from './pod-sync.js';
import { ENDPOINTS_IP_INDEX, PodTerminator } from './pod-terminate.js';
import { ProbeManager, type ProbeChange } from './probes.js';
import { RuntimeCache } from './runtime-cache.js';
import { VolumeManager } from './volumes.js';
import { TokenManager } from './token-manager.js';
import { LocalPathProvisioner } from './local-path.js';
import { StatsCollector } from './stats-collector.js';
import { ENGINE_RESTORE_MS, ENGINE_STOP_GRACE_MS, instanceLock, readTrim, refersTo, WATCHED_EVENTS, type AgentOptions } from './agent-support.js';

export type { AgentOptions } from './agent-support.js';

export class Agent extends QueueController<ComponentContext> implements Component {
  readonly name = 'agent';
  private runtime!: DockerRuntime;
  private readonly cache = new RuntimeCache();
  private probes!: ProbeManager;
  private syncer!: PodSyncer;
  private pods!: Informer<Pod>;
  private configMaps!: Informer<ConfigMap>;
  private secrets!: Informer<Secret>;
  private endpoints!: Informer<Endpoints>;
  private services!: Informer<Service>;
  private claims!: Informer<PersistentVolumeClaim>;
  private volumes!: Informer<PersistentVolume>;
  private provisioner?: LocalPathProvisioner;
  private events?: EventWatch;
  private heartbeat?: NodeJS.Timeout;
  private stats?: StatsCollector;
  private resync?: ScheduledTask;
  private facts!: DockerFacts;
  private identity!: NodeIdentity;
  private dockerOk = true;
  private started = false;
  /** stop() was called: timers and relists that fire late do nothing. */
  private shutDown = false;
  private readonly inspecting = new Map<string, Promise<void>>();
  /** Containers Docker reported destroyed (id -> when): an inspect answered before the removal must not bring one back. */
  private readonly destroyed = new Map<string, number>();
  private readonly requeueAt = new Map<string, number>();
  private lock?: net.Server;
  private relisting?: Promise<void>;
  private lease?: LeaseRenewer;
  private node?: Node;
  private nodes?: Informer<Node>;
  private relistQueued?: Promise<void>;
  private network!: PodNetwork;
  /** When Docker's events stream broke (until it is back), and whether a reconnect was refused meanwhile. */
  private engineLostAt?: number;
  private engineRefused = false;
  private relistRetry?: NodeJS.Timeout;
  private unsubscribeNetlink?: () => void;

  constructor(private readonly agentOpts: AgentOptions = {}) {
    super({ workers: agentOpts.workers ?? (Number(process.env.KUBELITE_AGENT_WORKERS) || 32), baseDelayMs: 200 });
  }

  protected override get eventSource(): string {
    return 'kubelet';
  }

  get nodeName(): string {
    return this.identity?.name ?? '';
  }

  /** For tests and benches: the Docker adapter and the event stream (to simulate a broken stream). */
  get docker(): DockerRuntime {
    return this.runtime;
  }

  interruptEvents(): void {
    this.events?.interrupt();
  }

  override async start(ctx: ComponentContext): Promise<void> {
    try {
      await this.startUp(ctx);
    } catch (err) {
      // A half-started agent lets go of what it took, so a retry (or another server) can have it.
      this.events?.stop();
      this.lock?.close();
      throw err;
    }
  }

  private async startUp(ctx: ComponentContext): Promise<void> {
    this.ctx = ctx;
    const { config, names, logger } = ctx;
    const log = logger.child({ component: 'agent' });
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(config.nodeName) || config.nodeName.length > 253) {
      throw new Error(`node name ${JSON.stringify(config.nodeName)} is not a DNS subdomain (lowercase letters, digits, '-' and '.'): pass --node-name`);
    }
    this.lock = await instanceLock(names.instanceValue);
    this.runtime = new DockerRuntime(this.agentOpts.docker ?? new Dockerode(), log);
    // A node container starts its engine and kubelite side by side and says how long to wait for the
    // engine (KUBELITE_DOCKER_WAIT seconds); anywhere else, an engine that does not answer is an error.
    const deadline = Date.now() + (Number(process.env.KUBELITE_DOCKER_WAIT) || 0) * 1000;
    for (;;) {
      try {
        await this.runtime.ping(5000);
        break;
      } catch (err) {
        if (Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        throw new Error(`the agent needs a Docker engine, and the one at ${process.env.DOCKER_HOST ?? '/var/run/docker.sock'} does not answer (${dockerMessage(err)}): start it (scripts/ensure-docker.sh) or run with --disable agent`);
      }
    }
    const factsP = this.runtime.facts();
    factsP.catch(() => undefined); // awaited below, after the work that overlaps it
    if (config.nodeIP && !hostHasAddress(config.nodeIP)) throw new Error(`--node-ip ${config.nodeIP} is not an address of this host: give one of its own addresses (ip -4 addr)`);
    this.identity = {
      name: config.nodeName,
      hostname: os.hostname(),
      hostIP: config.nodeIP ?? hostPrimaryIPv4(),
      podCIDR: '',
      kubeletVersion: KUBE_VERSION.gitVersion,
      machineID: readTrim('/etc/machine-id'),
      bootID: readTrim('/proc/sys/kernel/random/boot_id'),
      kubeletPort: this.agentOpts.kubeletPort,
      controlPlane: this.agentOpts.controlPlane,
    };
    let hostResolvConf = '';
    try {
      hostResolvConf = fs.readFileSync('/etc/resolv.conf', 'utf8');
    } catch {
      /* no resolv.conf: dnsPolicy Default gets cluster DNS */
    }

    // The images' hash check overlaps the registration; the Node comes first: its pod CIDR comes from
    // the server, and the pod network is made from it.
    const imagesReady = ensureImages(this.runtime.docker, [IMAGES.pause, IMAGES.echo], (line) => log.info(line));
    imagesReady.catch(() => undefined); // awaited below
    this.facts = await factsP;
    this.node = await registerNode(ctx.client, nodeObject(this.identity, this.facts, { ok: true, message: '' }, Date.now()), { log, stopped: () => this.shutDown });
    this.identity.podCIDR = this.node.spec!.podCIDR!;
    // What the proxier and the DNS server of this host read (they start after the agent).
    config.nodePodCIDR = this.identity.podCIDR;
    this.network = new PodNetwork({
      runtime: this.runtime,
      names,
      podCIDR: this.identity.podCIDR,
      logger: log,
      containers: () => this.cache.all(),
      rewriteResolvConf: (id) => this.syncer.rewriteResolvConf(id),
    });
    await Promise.all([this.network.ensure(), imagesReady]);
    const registered = this.registerNode();
    registered.catch(() => undefined); // awaited below, beside the events stream's connect
    this.lease = new LeaseRenewer(ctx.client, () => this.node!, config.nodeLeaseRenewIntervalMs, log);
    this.lease.start();

    const client: ApiClient = ctx.client;
    this.pods = new Informer<Pod>(client, R.pods, { fieldSelector: `spec.nodeName=${this.identity.name}`, logger: log });
    this.configMaps = ctx.informers.for<ConfigMap>(R.configmaps);
    this.secrets = ctx.informers.for<Secret>(R.secrets);
    this.endpoints = ctx.informers.for<Endpoints>(R.endpoints);
    this.services = ctx.informers.for<Service>(R.services);
    this.claims = ctx.informers.for<PersistentVolumeClaim>(R.persistentvolumeclaims);
    this.volumes = ctx.informers.for<PersistentVolume>(R.persistentvolumes);
    this.endpoints.addIndex(ENDPOINTS_IP_INDEX, (ep) => (ep.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)));
    this.nodes = ctx.informers.for<Node>(R.nodes);

    this.recorder = ctx.recorder(this.eventSource);
    this.probes = new ProbeManager(this.runtime, (c) => this.onProbe(c));
    const common = { client, runtime: this.runtime, cache: this.cache, volumes: new VolumeManager(config.dataDir), probes: this.probes, recorder: this.recorder, logger: log, enqueue: (key: string, afterMs?: number) => this.requeue(key, afterMs) };
    const terminator = new PodTerminator(
      { ...common, endpoints: this.endpoints, settleMs: this.agentOpts.settleMs ?? 250, endpointsWaitCapMs: this.agentOpts.endpointsWaitCapMs ?? 5000 },
      { writeTerminatingStatus: (pod) => this.syncer.writeTerminatingStatus(pod), forget: (uid) => this.syncer.forget(uid) },
    );
    this.syncer = new PodSyncer({
      ...common,
      names,
      config,
      nodeName: this.identity.name,
      hostIP: () => this.identity.hostIP,
      allocatable: () => this.allocatable(),
      backoff: this.agentOpts.backoff ?? backoffFromEnv(),
      pods: this.pods,
      configMaps: this.configMaps,
      secrets: this.secrets,
      services: this.services,
      tokens: new TokenManager(client),
      hostResolvConf,
      terminator,
      fetchImage: ctx.fetchNodeImage ? (image: string) => fetchImageFromPeers({ fetch: ctx.fetchNodeImage!, nodes: this.nodes!, self: this.identity.name, runtime: this.runtime, log }, image) : undefined,
      networkSettled: () => this.network.settled(),
      dockerRootDir: () => this.facts.rootDir,
      claims: this.claims,
      persistentVolumes: this.volumes,
    });

    ctx.addSubresource('pods/log', logsHandler({ client, runtime: this.runtime }));
    ctx.addUpgradeHandler(execUpgradeHandler({ client, runtime: this.runtime, cache: this.cache, logger: log }));
    ctx.addReadiness('agent', () => this.started && this.dockerOk);

    // Docker's events first, then its list: nothing that happens in between is missed. Then the
    // informers (setup) and the first sync of every Pod and every container we hold (synced).
    await new Promise<void>((resolve) => {
      let first = true;
      this.events = this.runtime.watchEvents(
        { type: ['container'], label: [`${names.instanceLabel}=${names.instanceValue}`], event: WATCHED_EVENTS },
        (ev) => this.onDockerEvent(ev),
        {
          onConnect: () => {
            if (first) {
              // (an engine that refused the first connect was not lost: nothing ran yet)
              first = false;
              this.engineLostAt = undefined;
              this.engineRefused = false;
              resolve();
              return;
            }
            // Back after a break. A restarted dockerd stops every container on its way down and refuses
            // work meanwhile: what failed then was the engine's doing, not the Pods', so no back-off for
            // it (only when the engine was really away: a reconnect was refused at least once).
            if (this.engineLostAt !== undefined && this.engineRefused) {
              this.syncer.engineWasAway(this.engineLostAt - ENGINE_STOP_GRACE_MS, Date.now() + ENGINE_RESTORE_MS);
              for (const p of this.pods.list()) this.enqueue(objectKey(p));
            }
            this.engineLostAt = undefined;
            this.engineRefused = false;
            // The stream resumed where it broke (watchEvents asks with `since`); a relist, as an
            // informer does after its watch breaks, covers what dockerd's event log no longer held.
            this.relistUntilDone();
          },
          onDisconnect: () => {
            if (this.engineLostAt === undefined) this.engineLostAt = Date.now();
            else this.engineRefused = true;
          },
        },
      );
      // An engine that takes long to accept the events stream must not hold the server: the relist covers it.
      setTimeout(resolve, 5000).unref();
    });
    await Promise.all([registered, this.relist()]);
    await super.start(ctx);
    // This node's half of the local-path StorageClass (directories under --data-dir/storage).
    this.provisioner = new LocalPathProvisioner(this.identity.name, config.dataDir);
    await this.provisioner.start(ctx);

    // The pod bridge deleted by hand: rebuilt at once (the heartbeat checks it too).
    this.unsubscribeNetlink = netlinkMonitor(log).subscribe((ev) => {
      if (ev.kind === 'link' && ev.deleted && ev.name === this.network.bridge) void this.repairNetwork(`the pod bridge ${ev.name} was deleted`, true);
    });
    this.heartbeat = setInterval(() => void this.beat(), this.agentOpts.heartbeatMs ?? 10_000);
    this.heartbeat.unref();
    // Usage for metrics.k8s.io (kubectl top, autoscaling), sampled here and reported to the API.
    this.stats = new StatsCollector({ client, runtime: this.runtime, cache: this.cache, nodeName: () => this.nodeName, logger: log, resolutionMs: (config.metricResolutionSeconds ?? 15) * 1000 });
    this.stats.start();
    if (cron.validate(config.resyncSchedule)) this.resync = cron.schedule(config.resyncSchedule, () => void this.resyncAll(), { noOverlap: true, name: `kubelite-agent-${names.instanceValue}` });
    this.started = true;
    log.info({ node: this.identity.name, hostIP: this.identity.hostIP, podCIDR: this.identity.podCIDR, adopted: this.cache.size }, 'agent started');
  }

  protected setup(): Startable[] {
    this.pods.on({
      add: (p) => this.enqueue(objectKey(p)),
      update: (o, n) => {
        // Our own status writes come back here: only a change of what we act on needs a sync.
        if (o.metadata.uid !== n.metadata.uid || o.metadata.deletionTimestamp !== n.metadata.deletionTimestamp || !deepEqual(o.spec, n.spec)) this.enqueue(objectKey(n));
      },
      delete: (p) => {
        // What we remember of a Pod (back-offs, last status) goes with it, containers or not.
        this.syncer.forget(p.metadata.uid!);
        this.enqueue(objectKey(p));
      },
    });
    // Marked Unknown by the node lifecycle controller while we were cut off: say we are alive at once,
    // not at the next heartbeat (the NoExecute taint's clock is running).
    this.nodes?.on({
      update: (_o, n) => {
        if (n.metadata.name === this.identity.name && n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'Unknown') this.beatSoon();
      },
    });
    const onObject = (kind: 'configMap' | 'secret') => (obj: ConfigMap | Secret) => {
      for (const p of this.pods.list(obj.metadata.namespace)) if (refersTo(p, kind, obj.metadata.name!)) this.enqueue(objectKey(p));
    };
    this.configMaps.on({ add: onObject('configMap'), update: (_o, n) => onObject('configMap')(n) });
    this.secrets.on({ add: onObject('secret'), update: (_o, n) => onObject('secret')(n) });
    // A Pod waiting for its claim starts as soon as the claim is bound.
    const onClaim = (c: PersistentVolumeClaim) => {
      for (const p of this.pods.list(c.metadata.namespace)) if ((p.spec.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === c.metadata.name)) this.enqueue(objectKey(p));
    };
    this.claims.on({ add: onClaim, update: (_o, n) => onClaim(n) });

    return [this.pods, this.configMaps, this.secrets, this.endpoints, this.services, this.claims, this.volumes, this.nodes!];
  }

  protected override synced(): void {
    for (const p of this.pods.list()) this.enqueue(objectKey(p));
    for (const key of this.cache.podKeys()) this.enqueue(key);
  }

  protected reconcile(key: string): Promise<void> {
    return this.syncer.sync(key);
  }

  override async stop(): Promise<void> {
    this.shutDown = true;
    this.unsubscribeNetlink?.();
    this.lock?.close();
    this.events?.stop();
    clearTimeout(this.relistRetry);
    clearInterval(this.heartbeat);
    this.lease?.stop();
    this.stats?.stop();
    await this.resync?.stop();
    await this.resync?.destroy?.();
    this.probes?.stop();
    await this.provisioner?.stop();
    await super.stop();
    this.pods?.stop();
    // Containers keep running: the next start adopts them.
  }

  /** Sync `key` now or after afterMs; of several pending delays the earliest wins (a back-off must not hide a retry). */
  private requeue(key: string, afterMs?: number): void {
    if (!afterMs || afterMs <= 0) {
      this.enqueue(key);
      return;
    }
    const at = Date.now() + afterMs;
    const pending = this.requeueAt.get(key);
    if (pending !== undefined && pending > Date.now() && pending <= at) return;
    this.requeueAt.set(key, at);
    this.enqueueAfter(key, afterMs);
  }

  private allocatable(): NodeAllocatable {
    return { cpuMillis: this.facts.ncpu * 1000, memoryBytes: Math.floor(this.facts.memTotal / 1024) * 1024, pods: 110 };
  }

  // ------------------------------------------------------------------ Docker state

  private onDockerEvent(ev: DockerEvent): void {
    if (ev.Type !== 'container') return;
    const attrs = ev.Actor?.Attributes ?? {};
    const ns = attrs[LABELS.podNamespace];
    const name = attrs[LABELS.podName];
    const id = ev.Actor?.ID ?? ev.id;
    if (!ns || !name || !id) return;
    const key = keyFor(ns, name);
    if (ev.Action === 'destroy') {
      // `docker rm -f` sends die, then destroy: the replacement starts now, not when a relist notices.
      this.destroyed.set(id, Date.now());
      this.cache.delete(id);
      this.enqueue(key);
      return;
    }
    if (ev.Action === 'start') {
      const known = this.cache.get(id);
      // Our own start: it is read back by the sync that started it.
      if ((known?.state === 'running' && known.inspected) || this.syncer?.starting(id)) return;
    }
    void this.inspectInto(id, key);
  }

  private inspectInto(id: string, key: string): Promise<void> {
    const running = this.inspecting.get(id);
    if (running) return running.then(() => this.inspectInto(id, key));
    const p = (async () => {
      try {
        const raw = await this.runtime.inspectRaw(id);
        const c = raw && !this.destroyed.has(id) ? fromInspect(raw, this.ctx.names.dockerNetwork, this.identity.hostIP) : undefined;
        const before = this.cache.get(id);
        if (c) this.cache.set(c);
        else this.cache.delete(id);
        if (!c || !before || before.state !== c.state || before.finishedAt !== c.finishedAt || !before.inspected) this.enqueue(key);
      } catch (err) {
        this.ctx.logger.debug({ id: id.slice(0, 12), err: dockerMessage(err) }, 'inspect after event failed');
        this.enqueue(key);
      } finally {
        this.inspecting.delete(id);
      }
    })();
    this.inspecting.set(id, p);
    return p;
  }

  /** A relist after the events stream came back: retried (200 ms doubling to 5 s) until one succeeds. */
  private relistUntilDone(delayMs = 200): void {
    clearTimeout(this.relistRetry);
    if (this.shutDown) return;
    this.relist().catch((err) => {
      if (this.shutDown) return;
      this.ctx.logger.warn({ err: dockerMessage(err), retryMs: delayMs }, 'relist after reconnect failed; retrying');
      this.relistRetry = setTimeout(() => this.relistUntilDone(Math.min(delayMs * 2, 5000)), delayMs);
      this.relistRetry.unref();
    });
  }

  /** `docker ps -a` of our containers into the cache; Pods whose containers changed get a sync. */
  relist(): Promise<void> {
    // One at a time; one asked for while another runs (whose list may predate what prompted the ask)
    // runs once it is done, and every ask meanwhile shares that one.
    if (this.relistQueued) return this.relistQueued;
    if (this.relisting) {
      this.relistQueued = this.relisting
        .catch(() => undefined)
        .then(() => {
          this.relistQueued = undefined;
          return this.relist();
        });
      return this.relistQueued;
    }
    const run = async (): Promise<void> => {
      const { names } = this.ctx;
      // What events and syncs write while the list is on its way is newer than the list.
      const mark = this.cache.mark();
      const list = await this.runtime.listOurs(names.instanceLabel, names.instanceValue, names.dockerNetwork);
      const { needInspect, changedPods } = this.cache.replaceAll(list, mark);
      // A few at a time: a restart of ours may find hundreds of containers.
      for (let i = 0; i < needInspect.length; i += 16) {
        await Promise.all(
          needInspect.slice(i, i + 16).map(async (id) => {
            const raw = await this.runtime.inspectRaw(id).catch(() => null);
            if (raw === null) return; // the next relist looks again
            const c = raw && !this.destroyed.has(id) ? fromInspect(raw, names.dockerNetwork, this.identity.hostIP) : undefined;
            if (c) this.cache.set(c);
            else this.cache.delete(id);
          }),
        );
      }
      if (this.started) for (const key of changedPods) this.enqueue(key);
    };
    this.relisting = run().finally(() => {
      this.relisting = undefined;
    });
    return this.relisting;
  }

  private async resyncAll(): Promise<void> {
    if (this.shutDown) return;
    const now = Date.now();
    for (const [key, at] of this.requeueAt) if (at < now) this.requeueAt.delete(key);
    for (const [id, at] of this.destroyed) if (at < now - 60_000) this.destroyed.delete(id);
    try {
      await this.relist();
    } catch (err) {
      this.ctx.logger.warn({ err: dockerMessage(err) }, 'agent relist failed');
      return;
    }
    for (const p of this.pods.list()) this.enqueue(objectKey(p));
    for (const key of this.cache.podKeys()) this.enqueue(key);
  }

  private onProbe(c: ProbeChange): void {
    const pod = this.pods.getByKey(c.podKey);
    if (!pod) return;
    if (!c.outcome.ok && !c.startupNoise) {
      const kind = c.kind[0].toUpperCase() + c.kind.slice(1);
      this.recorder.warning(pod, 'Unhealthy', `${kind} probe failed: ${c.outcome.message ?? ''}`.trim());
    }
    if (c.kind === 'liveness' && c.changed && c.result === false) this.syncer.livenessFailed(pod.metadata.uid!, c.containerId);
    if (c.kind === 'startup' && c.changed && c.result === false) this.syncer.livenessFailed(pod.metadata.uid!, c.containerId);
    if (c.changed) this.enqueue(c.podKey);
  }

  // ------------------------------------------------------------------ network and node

  /** Rebuilds the pod network (see pod-network.ts), telling the Node's status and its Events about it. */
  private async repairNetwork(why: string, confirm = false): Promise<void> {
    if (this.shutDown) return;
    if (confirm) {
      // A netlink event: still missing a moment later, with Docker answering? (A restarting dockerd
      // takes its bridges down and up itself; the heartbeat looks again once it answers.)
      await new Promise((r) => setTimeout(r, 100));
      const problem = await this.network.problem().catch(() => undefined);
      if (!problem || this.shutDown) return;
    }
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: this.identity.name } } as Node;
    this.recorder.warning(node, 'PodNetworkLost', `${why}: rebuilding the pod network and re-attaching its Pods`);
    void this.beat({ statusOnly: true });
    try {
      const report = await this.network.repair(why);
      if (report) {
        const stopped = report.stopped.length ? `; ${report.stopped.length} could not be re-attached and get new sandboxes` : '';
        this.recorder.normal(node, 'PodNetworkRepaired', `pod network ${this.ctx.names.dockerNetwork} on bridge ${this.network.bridge} rebuilt; ${report.reattached} containers re-attached with their addresses${stopped}`);
      }
    } catch (err) {
      this.recorder.warning(node, 'PodNetworkRepairFailed', (err as Error).message);
    }
    for (const p of this.pods.list()) this.enqueue(objectKey(p));
    await this.beat({ statusOnly: true });
  }

  /** Posts the node's status (Ready, capacity, addresses, images) after registration; re-registers a Node deleted meanwhile. */
  private async registerNode(): Promise<void> {
    const client = this.ctx.client;
    const ready = { ok: true, message: 'kubelet is posting ready status' };
    let existing: Node;
    try {
      existing = await client.get<Node>(R.nodes, undefined, this.identity.name);
    } catch (err) {
      if (!isStatusError(err, 'NotFound')) throw err;
      existing = await registerNode(client, nodeObject(this.identity, this.facts, ready, Date.now()), { log: this.ctx.logger, stopped: () => this.shutDown });
      if (existing.spec?.podCIDR !== this.identity.podCIDR) this.ctx.logger.error({ was: this.identity.podCIDR, now: existing.spec?.podCIDR }, 'the re-registered node got another pod CIDR: restart the agent to rebuild the pod network');
    }
    const images = await nodeStatusImages(this.runtime.docker);
    this.node = await client.update<Node>(R.nodes, { ...existing, metadata: { ...existing.metadata, resourceVersion: undefined }, status: nodeStatus(this.identity, this.facts, existing.status, ready, Date.now(), this.network.health, images) }, { subresource: 'status' });
  }

  private beatPending?: NodeJS.Timeout;
  private beatSoon(): void {
    if (this.beatPending || this.shutDown) return;
    this.beatPending = setTimeout(() => {
      this.beatPending = undefined;
      void this.beat();
    }, 50);
  }

  /** The heartbeat: is Docker answering? Refresh the Node's Ready condition either way. */
  private async beat(opts: { statusOnly?: boolean } = {}): Promise<void> {
    if (this.shutDown) return;
    let ok = this.dockerOk;
    let message = 'kubelet is posting ready status';
    if (!opts.statusOnly) {
      ok = true;
      try {
        await this.runtime.ping(3000);
        this.facts = await this.runtime.facts();
      } catch (err) {
        ok = false;
        message = `container runtime is down: the Docker engine does not answer (${dockerMessage(err)})`;
      }
      if (ok && !this.dockerOk) void this.relist().catch(() => undefined);
      this.dockerOk = ok;
      // The safety net for a lost pod network (netlink may have missed it, or Docker lost the network).
      if (ok && this.network.health.ok) {
        const problem = await this.network.problem().catch(() => undefined);
        if (problem) void this.repairNetwork(problem);
      }
    }
    const net = this.network.health;
    if (ok && !net.ok) {
      ok = false;
      message = `container runtime network not ready: ${net.message ?? net.reason}`;
    }
    try {
      const node = await this.ctx.client.get<Node>(R.nodes, undefined, this.identity.name);
      const status = nodeStatus(this.identity, this.facts, node.status, { ok, message }, Date.now(), this.network.health, ok ? await nodeStatusImages(this.runtime.docker) : undefined);
      this.node = await this.ctx.client.update<Node>(R.nodes, { ...node, metadata: { ...node.metadata, resourceVersion: undefined }, status }, { subresource: 'status' });
    } catch (err) {
      if (isStatusError(err, 'NotFound')) {
        await this.registerNode().catch((e) => this.ctx.logger.warn({ err: String(e) }, 'node re-registration failed'));
        return;
      }
      this.ctx.logger.warn({ err: String(err) }, 'node heartbeat failed');
    }
  }
}
