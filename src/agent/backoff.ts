// The kubelet's restart back-off: the first restart of a crashed container is immediate, then 10 s
// doubling up to 5 min; a container that ran for 10 min before it died starts a fresh streak. Image
// pulls back off the same way. Pure: callers keep the entries and pass the clock in.

export interface BackoffConfig {
  baseMs: number;
  maxMs: number;
  /** A container that ran at least this long before it exited restarts at once again. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffConfig = { baseMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 };

/** KUBELITE_BACKOFF_BASE_MS / KUBELITE_BACKOFF_MAX_MS shorten the kubelet defaults (tests, demos). */
export function backoffFromEnv(env: NodeJS.ProcessEnv = process.env): BackoffConfig {
  const num = (v: string | undefined, dflt: number, min: number) => {
    const n = Number(v);
    return v !== undefined && v !== '' && Number.isFinite(n) && n >= min ? Math.floor(n) : dflt;
  };
  const baseMs = num(env.KUBELITE_BACKOFF_BASE_MS, DEFAULT_BACKOFF.baseMs, 1);
  const maxMs = Math.max(baseMs, num(env.KUBELITE_BACKOFF_MAX_MS, env.KUBELITE_BACKOFF_BASE_MS ? baseMs * 30 : DEFAULT_BACKOFF.maxMs, 1));
  return { baseMs, maxMs, resetAfterMs: DEFAULT_BACKOFF.resetAfterMs };
}

export interface BackoffEntry {
  /** Restarts (or failed pulls) so far in this streak. */
  failures: number;
  /** When the last failure happened (ms since epoch). */
  lastFailureAt?: number;
}

/** The wait before retry number `failures + 1`: 0, base, 2·base, ... up to max. */
export function delayFor(failures: number, cfg: BackoffConfig): number {
  if (failures <= 0) return 0;
  return Math.min(cfg.baseMs * 2 ** Math.min(failures - 1, 30), cfg.maxMs);
}

export interface RestartDecision {
  /** When the restart may happen (ms since epoch). */
  restartAt: number;
  delayMs: number;
  /** The entry to keep once the restart is done. */
  next: BackoffEntry;
}

/** For a terminated container that should run again: when, and the back-off state after restarting it. */
export function restartDecision(
  entry: BackoffEntry | undefined,
  last: { startedAt?: string; finishedAt?: string },
  now: number,
  cfg: BackoffConfig,
): RestartDecision {
  const started = last.startedAt ? Date.parse(last.startedAt) : NaN;
  const finished = last.finishedAt ? Date.parse(last.finishedAt) : NaN;
  let failures = entry?.failures ?? 0;
  if (Number.isFinite(started) && Number.isFinite(finished) && finished - started >= cfg.resetAfterMs) failures = 0;
  const delayMs = delayFor(failures, cfg);
  const base = Number.isFinite(finished) ? finished : (entry?.lastFailureAt ?? now);
  return { restartAt: base + delayMs, delayMs, next: { failures: failures + 1, lastFailureAt: now } };
}

/** Drops the entries whose last failure was at or after `since` (failures that were not the Pod's own); returns how many. */
export function forgiveSince(entries: Map<string, BackoffEntry>, since: number): number {
  let n = 0;
  for (const [name, e] of entries) {
    if (e.lastFailureAt !== undefined && e.lastFailureAt >= since) {
      entries.delete(name);
      n++;
    }
  }
  return n;
}

/** A failed pull: the entry after it and when the next attempt may run. */
export function pullFailed(entry: BackoffEntry | undefined, now: number): BackoffEntry {
  return { failures: (entry?.failures ?? 0) + 1, lastFailureAt: now };
}

/** When the next pull may run (ms since epoch); undefined when there is no back-off. */
export function pullRetryAt(entry: BackoffEntry | undefined, cfg: BackoffConfig): number | undefined {
  if (!entry || entry.failures <= 0 || entry.lastFailureAt === undefined) return undefined;
  return entry.lastFailureAt + delayFor(entry.failures, cfg);
}

/** Go's time.Duration.String() for whole milliseconds, as the kubelet prints back-off delays ("10s", "1m20s", "5m0s", "200ms"). */
export function goDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const totalS = ms / 1000;
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS - h * 3600) / 60);
  const s = totalS - h * 3600 - m * 60;
  const sText = Number.isInteger(s) ? `${s}s` : `${Number(s.toFixed(3))}s`;
  if (h > 0) return `${h}h${m}m${sText}`;
  if (m > 0) return `${m}m${sText}`;
  return sText;
}
