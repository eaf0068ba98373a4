import test from 'ava';
import { IPAllocator, OffsetAllocator, PortAllocator, RangeFullError } from '../../../src/services/allocators.js';
import { LBPool } from '../../../src/services/loadbalancer.js';
import type { Service } from '../../../src/api/types.js';

/** A deterministic "random" source: always the start of the band. */
const zero = () => 0;

test('ClusterIP range skips network and broadcast, dynamic allocation prefers the upper band', (t) => {
  const a = new IPAllocator('10.96.0.0/24', { random: zero });
  t.false(a.contains('10.96.0.0'));
  t.false(a.contains('10.96.0.255'));
  t.true(a.contains('10.96.0.1'));
  t.true(a.contains('10.96.0.254'));
  // 254 usable addresses -> a static band of 16 (.1-.16); dynamic starts above it.
  t.is(a.allocateNext('u1'), '10.96.0.17');
  t.is(a.allocateNext('u2'), '10.96.0.18');
  t.is(a.used, 2);
});

test('dynamic allocation uses the static band only once the upper band is full', (t) => {
  const a = new IPAllocator('10.0.0.0/27', { random: zero }); // 30 usable, band 16
  const got = new Set<string>();
  for (let i = 0; i < 30; i++) got.add(a.allocateNext(`u${i}`));
  t.is(got.size, 30);
  t.throws(() => a.allocateNext('late'), { instanceOf: RangeFullError });
});

test('exhaustion, then release frees exactly one address', (t) => {
  const a = new IPAllocator('10.1.0.0/29'); // .1-.6
  const ips = Array.from({ length: 6 }, (_, i) => a.allocateNext(`u${i}`));
  t.is(new Set(ips).size, 6);
  t.is(a.free, 0);
  const err = t.throws(() => a.allocateNext('x'));
  t.regex(err.message, /range is full \(10\.1\.0\.0\/29\)/);
  t.true(a.release(ips[3], 'u3'));
  t.is(a.allocateNext('x'), ips[3]);
});

test('explicit allocation: free, taken, out of range, idempotent for the same owner', (t) => {
  const a = new IPAllocator('10.96.0.0/12');
  t.deepEqual(a.allocate('10.96.0.5', 'a'), { ok: true });
  t.deepEqual(a.allocate('10.96.0.5', 'a'), { ok: true });
  t.deepEqual(a.allocate('10.96.0.5', 'b'), { ok: false, reason: 'allocated', owner: 'a' });
  t.deepEqual(a.allocate('1.2.3.4', 'b'), { ok: false, reason: 'out-of-range' });
  t.deepEqual(a.allocate('10.96.0.0', 'b'), { ok: false, reason: 'out-of-range' });
  t.deepEqual(a.allocate('10.111.255.255', 'b'), { ok: false, reason: 'out-of-range' });
  t.deepEqual(a.allocate('10.111.255.254', 'b'), { ok: true });
});

test('a release by another owner frees nothing', (t) => {
  const a = new IPAllocator('10.96.0.0/24');
  a.allocate('10.96.0.7', 'a');
  t.false(a.release('10.96.0.7', 'b'));
  t.is(a.ownerOf('10.96.0.7'), 'a');
  t.true(a.release('10.96.0.7', 'a'));
  t.is(a.ownerOf('10.96.0.7'), undefined);
});

test('reserved addresses: only their key may take them, dynamic allocation never does', (t) => {
  const a = new IPAllocator('10.0.0.0/29', { random: zero }); // .1-.6
  a.reserve('10.0.0.1', 'default/kubernetes');
  a.reserve('10.0.0.2', 'kube-system/kube-dns');
  t.deepEqual(a.allocate('10.0.0.2', 'u', 'default/x'), { ok: false, reason: 'reserved', owner: 'kube-system/kube-dns' });
  t.deepEqual(a.allocate('10.0.0.2', 'dns-uid', 'kube-system/kube-dns'), { ok: true });
  const dyn = [a.allocateNext('1'), a.allocateNext('2'), a.allocateNext('3'), a.allocateNext('4')];
  t.false(dyn.includes('10.0.0.1'));
  t.false(dyn.includes('10.0.0.2'));
  t.throws(() => a.allocateNext('5'), { instanceOf: RangeFullError });
});

test('a service CIDR larger than /12 is refused', (t) => {
  t.throws(() => new IPAllocator('10.0.0.0/8'), { message: /too large/ });
  t.notThrows(() => new IPAllocator('10.0.0.0/8', { maxPrefix: 8 }));
});

test('node ports: range, explicit, taken, exhaustion', (t) => {
  const p = new PortAllocator(30000, 32767, { random: zero });
  t.is(p.range, '30000-32767');
  // 2768 ports / 32 = 86 -> the band is 30000-30085, dynamic starts at 30086.
  t.is(p.allocateNext('a'), 30086);
  t.deepEqual(p.allocate(30007, 'b'), { ok: true });
  t.deepEqual(p.allocate(30007, 'c'), { ok: false, reason: 'allocated', owner: 'b' });
  t.deepEqual(p.allocate(40000, 'c'), { ok: false, reason: 'out-of-range' });
  t.deepEqual(p.allocate(29999, 'c'), { ok: false, reason: 'out-of-range' });
  const small = new PortAllocator(100, 102);
  small.allocateNext('1');
  small.allocateNext('2');
  small.allocateNext('3');
  t.throws(() => small.allocateNext('4'), { message: /range is full \(100-102\)/ });
  t.throws(() => new PortAllocator(0, 10));
  t.throws(() => new PortAllocator(10, 5));
});

test('random start: allocations spread but never collide', (t) => {
  let seed = 1;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const o = new OffsetAllocator(1000, { staticBand: 50, random: rnd });
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) seen.add(o.allocateNext(String(i)));
  t.is(seen.size, 1000);
  t.is(o.free, 0);
});

function lbService(name: string, uid: string, created: string, opts: { ip?: string; lbIP?: string } = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', uid, creationTimestamp: created },
    spec: { type: 'LoadBalancer', ports: [{ port: 80 }], ...(opts.lbIP ? { loadBalancerIP: opts.lbIP } : {}) },
    ...(opts.ip ? { status: { loadBalancer: { ingress: [{ ip: opts.ip }] } } } : {}),
  };
}

test('LB pool: one address per Service, loadBalancerIP honoured when in the pool and free', (t) => {
  const pool = new LBPool('10.97.50.0/29', { random: zero });
  const a = pool.assign(lbService('a', 'ua', '1'));
  t.true(a.ok);
  t.deepEqual(pool.assign(lbService('a', 'ua', '1')), a, 'stable for the same Service');
  t.deepEqual(pool.assign(lbService('b', 'ub', '2', { lbIP: '10.97.50.5' })), { ok: true, ip: '10.97.50.5' });
  const taken = pool.assign(lbService('c', 'uc', '3', { lbIP: '10.97.50.5' }));
  t.false(taken.ok);
  t.regex((taken as { message: string }).message, /already assigned/);
  const outside = pool.assign(lbService('c', 'uc', '3', { lbIP: '10.0.0.1' }));
  t.regex((outside as { message: string }).message, /not in the load balancer pool 10\.97\.50\.0\/29/);
  t.true(pool.release('ub'));
  t.deepEqual(pool.assign(lbService('c', 'uc', '3', { lbIP: '10.97.50.5' })), { ok: true, ip: '10.97.50.5' });
});

test('LB pool: rebuilt from status, the older Service keeps a contested address', (t) => {
  const pool = new LBPool('10.97.50.0/29', { random: zero });
  const problems = pool.rebuild([lbService('new', 'un', '2024-02-01T00:00:00Z', { ip: '10.97.50.3' }), lbService('old', 'uo', '2024-01-01T00:00:00Z', { ip: '10.97.50.3' })]);
  t.is(problems.length, 1);
  t.regex(problems[0], /default\/new.*10\.97\.50\.3/);
  t.is(pool.held('uo'), '10.97.50.3');
  const again = pool.assign(lbService('new', 'un', '2024-02-01T00:00:00Z', { ip: '10.97.50.3' }));
  t.true(again.ok);
  t.not((again as { ip: string }).ip, '10.97.50.3');
});

test('LB pool: exhaustion gives a clear message', (t) => {
  const pool = new LBPool('10.97.50.0/30'); // .1 and .2
  t.true(pool.assign(lbService('a', 'a', '1')).ok);
  t.true(pool.assign(lbService('b', 'b', '1')).ok);
  const c = pool.assign(lbService('c', 'c', '1'));
  t.deepEqual(c, { ok: false, message: 'no free address left in the load balancer pool 10.97.50.0/30' });
});
