// The prober's bookkeeping (pkg/kubelet/prober/worker.go), pure: a result only changes after
// successThreshold successes or failureThreshold failures in a row; readiness starts as failure,
// liveness as success, startup as unknown. Plus the small decisions probes need: ports by name, the
// URL of an httpGet probe and the schedule of the next run.

import type { Container, IntOrString, Probe } from '../api/types.js';

export type ProbeKind = 'readiness' | 'liveness' | 'startup';

export interface ProbeCounter {
  /** The published result: undefined = unknown. */
  result?: boolean;
  lastRaw?: boolean;
  run: number;
}

export function initialCounter(kind: ProbeKind): ProbeCounter {
  return { result: kind === 'readiness' ? false : kind === 'liveness' ? true : undefined, run: 0 };
}

/** Applies one probe outcome; `changed` is true when the published result flipped. */
export function recordProbe(state: ProbeCounter, ok: boolean, probe: Probe, kind: ProbeKind): { state: ProbeCounter; changed: boolean } {
  const run = state.lastRaw === ok ? state.run + 1 : 1;
  const successThreshold = kind === 'readiness' ? Math.max(1, probe.successThreshold ?? 1) : 1;
  const failureThreshold = Math.max(1, probe.failureThreshold ?? 3);
  const next: ProbeCounter = { result: state.result, lastRaw: ok, run };
  if ((ok && run >= successThreshold) || (!ok && run >= failureThreshold)) next.result = ok;
  // After a liveness/startup failure the container is restarted: counting starts over.
  if (!ok && next.result === false && kind !== 'readiness' && state.result !== false) next.run = 0;
  return { state: next, changed: next.result !== state.result };
}

/** A probe's port: a number, or the name of one of the container's ports. */
export function resolvePort(port: IntOrString, container: Container): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const p = container.ports?.find((x) => x.name === port);
  if (!p) throw new Error(`unable to find port ${JSON.stringify(port)} in container ${container.name}`);
  return p.containerPort;
}

export function httpProbeURL(probe: NonNullable<Probe['httpGet']>, container: Container, podIP: string): URL {
  const port = resolvePort(probe.port, container);
  const host = probe.host || podIP;
  const scheme = (probe.scheme ?? 'HTTP').toLowerCase();
  let path = probe.path || '/';
  if (!path.startsWith('/')) path = `/${path}`;
  return new URL(`${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${path}`);
}

/** The kubelet's reading of an HTTP answer: 200-399 is success. */
export function httpStatusOk(code: number): boolean {
  return code >= 200 && code < 400;
}

export interface ProbeTiming {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
}

export function probeTiming(p: Probe): ProbeTiming {
  return {
    initialDelayMs: Math.max(0, (p.initialDelaySeconds ?? 0) * 1000),
    periodMs: Math.max(1, p.periodSeconds ?? 10) * 1000,
    timeoutMs: Math.max(1, p.timeoutSeconds ?? 1) * 1000,
  };
}

/**
 * When to probe next. Until a readiness probe first succeeds in this container's life it is retried
 * quickly (50 ms doubling up to the period), so a Pod whose server needs a moment turns Ready in
 * milliseconds rather than after a whole period. After that, every period as the kubelet does.
 */
export function nextProbeDelay(kind: ProbeKind, timing: ProbeTiming, everSucceeded: boolean, attempt: number): number {
  if (kind === 'readiness' && !everSucceeded) return Math.min(timing.periodMs, 50 * 2 ** Math.min(attempt, 10));
  return timing.periodMs;
}
