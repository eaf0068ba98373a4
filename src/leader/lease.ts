// Leader election over a coordination.k8s.io/v1 Lease, decided by a pure function as client-go's
// leaderelection does, with one difference that matters across hosts: expiry is judged only by this
// server's own monotonic clock since it last saw the Lease change (its resourceVersion, i.e. the
// store's revision), never by comparing another server's renewTime with our wall clock — so clock
// skew between servers cannot make two leaders. renewTime/acquireTime are written for people.

import type { Lease } from '../api/types.js';

export type { Lease };

export interface LeaseTimings {
  /** How long followers wait, after they last saw the Lease change, before taking it. */
  leaseDurationMs: number;
  /** How long a leader keeps leading without a successful renewal before it steps down. */
  renewDeadlineMs: number;
  /** How often every server tries to acquire or renew. */
  retryPeriodMs: number;
}

/** Better than client-go's 15 s / 10 s / 2 s: a dead leader is replaced in about 3-4 s. */
export const DEFAULT_TIMINGS: LeaseTimings = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };

/** What this server last saw of the Lease, by its own clock. */
export interface Observation {
  resourceVersion: string;
  holder: string;
  /** performance.now() when this resourceVersion was first seen. */
  at: number;
}

export type Step =
  | { action: 'create'; lease: Lease }
  | { action: 'update'; lease: Lease; acquiring: boolean }
  | { action: 'wait'; holder: string; expiresInMs: number };

/** Rejects timings that could let two servers lead at once. */
export function checkTimings(t: LeaseTimings): string | undefined {
  if (!(t.retryPeriodMs > 0)) return 'the retry period must be positive';
  if (!(t.renewDeadlineMs > t.retryPeriodMs)) return 'the renew deadline must be longer than the retry period';
  if (!(t.leaseDurationMs > t.renewDeadlineMs)) return 'the lease duration must be longer than the renew deadline (a leader that cannot renew must stop before another may start)';
  return undefined;
}

/** The observation after reading `current` at `now`: unchanged rv keeps the old time. */
export function observe(prev: Observation | undefined, current: Lease | undefined, now: number): Observation | undefined {
  if (!current) return undefined;
  const rv = current.metadata.resourceVersion ?? '';
  if (prev && prev.resourceVersion === rv) return prev;
  return { resourceVersion: rv, holder: current.spec?.holderIdentity ?? '', at: now };
}

/** The next step for `me`, given the Lease as read (undefined: none yet). Pure. */
export function decide(current: Lease | undefined, seen: Observation | undefined, me: string, now: number, wallNow: string, t: LeaseTimings, ref: { namespace: string; name: string }): Step {
  const durationSeconds = Math.ceil(t.leaseDurationMs / 1000);
  if (!current) {
    return {
      action: 'create',
      lease: {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { namespace: ref.namespace, name: ref.name },
        spec: { holderIdentity: me, leaseDurationSeconds: durationSeconds, acquireTime: wallNow, renewTime: wallNow, leaseTransitions: 0 },
      },
    };
  }
  const spec = current.spec ?? {};
  const holder = spec.holderIdentity ?? '';
  if (holder === me) {
    return { action: 'update', acquiring: false, lease: { ...current, spec: { ...spec, leaseDurationSeconds: durationSeconds, renewTime: wallNow } } };
  }
  // The holder's own duration counts (a server with longer settings is not cut short), by our clock.
  const durationMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
  const expiresInMs = holder === '' ? 0 : (seen?.at ?? now) + durationMs - now;
  if (expiresInMs > 0) return { action: 'wait', holder, expiresInMs };
  return {
    action: 'update',
    acquiring: true,
    lease: { ...current, spec: { ...spec, holderIdentity: me, leaseDurationSeconds: durationSeconds, acquireTime: wallNow, renewTime: wallNow, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } },
  };
}

/** metav1.MicroTime: every renewal differs, so every renewal is a new resourceVersion followers see. */
export function microTime(date: Date = new Date()): string {
  return date.toISOString().replace(/Z$/, '000Z');
}

/** The Lease as the leader leaves it on a clean shutdown, so a follower takes over at its next try. */
export function released(current: Lease, wallNow: string): Lease {
  return { ...current, spec: { ...current.spec, holderIdentity: '', renewTime: wallNow, leaseDurationSeconds: 1 } };
}
