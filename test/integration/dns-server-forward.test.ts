// The forwarder against loopback stubs: fail-over, coalescing, the in-flight bound, the TTL cache,
// and answers that do not match the question. Never the host's resolver.

import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dnsPacket from 'dns-packet';
import { Forwarder, readResolvConf, type ForwardResult } from '../../src/dns/forward.js';
import { startDNSStub, type DNSStub } from '../helpers/dns-stub.js';

const A = 1;

function addrs(r: ForwardResult): string[] {
  if (!r.ok) return [];
  return (dnsPacket.decode(r.response).answers ?? []).map((a) => (a as { data: string }).data);
}
function ttls(r: ForwardResult): number[] {
  if (!r.ok) return [];
  return (dnsPacket.decode(r.response).answers ?? []).map((a) => (a as { ttl: number }).ttl);
}
async function stub(t: import('ava').ExecutionContext, opts: Parameters<typeof startDNSStub>[0]): Promise<DNSStub> {
  const s = await startDNSStub(opts);
  t.teardown(() => s.close());
  return s;
}
function forwarder(t: import('ava').ExecutionContext, upstreams: string[], extra: Partial<ConstructorParameters<typeof Forwarder>[0]> = {}): Forwarder {
  const f = new Forwarder({ upstreams, ...extra });
  t.teardown(() => f.close());
  return f;
}

test('fails over to the next upstream when the first does not answer', async (t) => {
  const dead = await stub(t, { records: {}, silent: true });
  const good = await stub(t, { records: { 'api.stripe.com': { A: ['127.0.0.7'] } } });
  const f = forwarder(t, [dead.address, good.address]);
  const started = Date.now();
  const r = await f.query('api.stripe.com', A);
  t.deepEqual(addrs(r), ['127.0.0.7']);
  t.true(Date.now() - started < 1500);
  t.is(dead.udpQueries, 1);
});

test('asks the next upstream at once when one answers SERVFAIL or REFUSED', async (t) => {
  const broken = await stub(t, { records: {}, rcode: 'SERVFAIL' });
  const refusing = await stub(t, { records: {}, rcode: 'REFUSED' });
  const good = await stub(t, { records: { 'x.example': { A: ['127.0.0.9'] } } });
  const f = forwarder(t, [broken.address, refusing.address, good.address]);
  const started = Date.now();
  t.deepEqual(addrs(await f.query('x.example', A)), ['127.0.0.9']);
  t.true(Date.now() - started < 400);
  // with nobody better to ask, the SERVFAIL itself is the answer
  const only = forwarder(t, [broken.address]);
  const r = await only.query('y.example', A);
  t.true(r.ok && (r.response[3] & 0xf) === 2);
});

test('identical questions in flight are sent upstream once', async (t) => {
  const slow = await stub(t, { records: { 'same.example': { A: ['127.0.0.5'] } }, delayMs: 150 });
  const f = forwarder(t, [slow.address]);
  const all = await Promise.all(Array.from({ length: 20 }, () => f.query('Same.Example', A)));
  t.true(all.every((r) => addrs(r)[0] === '127.0.0.5'));
  t.is(slow.udpQueries, 1);
});

test('the number of distinct questions in flight is bounded', async (t) => {
  const dead = await stub(t, { records: {}, silent: true });
  const f = new Forwarder({ upstreams: [dead.address], maxInflight: 5 });
  const results = Array.from({ length: 10 }, (_, i) => f.query(`n${i}.example`, A));
  const early = await Promise.all(results.slice(5));
  t.true(early.every((r) => !r.ok && r.reason === 'overload'));
  t.is(f.inflightCount, 5);
  f.close();
  const rest = await Promise.all(results.slice(0, 5));
  t.true(rest.every((r) => !r.ok && r.reason === 'closed'));
});

test('answers are cached for their TTL, aged on the way out, then asked again', async (t) => {
  const up = await stub(t, { records: { 'short.example': { A: ['127.0.0.3'], ttl: 2 }, 'long.example': { A: ['127.0.0.4'], ttl: 300 } } });
  const f = forwarder(t, [up.address], { maxCacheTTL: 30 });
  const first = await f.query('short.example', A);
  t.deepEqual(ttls(first), [2]);
  t.false(first.ok && first.fromCache);
  await new Promise((r) => setTimeout(r, 1100));
  const second = await f.query('short.example', A);
  t.true(second.ok && second.fromCache);
  t.true(ttls(second)[0] <= 1);
  t.is(up.udpQueries, 1);
  await new Promise((r) => setTimeout(r, 1100));
  const third = await f.query('short.example', A);
  t.false(third.ok && third.fromCache);
  t.is(up.udpQueries, 2);
  // negative answers are cached too (SOA minimum 30 in the stub)
  await f.query('missing.example', A);
  const neg = await f.query('missing.example', A);
  t.true(neg.ok && neg.fromCache && (neg.response[3] & 0xf) === 3);
});

test('the cache is a bounded LRU', async (t) => {
  const up = await stub(t, { records: { 'a.example': { A: ['127.0.0.1'] }, 'b.example': { A: ['127.0.0.2'] }, 'c.example': { A: ['127.0.0.3'] } } });
  const f = forwarder(t, [up.address], { cacheSize: 2 });
  await f.query('a.example', A);
  await f.query('b.example', A);
  await f.query('a.example', A); // a is now the most recently used
  await f.query('c.example', A); // evicts b
  t.is(up.udpQueries, 3);
  const a = await f.query('a.example', A);
  t.true(a.ok && a.fromCache);
  const b = await f.query('b.example', A);
  t.false(b.ok && b.fromCache);
  t.is(up.udpQueries, 4);
});

test('an answer to another question is ignored and the query times out to a failure', async (t) => {
  const liar = await stub(t, { records: { 'x.example': { A: ['127.0.0.66'] }, 'xx.example': { A: ['127.0.0.66'] } }, wrongQuestion: true });
  const f = forwarder(t, [liar.address], { timeoutMs: 600, attemptTimeoutMs: 300 });
  const started = Date.now();
  const r = await f.query('x.example', A);
  t.deepEqual(r, { ok: false, reason: 'timeout' });
  t.true(Date.now() - started < 1000);
  t.true(f.stats.badResponses >= 1);
});

test('no upstreams: an immediate failure, never a hang', async (t) => {
  const f = forwarder(t, []);
  t.deepEqual(await f.query('x.example', A), { ok: false, reason: 'no-upstream' });
});

test('readResolvConf reads nameservers from a resolv.conf file', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resolv-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'resolv.conf');
  fs.writeFileSync(file, 'nameserver 192.0.2.1\nnameserver 127.0.0.53\nsearch example\n');
  t.deepEqual(readResolvConf(file), ['192.0.2.1', '127.0.0.53']);
  t.deepEqual(readResolvConf(path.join(dir, 'missing')), []);
});

test('stopping the server while answers are being forwarded neither throws nor leaks', async (t) => {
  const { DNSServer } = await import('../../src/dns/server.js');
  const { ClusterDNSIndex } = await import('../../src/dns/records.js');
  const dgram = await import('node:dgram');
  const slow = await stub(t, { records: { 'slow.example': { A: ['127.0.0.2'] } }, delayMs: 200 });
  const server = new DNSServer({ index: new ClusterDNSIndex(), domain: 'cluster.local', ttl: 5, listen: [{ address: '127.0.0.1', port: 0 }], upstreams: [slow.address] });
  await server.start();
  const c = dgram.createSocket('udp4');
  t.teardown(() => c.close());
  for (let i = 0; i < 5; i++) c.send(dnsPacket.encode({ type: 'query', id: i, questions: [{ name: `slow${i}.example`, type: 'A' }] }), server.addresses[0].port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 50));
  t.true(server.stats().forwarded >= 1);
  await server.stop();
  await new Promise((r) => setTimeout(r, 400));
  t.deepEqual(server.addresses, []);
  t.is(server.stats().errors, 0);
});
