// The data path: Debian's HAProxy, driven by kubelite the way ingress-nginx drives nginx. Chosen over
// an embedded Node proxy by measurement (bench/ingress-bench.ts): on this 2-core host a Node proxy
// reached 0.3-0.4x nginx's requests/s with 3-10x its p99, HAProxy ~1x. HAProxy's runtime API also
// lets endpoint and route changes land without a reload (nginx without Lua must reload for each).

import fs from 'node:fs';
import path from 'node:path';
import { buildCertStore, generateDefaultCertIsolated, type CertStore, type PemPair } from './certs.js';
import {
  DEFAULT_HAPROXY_OPTIONS,
  MAP_NAMES,
  crtListText,
  diffPlans,
  mapFileText,
  pemFileText,
  planHAProxy,
  isSafeMapKey,
  renderConfig,
  runtimeCommands,
  type HAPlan,
  type HAProxyOptions,
  type MapName,
  type RuntimeStep,
} from './haproxy-plan.js';
import { HAProxyProcess, silentLogger, type Logger } from './haproxy-process.js';
import type { RouteTable } from './routes.js';

export type { Logger } from './haproxy-process.js';

export interface IngressProxyOptions extends Partial<Omit<HAProxyOptions, 'httpPort' | 'httpsPort' | 'bindAddress' | 'runDir'>> {
  httpPort: number;
  httpsPort: number;
  bindAddress: string;
  logger?: Logger;
  /** config, maps, certificates and sockets; default /run/kubelite/ingress-<httpPort> */
  runDir?: string;
  haproxyBinary?: string;
}

export interface ProxyStats {
  reloads: number;
  runtimeUpdates: number;
  lastApplyMs: number;
  lastReloadReason?: string;
}

interface Desired {
  table: RouteTable;
  certs: CertStore;
}

export function emptyTable(): RouteTable {
  return { hosts: new Map(), wildcards: new Map(), certs: [], ingresses: [] };
}

// A CLI request line must fit HAProxy's buffer (tune.bufsize); stay well below it.
const CLI_BATCH_BYTES = 8000;

function writeAtomic(file: string, text: string, mode = 0o600): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, text, { mode });
  fs.renameSync(tmp, file);
}

export class IngressProxy {
  private readonly opts: HAProxyOptions;
  private readonly log: Logger;
  private readonly proc: HAProxyProcess;
  private desired?: Desired;
  private applied?: Desired;
  private plan?: HAPlan;
  private applying?: Promise<void>;
  private stopping = false;
  private started = false;
  private defaultCert?: PemPair;
  private restartTimer?: NodeJS.Timeout;
  readonly stats: ProxyStats = { reloads: 0, runtimeUpdates: 0, lastApplyMs: 0 };

  constructor(opts: IngressProxyOptions) {
    const runDir = opts.runDir ?? `/run/kubelite/ingress-${opts.httpPort}`;
    this.opts = {
      ...DEFAULT_HAPROXY_OPTIONS,
      ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
      httpPort: opts.httpPort,
      httpsPort: opts.httpsPort,
      bindAddress: opts.bindAddress,
      runDir,
    } as HAProxyOptions;
    this.log = opts.logger ?? silentLogger;
    this.proc = new HAProxyProcess(runDir, path.join(runDir, 'haproxy.cfg'), this.log, opts.haproxyBinary);
  }

  get runDir(): string {
    return this.opts.runDir;
  }

  /** Started and its HAProxy master alive (a crashed one is being restarted when false). */
  get running(): boolean {
    return this.started && !this.stopping && this.proc.running;
  }

  /** Starts HAProxy with the last table given to update(), or an empty one (everything 404). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    fs.mkdirSync(path.join(this.opts.runDir, 'maps'), { recursive: true, mode: 0o700 });
    fs.mkdirSync(path.join(this.opts.runDir, 'certs'), { recursive: true, mode: 0o700 });
    if (!this.desired) {
      this.defaultCert ??= await generateDefaultCertIsolated();
      this.desired = { table: emptyTable(), certs: buildCertStore(emptyTable(), this.defaultCert) };
    }
    const want = this.desired;
    const plan = planHAProxy(want.table, want.certs);
    try {
      this.writeFiles(plan);
      await this.proc.start();
    } catch (e) {
      this.started = false;
      throw e;
    }
    this.plan = plan;
    this.applied = want;
    this.proc.onUnexpectedExit = () => this.scheduleRestart();
    this.kick();
    await this.settled();
  }

  /** Swap in a new table. Returns at once; the change is live within milliseconds (see settled()). */
  update(table: RouteTable, certs: CertStore): void {
    this.desired = { table, certs };
    this.kick();
  }

  /** Resolves once the latest update() is live in HAProxy. */
  async settled(): Promise<void> {
    while (this.applying) await this.applying;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.started = false;
    clearTimeout(this.restartTimer);
    await this.settled().catch(() => {});
    await this.proc.stop();
  }

  private kick(): void {
    if (!this.started || this.applying || this.stopping) return;
    this.applying = this.applyLoop().finally(() => {
      this.applying = undefined;
      // an update() that raced the end of the loop
      if (this.desired !== this.applied && !this.stopping && this.proc.running) this.kick();
    });
  }

  private async applyLoop(): Promise<void> {
    while (this.desired && this.desired !== this.applied && !this.stopping && this.proc.running) {
      const want = this.desired;
      const t0 = performance.now();
      const next = planHAProxy(want.table, want.certs, this.plan);
      const diff = this.plan ? diffPlans(this.plan, next) : ({ reload: true, reason: 'no plan yet' } as const);
      // Files always mirror the live state: a later reload or a restart starts from them.
      this.writeFiles(next);
      try {
        if (diff.reload) {
          await this.reload(diff.reason);
        } else if (diff.steps.length > 0) {
          try {
            await this.runSteps(diff.steps);
            this.stats.runtimeUpdates++;
          } catch (e) {
            await this.reload(`runtime update failed: ${(e as Error).message}`);
          }
        }
        this.plan = next;
        this.applied = want;
        this.stats.lastApplyMs = performance.now() - t0;
      } catch (e) {
        this.log.error(`applying the ingress configuration failed: ${(e as Error).message}`);
        // keep `applied` behind `desired` and retry later rather than spin
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private async reload(reason: string): Promise<void> {
    this.stats.reloads++;
    this.stats.lastReloadReason = reason;
    this.log.info(`reloading haproxy: ${reason}`);
    await this.proc.reload();
    this.pruneCerts();
  }

  private scheduleRestart(): void {
    if (this.stopping || this.restartTimer) return;
    this.restartTimer = setTimeout(async () => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      try {
        if (this.plan) this.writeFiles(this.plan);
        await this.proc.start();
        this.kick();
      } catch (e) {
        this.log.error(`restarting haproxy failed: ${(e as Error).message}`);
        this.scheduleRestart();
      }
    }, 1000);
  }

  private writeFiles(plan: HAPlan): void {
    const dir = this.opts.runDir;
    for (const m of MAP_NAMES) writeAtomic(path.join(dir, 'maps', `${m}.map`), mapFileText(plan.maps[m]));
    const { defaultCert, certs } = plan.certs;
    writeAtomic(path.join(dir, 'certs', 'default.pem'), pemFileText(defaultCert.certPem, defaultCert.keyPem));
    for (const c of certs) {
      const f = path.join(dir, 'certs', `${c.id}.pem`);
      if (!fs.existsSync(f)) writeAtomic(f, pemFileText(c.certPem, c.keyPem));
    }
    writeAtomic(path.join(dir, 'certs', 'list.txt'), crtListText(plan.certs, dir));
    writeAtomic(path.join(dir, 'haproxy.cfg'), renderConfig(plan, this.opts));
  }

  private pruneCerts(): void {
    const keep = new Set(['default.pem', 'list.txt', ...(this.desired?.certs.certs ?? []).map((c) => `${c.id}.pem`), ...(this.plan?.certs.certs ?? []).map((c) => `${c.id}.pem`)]);
    const dir = path.join(this.opts.runDir, 'certs');
    for (const f of fs.readdirSync(dir)) if (!keep.has(f) && f.endsWith('.pem')) fs.rmSync(path.join(dir, f), { force: true });
  }

  /**
   * All steps as `;`-separated CLI commands on as few connections as the CLI buffer allows: under load
   * every extra round trip to a busy HAProxy costs milliseconds.
   */
  private async runSteps(steps: RuntimeStep[]): Promise<void> {
    const mapFile = (m: MapName) => path.join(this.opts.runDir, 'maps', `${m}.map`);
    let batch: string[] = [];
    let size = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const out = await this.proc.command(batch.join(';'));
      batch = [];
      size = 0;
      const bad = out.split('\n').find((l) => /No such|Unknown|invalid|not found|Require|error|failed/i.test(l));
      if (bad) throw new Error(`haproxy: ${bad.trim()}`);
    };
    const push = async (...cmds: string[]) => {
      for (const c of cmds) {
        if (size + c.length + 1 > CLI_BATCH_BYTES) await flush();
        batch.push(c);
        size += c.length + 1;
      }
    };
    for (const s of steps) {
      if (s.kind === 'cert-add' || s.kind === 'cert-del') {
        await flush();
        await this.certStep(s);
      } else {
        // Built (and checked word by word) by the pure planner: no user string reaches the CLI unchecked.
        await push(...runtimeCommands(s, mapFile));
      }
    }
    await flush();
  }

  /** SNI certificates through the runtime API (new/set/commit ssl cert + crt-list): no reload. */
  private async certStep(s: Extract<RuntimeStep, { kind: 'cert-add' | 'cert-del' }>): Promise<void> {
    // The id is our hash and the hosts passed the route table's DNS check; refuse anything else anyway.
    if (!/^[A-Za-z0-9_-]+$/.test(s.id) || (s.kind === 'cert-add' && !s.hosts.every((h) => isSafeMapKey(h)))) {
      throw new Error(`refusing certificate step ${JSON.stringify(s.id)}: unsafe id or host`);
    }
    const file = path.join(this.opts.runDir, 'certs', `${s.id}.pem`);
    const list = path.join(this.opts.runDir, 'certs', 'list.txt');
    const expect = async (cmd: string, ok: RegExp) => {
      const out = await this.proc.command(cmd);
      if (!ok.test(out)) throw new Error(`haproxy: ${cmd.split('\n')[0]}: ${out.trim()}`);
    };
    if (s.kind === 'cert-add') {
      await expect(`new ssl cert ${file}`, /New empty certificate store|already exists/i);
      await expect(`set ssl cert ${file} <<\n${s.pem}\n`, /Transaction (created|updated)/i);
      await expect(`commit ssl cert ${file}`, /Success/i);
      // the payload ends at an empty line
      await expect(`add ssl crt-list ${list} <<\n${file} ${s.hosts.join(' ')}\n\n`, /Success/i);
    } else {
      await expect(`del ssl crt-list ${list} ${file}`, /deleted|Success/i);
      await expect(`del ssl cert ${file}`, /deleted|Success/i);
    }
  }
}
