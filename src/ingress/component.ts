// The ingress controller as a `kubelite server` component ('ingress'): the IngressClass `kubelite`
// (created at start, default), informers feeding IngressControllerCore, HAProxy on the host's ingress
// ports, Warning Events for routing problems and status.loadBalancer.ingress for what it serves.
// `--disable ingress` leaves all of it out; without HAProxy the server refuses to start and says so.

import path from 'node:path';
import type { Endpoints, Ingress, IngressClass, KObject, Secret, Service } from '../api/types.js';
import { R } from '../api/resources.js';
import { isStatusError } from '../api/errors.js';
import type { Informer } from '../client/informer.js';
import type { EventRecorder } from '../client/events.js';
import type { ApiClient } from '../client/types.js';
import type { Component, ComponentContext } from '../server/component.js';
import type { Logger } from '../util/log.js';
import { IngressControllerCore, INGRESS_CLASS_NAME, INGRESS_CONTROLLER_NAME, ingressClassObject } from './controller-core.js';
import type { PemPair } from './certs.js';
import { loadOrCreateDefaultCert } from './default-cert.js';
import { checkHAProxy, explainStartFailure, ingressRunDir } from './preflight.js';
import { IngressProxy } from './proxy.js';
import type { BuildResult } from './routes.js';
import { defaultIngressClass, ingressChangeMatters, planStatusWrites, problemReason } from './status.js';

export interface IngressComponentOptions {
  /** HAProxy to run (default: `haproxy` on the PATH or in /usr/sbin) */
  haproxyBinary?: string;
  /** status address (default: the bind address, else the host's default-route address) */
  address?: string;
  /** tests: a pre-made default certificate instead of the one persisted in the data dir */
  defaultCert?: PemPair;
  debounceMs?: number;
}

/** How long a failed status write waits before the next attempt. */
const STATUS_RETRY_MS = 1000;

export class IngressComponent implements Component {
  readonly name = 'ingress';
  core?: IngressControllerCore;
  proxy?: IngressProxy;
  private log?: Logger;
  private client?: ApiClient;
  private recorder?: EventRecorder;
  private ingresses?: Informer<Ingress>;
  private serving = false;
  private stopped = false;
  private statusRunning?: Promise<void>;
  private statusPending = false;
  private statusRetry?: NodeJS.Timeout;

  constructor(private readonly opts: IngressComponentOptions = {}) {}

  async start(ctx: ComponentContext): Promise<void> {
    const { config } = ctx;
    const log = ctx.logger.child({ component: this.name });
    this.log = log;
    this.client = ctx.client;
    this.stopped = false;
    // registered first: not ready until HAProxy serves, whatever else is ready meanwhile
    ctx.addReadiness('ingress', () => this.serving && !this.stopped && !!this.proxy?.running);
    const haproxy = checkHAProxy(this.opts.haproxyBinary);

    const dir = path.join(config.dataDir, 'ingress');
    let defaultCert = this.opts.defaultCert;
    if (!defaultCert) {
      const made = await loadOrCreateDefaultCert(dir);
      if (made.created) log.info({ dir }, 'ingress default certificate created');
      defaultCert = made.pair;
    }
    await this.ensureClass(ctx.client, log);

    const runDir = ingressRunDir(config.dataDir, config.instance);
    const proxy = new IngressProxy({
      httpPort: config.ingressHttpPort,
      httpsPort: config.ingressHttpsPort,
      bindAddress: config.ingressBindAddress,
      runDir,
      haproxyBinary: haproxy,
      logger: { info: (m) => log.debug(m), warn: (m) => log.warn(m), error: (m) => log.error(m) },
    });
    this.proxy = proxy;
    this.recorder = ctx.recorder('kubelite-ingress');
    const core = new IngressControllerCore({
      defaultCert,
      proxy,
      className: INGRESS_CLASS_NAME,
      bindAddress: config.ingressBindAddress,
      address: this.opts.address,
      debounceMs: this.opts.debounceMs,
      onProblem: (kind, ingress, message) => this.problem(kind, ingress, message),
      onRebuilt: (r) => this.rebuilt(r),
    });
    this.core = core;

    const ingresses = ctx.informers.for<Ingress>(R.ingresses);
    this.ingresses = ingresses;
    const classes = ctx.informers.for<IngressClass>(R.ingressclasses);
    const feed = <T extends KObject>(inf: Informer<T>, kind: T['kind'], matters: (o: T, n: T) => boolean = () => true) =>
      inf.on({
        add: (o) => !this.stopped && core.upsert(withKind(o, kind)),
        update: (old, o) => {
          if (this.stopped) return;
          if (matters(old, o)) core.upsert(withKind(o, kind));
          // someone else may have changed a status we own
          else if (kind === 'Ingress') this.requestStatus();
        },
        delete: (o) => !this.stopped && core.remove(withKind(o, kind)),
      });
    feed(ingresses, 'Ingress', ingressChangeMatters);
    feed(classes, 'IngressClass');
    feed(ctx.informers.for<Service>(R.services), 'Service');
    feed(ctx.informers.for<Endpoints>(R.endpoints), 'Endpoints');
    feed(ctx.informers.for<Secret>(R.secrets), 'Secret');
    await Promise.all([ingresses, classes, ctx.informers.for(R.services), ctx.informers.for(R.endpoints), ctx.informers.for(R.secrets)].map((i) => i.start()));

    // Kubernetes' DefaultIngressClass admission: a new Ingress naming no class gets the default one.
    ctx.registry.addAdmission({
      resource: R.ingresses,
      admit: (actx, obj) => {
        if (actx.op !== 'create' || actx.subresource) return;
        defaultIngressClass(obj as Ingress, classes.list());
      },
    });

    core.rebuild();
    try {
      await proxy.start();
    } catch (err) {
      core.dispose();
      throw await explainStartFailure(err as Error, { address: config.ingressBindAddress, http: config.ingressHttpPort, https: config.ingressHttpsPort });
    }
    this.serving = true;
    log.info({ http: config.ingressHttpPort, https: config.ingressHttpsPort, address: config.ingressBindAddress, runDir }, 'ingress serving');
    this.requestStatus();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.serving = false;
    clearTimeout(this.statusRetry);
    this.core?.dispose();
    await this.statusRunning?.catch(() => undefined);
    await this.proxy?.stop();
  }

  /** Resolves once the latest route table is live in HAProxy (tests, benchmarks). */
  async settled(): Promise<void> {
    await this.proxy?.settled();
  }

  /** Creates the IngressClass once; an existing one is the user's to change (e.g. to stop being default). */
  private async ensureClass(client: ApiClient, log: Logger): Promise<void> {
    try {
      await client.create(R.ingressclasses, ingressClassObject());
      log.info({ ingressClass: INGRESS_CLASS_NAME }, 'IngressClass created (default)');
    } catch (err) {
      if (!isStatusError(err, 'AlreadyExists')) throw err;
      const have = await client.get<IngressClass>(R.ingressclasses, undefined, INGRESS_CLASS_NAME);
      if (have.spec?.controller !== INGRESS_CONTROLLER_NAME) {
        log.warn({ ingressClass: INGRESS_CLASS_NAME, controller: have.spec?.controller }, `IngressClass ${INGRESS_CLASS_NAME} names another controller; kubelite serves Ingresses of that class anyway`);
      }
    }
  }

  private problem(kind: Parameters<typeof problemReason>[0], ingress: string, message: string): void {
    const [ns, name] = ingress.split('/', 2);
    const ing = this.ingresses?.get(ns, name);
    this.log?.warn({ ingress, kind }, message);
    if (ing && this.recorder) this.recorder.warning(withKind(ing, 'Ingress'), problemReason(kind, message), message);
  }

  private rebuilt(_r: BuildResult): void {
    if (this.serving) this.requestStatus();
  }

  /** Coalesces: one status pass at a time, one more if asked for during a pass. */
  private requestStatus(): void {
    if (this.stopped || !this.serving) return;
    if (this.statusRunning) {
      this.statusPending = true;
      return;
    }
    this.statusRunning = (async () => {
      do {
        this.statusPending = false;
        await this.writeStatuses();
      } while (this.statusPending && !this.stopped);
    })().finally(() => (this.statusRunning = undefined));
  }

  private async writeStatuses(): Promise<void> {
    const core = this.core;
    const inf = this.ingresses;
    if (!core || !inf || !this.client) return;
    const writes = planStatusWrites(inf.list(), new Set(core.served()), core.status());
    let failed = false;
    for (const w of writes) {
      if (this.stopped) return;
      try {
        await this.client.patch(R.ingresses, w.namespace, w.name, 'merge', { status: { loadBalancer: { ingress: w.ingress.length ? w.ingress : null } } }, { subresource: 'status' });
      } catch (err) {
        if (isStatusError(err, 'NotFound')) continue;
        failed = true;
        this.log?.warn({ ingress: `${w.namespace}/${w.name}`, err: (err as Error).message }, 'could not write Ingress status; retrying');
      }
    }
    if (failed && !this.stopped) {
      clearTimeout(this.statusRetry);
      this.statusRetry = setTimeout(() => this.requestStatus(), STATUS_RETRY_MS);
      this.statusRetry.unref();
    }
  }
}

/** Objects from a list may come without `kind`; the core sorts by it. */
function withKind<T extends KObject>(o: T, kind: string): T {
  return o.kind === kind ? o : { ...o, kind };
}

export function createIngress(opts: IngressComponentOptions = {}): Component {
  return new IngressComponent(opts);
}
