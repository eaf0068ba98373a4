// Probe workers: one timer per running container and probe kind (readiness, liveness, startup) that
// runs httpGet / tcpSocket / exec against the Pod and reports when a result flips. Results live here
// (by container id); the agent reads them when it builds the status and restarts on liveness failure.

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Container, Probe } from '../api/types.js';
import type { DockerRuntime } from './docker.js';
import { httpProbeURL, httpStatusOk, initialCounter, nextProbeDelay, probeTiming, recordProbe, resolvePort, type ProbeCounter, type ProbeKind } from './probe-state.js';
import type { ProbeStatus } from './types.js';

export interface ProbeOutcome {
  ok: boolean;
  /** Why it failed, worded as the kubelet's events. */
  message?: string;
}

export interface ProbeTarget {
  id: string;
  spec: Container;
  podIP: string;
  /** Start readiness as this (adopted containers keep what the API said, so a restart of ours does not flap endpoints). */
  initialReady?: boolean;
}

export interface ProbeChange {
  podKey: string;
  containerId: string;
  container: string;
  kind: ProbeKind;
  result: boolean | undefined;
  /** The published result flipped. */
  changed: boolean;
  outcome: ProbeOutcome;
  /** Failures before a readiness probe ever succeeded are start-up noise, not worth an Event. */
  startupNoise: boolean;
}

function httpGet(url: URL, headers: Record<string, string>, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, { method: 'GET', headers: { 'User-Agent': 'kube-probe/1.32', Accept: '*/*', ...headers }, agent: false, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve(httpStatusOk(code) ? { ok: true } : { ok: false, message: `HTTP probe failed with statuscode: ${code}` });
    });
    req.on('timeout', () => req.destroy(new Error(`Get "${url.href}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`)));
    req.on('error', (err) => resolve({ ok: false, message: err.message.startsWith('Get "') ? err.message : `Get "${url.href}": ${err.message}` }));
    req.end();
  });
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (o: ProbeOutcome) => {
      sock.destroy();
      resolve(o);
    };
    sock.setTimeout(timeoutMs, () => done({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` }));
    sock.on('connect', () => done({ ok: true }));
    sock.on('error', (err) => done({ ok: false, message: `dial tcp ${host}:${port}: ${err.message}` }));
  });
}

export async function runProbe(runtime: DockerRuntime, probe: Probe, target: ProbeTarget): Promise<ProbeOutcome> {
  const timeoutMs = probeTiming(probe).timeoutMs;
  try {
    if (probe.exec) {
      const cmd = probe.exec.command ?? [];
      if (cmd.length === 0) return { ok: false, message: 'exec probe has no command' };
      const r = await runtime.execCollect(target.id, cmd, timeoutMs);
      if (r.timedOut) return { ok: false, message: `command ${JSON.stringify(cmd.join(' '))} timed out` };
      if (r.exitCode === 0) return { ok: true };
      return { ok: false, message: (r.stdout + r.stderr).trim() || `command ${JSON.stringify(cmd.join(' '))} exited with ${r.exitCode}` };
    }
    if (probe.httpGet) {
      const url = httpProbeURL(probe.httpGet, target.spec, target.podIP);
      const headers: Record<string, string> = {};
      for (const h of probe.httpGet.httpHeaders ?? []) headers[h.name] = h.value;
      return await httpGet(url, headers, timeoutMs);
    }
    if (probe.tcpSocket) {
      return await tcpConnect(probe.tcpSocket.host || target.podIP, resolvePort(probe.tcpSocket.port, target.spec), timeoutMs);
    }
    return { ok: false, message: 'the probe has no handler (exec, httpGet or tcpSocket)' };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

class ProbeWorker {
  counter: ProbeCounter;
  private timer?: NodeJS.Timeout;
  private attempt = 0;
  private everSucceeded = false;
  private stopped = false;

  constructor(
    private readonly mgr: ProbeManager,
    readonly podKey: string,
    readonly kind: ProbeKind,
    readonly probe: Probe,
    public target: ProbeTarget,
  ) {
    this.counter = initialCounter(kind);
    if (kind === 'readiness' && target.initialReady) {
      this.counter = { result: true, lastRaw: true, run: 1 };
      this.everSucceeded = true;
    }
  }

  start(): void {
    const t = probeTiming(this.probe);
    // Adopted ready containers keep their rhythm; new ones get their first probe right away.
    this.schedule(this.everSucceeded ? t.periodMs : t.initialDelayMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), ms);
    this.timer.unref?.();
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    const t = probeTiming(this.probe);
    // Liveness and readiness wait for the startup probe, as in Kubernetes.
    if (this.kind !== 'startup' && this.mgr.hasStartupProbe(this.target.id) && this.mgr.status(this.target.id).started !== true) {
      this.schedule(Math.min(t.periodMs, 200));
      return;
    }
    const outcome = await runProbe(this.mgr.runtime, this.probe, this.target);
    if (this.stopped) return;
    const before = this.everSucceeded;
    if (outcome.ok) this.everSucceeded = true;
    const { state, changed } = recordProbe(this.counter, outcome.ok, this.probe, this.kind);
    this.counter = state;
    this.mgr.report({
      podKey: this.podKey,
      containerId: this.target.id,
      container: this.target.spec.name,
      kind: this.kind,
      result: state.result,
      changed,
      outcome,
      startupNoise: this.kind === 'readiness' && !before && !outcome.ok,
    });
    this.attempt++;
    this.schedule(nextProbeDelay(this.kind, t, this.everSucceeded, this.attempt));
  }
}

export class ProbeManager {
  private readonly workers = new Map<string, ProbeWorker[]>();
  private readonly byPod = new Map<string, Set<string>>();

  constructor(
    readonly runtime: DockerRuntime,
    private readonly onReport: (change: ProbeChange) => void,
  ) {}

  report(change: ProbeChange): void {
    this.onReport(change);
  }

  hasStartupProbe(id: string): boolean {
    return !!this.workers.get(id)?.some((w) => w.kind === 'startup');
  }

  /** Readiness/startup as the status needs them; containers without probes are not listed. */
  status(id: string): ProbeStatus {
    const ws = this.workers.get(id);
    const st: ProbeStatus = {};
    for (const w of ws ?? []) {
      if (w.kind === 'readiness') st.ready = w.counter.result === true;
      if (w.kind === 'startup') st.started = w.counter.result === true;
    }
    return st;
  }

  statuses(ids: Iterable<string>): Map<string, ProbeStatus> {
    const out = new Map<string, ProbeStatus>();
    for (const id of ids) out.set(id, this.status(id));
    return out;
  }

  /** Makes the workers of a Pod match its running containers (new ones start probing, gone ones stop). */
  sync(podKey: string, targets: ProbeTarget[]): void {
    const want = new Set<string>();
    for (const t of targets) {
      const probes: [ProbeKind, Probe | undefined][] = [
        ['startup', t.spec.startupProbe],
        ['readiness', t.spec.readinessProbe],
        ['liveness', t.spec.livenessProbe],
      ];
      if (!probes.some(([, p]) => p)) continue;
      want.add(t.id);
      const existing = this.workers.get(t.id);
      if (existing) {
        for (const w of existing) w.target = t;
        continue;
      }
      const ws = probes.filter(([, p]) => p).map(([kind, p]) => new ProbeWorker(this, podKey, kind, p!, t));
      this.workers.set(t.id, ws);
      for (const w of ws) w.start();
    }
    const ids = this.byPod.get(podKey) ?? new Set<string>();
    for (const id of ids) if (!want.has(id)) this.drop(id);
    if (want.size) this.byPod.set(podKey, want);
    else this.byPod.delete(podKey);
  }

  private drop(id: string): void {
    for (const w of this.workers.get(id) ?? []) w.stop();
    this.workers.delete(id);
  }

  removePod(podKey: string): void {
    for (const id of this.byPod.get(podKey) ?? []) this.drop(id);
    this.byPod.delete(podKey);
  }

  stop(): void {
    for (const id of [...this.workers.keys()]) this.drop(id);
    this.byPod.clear();
  }
}
