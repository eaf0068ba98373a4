// Leader election decisions: pure, with this server's monotonic clock only.

import test from 'ava';
import { checkTimings, decide, DEFAULT_TIMINGS, microTime, observe, released, type Lease } from '../../../src/leader/lease.js';

const ref = { namespace: 'kube-system', name: 'kubelite-leader' };
const T = DEFAULT_TIMINGS;
const lease = (holder: string, rv: string, extra: Partial<Lease['spec']> = {}): Lease => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { ...ref, resourceVersion: rv },
  spec: { holderIdentity: holder, leaseDurationSeconds: 3, leaseTransitions: 2, ...extra },
});

test('no Lease yet: create it, holding it', (t) => {
  const s = decide(undefined, undefined, 'me', 0, 'W', T, ref);
  t.is(s.action, 'create');
  t.like(s.action === 'create' ? s.lease : {}, { metadata: ref, spec: { holderIdentity: 'me', leaseDurationSeconds: 3, leaseTransitions: 0, renewTime: 'W' } });
});

test('the holder renews; a follower waits until the Lease has not changed for a whole duration, by its own clock', (t) => {
  const l = lease('other', '10', { renewTime: '2099-01-01T00:00:00.000000Z' });
  const renew = decide(lease('me', '10'), undefined, 'me', 0, 'W2', T, ref);
  t.like(renew, { action: 'update', acquiring: false, lease: { spec: { holderIdentity: 'me', renewTime: 'W2', leaseTransitions: 2 } } });
  // The renewTime (written by another clock, here far in the future) is never compared with ours.
  let seen = observe(undefined, l, 1000);
  t.like(decide(l, seen, 'me', 1000, 'W', T, ref), { action: 'wait', holder: 'other', expiresInMs: 3000 });
  t.like(decide(l, seen, 'me', 3999, 'W', T, ref), { action: 'wait', expiresInMs: 1 });
  // The holder renewed (new resourceVersion): the wait starts again.
  const renewed = lease('other', '11');
  seen = observe(seen, renewed, 3500);
  t.is(seen?.at, 3500);
  t.is(observe(seen, renewed, 9000), seen, 'the same rv keeps the first observation');
  t.like(decide(renewed, seen, 'me', 4000, 'W', T, ref), { action: 'wait', expiresInMs: 2500 });
  t.like(decide(renewed, seen, 'me', 6500, 'W', T, ref), { action: 'update', acquiring: true, lease: { metadata: { resourceVersion: '11' }, spec: { holderIdentity: 'me', acquireTime: 'W', leaseTransitions: 3 } } });
});

test('the holder\'s own duration counts; a released Lease is taken at once', (t) => {
  const long = lease('other', '5', { leaseDurationSeconds: 15 });
  const seen = observe(undefined, long, 0);
  t.like(decide(long, seen, 'me', 5000, 'W', T, ref), { action: 'wait', expiresInMs: 10_000 });
  const free = released(lease('other', '6'), 'W');
  t.is(free.spec?.holderIdentity, '');
  t.like(decide(free, observe(undefined, free, 0), 'me', 0, 'W', T, ref), { action: 'update', acquiring: true, lease: { spec: { holderIdentity: 'me', leaseTransitions: 3 } } });
});

test('timings that could let two servers lead at once are refused; renewals are unique to the microsecond', (t) => {
  t.is(checkTimings(DEFAULT_TIMINGS), undefined);
  t.regex(checkTimings({ leaseDurationMs: 2000, renewDeadlineMs: 2000, retryPeriodMs: 500 })!, /lease duration must be longer than the renew deadline/);
  t.regex(checkTimings({ leaseDurationMs: 3000, renewDeadlineMs: 400, retryPeriodMs: 500 })!, /renew deadline must be longer than the retry period/);
  t.regex(checkTimings({ leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 0 })!, /retry period must be positive/);
  t.true(DEFAULT_TIMINGS.leaseDurationMs < 15_000 && DEFAULT_TIMINGS.retryPeriodMs < 2000, 'faster than client-go');
  t.is(microTime(new Date('2026-01-02T03:04:05.678Z')), '2026-01-02T03:04:05.678000Z');
});
