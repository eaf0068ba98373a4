// The pages' live feed over a real registry and informers: hello and a snapshot of the namespace,
// then coalesced changes (and nothing from other namespaces), Events, counters every sample with only
// what changed, a failing counter source reported once, a page that stops reading dropped.

import test from 'ava';
import { R } from '../../../src/api/resources.js';
import type { Pod } from '../../../src/api/types.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { Registry } from '../../../src/server/registry.js';
import { InformerFactory } from '../../../src/client/informer.js';
import { silentLogger } from '../../../src/util/log.js';
import { StreamHub, type StreamSink } from '../../../src/ui/hub.js';
import type { EndpointCounter } from '../../../src/netfilter/counters.js';
import type { ServerMessage } from '../../../src/ui/wire.js';
import { pod } from './fixtures.js';

class Sink implements StreamSink {
  messages: ServerMessage[] = [];
  writableLength = 0;
  ended = false;
  private buf = '';
  private closers: (() => void)[] = [];
  /** Chunks may end anywhere (the snapshot is written object by object); events end with a blank line. */
  write(chunk: string): boolean {
    this.buf += chunk;
    for (let i = this.buf.indexOf('\n\n'); i >= 0; i = this.buf.indexOf('\n\n')) {
      const event = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      if (!event.startsWith('data: ') || event.includes('\n')) throw new Error(`not a one-line SSE event: ${event.slice(0, 80)}`);
      this.messages.push(JSON.parse(event.slice(6)));
    }
    return true;
  }
  end(): void {
    this.ended = true;
  }
  on(_e: 'close', fn: () => void): void {
    this.closers.push(fn);
  }
  close(): void {
    for (const f of this.closers) f();
  }
  of<T extends ServerMessage['t']>(t: T): Extract<ServerMessage, { t: T }>[] {
    return this.messages.filter((m) => m.t === t) as Extract<ServerMessage, { t: T }>[];
  }
}

async function until(fn: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function setup(counters?: () => Promise<EndpointCounter[]>) {
  const registry = new Registry(new MemoryStore());
  await registry.store.open();
  await registry.bootstrapNamespaces();
  await registry.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
  const informers = new InformerFactory(registry, silentLogger());
  const hub = new StreamHub({ informers, client: registry, logger: silentLogger(), clusterDomain: 'cluster.local', version: 'test', counters, flushMs: 5, sampleMs: 50 });
  await informers.start();
  return {
    registry,
    hub,
    async stop() {
      hub.stop();
      informers.stop();
      await registry.store.close();
    },
  };
}

const create = (registry: Registry, p: Pod) => registry.create(R.pods, { ...p, metadata: { ...p.metadata, uid: undefined, creationTimestamp: undefined, resourceVersion: undefined } } as Pod);

test('snapshot of the namespace, then its changes only', async (t) => {
  const s = await setup();
  t.teardown(() => s.stop());
  await create(s.registry, pod('before'));
  await create(s.registry, pod('elsewhere', { ns: 'other' }));
  const sink = new Sink();
  await s.hub.open(sink, 'default');
  t.like(sink.messages[0], { t: 'hello', namespace: 'default', clusterDomain: 'cluster.local', readOnly: true });
  const snap = sink.of('snapshot')[0];
  t.deepEqual(snap.objects.map((o) => `${o.kind}/${o.meta.name}`), ['Pod/before']);
  t.true(snap.namespaces.includes('other'));
  t.deepEqual(sink.of('counters')[0].status, { ok: false, reason: 'no counter source' });

  await create(s.registry, pod('after'));
  await create(s.registry, pod('elsewhere-2', { ns: 'other' }));
  await until(() => sink.of('changes').some((c) => c.put.some((o) => o.meta.name === 'after')), 'the new Pod');
  await s.registry.delete(R.pods, 'default', 'before', { gracePeriodSeconds: 0 });
  await until(() => sink.of('changes').some((c) => c.del.includes('Pod/default/before')), 'the deletion');
  const names = sink.of('changes').flatMap((c) => c.put.map((o) => o.meta.name));
  t.false(names.includes('elsewhere-2'), 'another namespace is not sent');
  // Events of the namespace follow (the registry records none here; write one).
  await s.registry.create(R.events, { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e1', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'after' }, reason: 'Started', message: 'ok', type: 'Normal', lastTimestamp: new Date().toISOString() });
  await until(() => sink.of('changes').some((c) => c.put.some((o) => o.kind === 'Event')), 'the Event');
  sink.close();
  t.is(s.hub.size, 0);
});

test('a large snapshot arrives as one event, written in pieces', async (t) => {
  const s = await setup();
  t.teardown(() => s.stop());
  for (let i = 0; i < 60; i++) await create(s.registry, pod(`p${i}`, { annotations: { note: 'x'.repeat(900) } }));
  const sink = new Sink();
  await s.hub.open(sink, 'default');
  t.is(sink.of('snapshot').length, 1);
  t.is(sink.of('snapshot')[0].objects.length, 60);
});

test('the newest Events of the namespace come with the snapshot (one list for all pages)', async (t) => {
  const s = await setup();
  t.teardown(() => s.stop());
  const ev = (ns: string, i: number) => ({ apiVersion: 'v1', kind: 'Event', metadata: { name: `e${i}`, namespace: ns }, involvedObject: { kind: 'Pod', name: 'p' }, reason: 'R', message: `m${i}`, type: 'Normal', lastTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() });
  for (let i = 0; i < 40; i++) await s.registry.create(R.events, ev('default', i));
  await s.registry.create(R.events, ev('other', 99));
  const a = new Sink();
  await s.hub.open(a, 'default');
  const events = a.of('snapshot')[0].objects.filter((o) => o.kind === 'Event').map((o) => o.meta.name);
  t.is(events.length, 30);
  t.is(events[0], 'e39', 'newest first');
  t.false(events.includes('e9'), 'older than the newest 30');
  const b = new Sink();
  await s.hub.open(b, '');
  t.is(b.of('snapshot')[0].objects.filter((o) => o.kind === 'Event').length, 31);
});

test('all namespaces with ""', async (t) => {
  const s = await setup();
  t.teardown(() => s.stop());
  await create(s.registry, pod('a'));
  await create(s.registry, pod('b', { ns: 'other' }));
  const sink = new Sink();
  await s.hub.open(sink, '');
  t.deepEqual(sink.of('snapshot')[0].objects.map((o) => o.meta.name).sort(), ['a', 'b']);
});

test('counters: a full sample first, then only changes; a failure is reported once and retried later', async (t) => {
  let packets = 1;
  let fail = false;
  const s = await setup(async () => {
    if (fail) throw new Error('iptables-save: not found');
    return [
      { namespace: 'default', service: 'web', port: 'http', protocol: 'TCP', endpoint: '10.0.0.1:80', packets, bytes: packets * 60 },
      { namespace: 'other', service: 'x', port: '', protocol: 'TCP', endpoint: '10.0.0.2:80', packets: 1, bytes: 60 },
    ];
  });
  t.teardown(() => s.stop());
  const sink = new Sink();
  await s.hub.open(sink, 'default');
  await until(() => sink.of('counters').some((c) => c.status.ok), 'a sample');
  const first = sink.of('counters').find((c) => c.status.ok)!;
  t.true(first.full);
  t.deepEqual(first.items, [['default', 'web', 'http', 'TCP', '10.0.0.1:80', 1, 60]]);
  packets = 5;
  await until(() => sink.of('counters').some((c) => c.items.some((i) => i[5] === 5)), 'the change');
  const later = sink.of('counters').filter((c) => c.status.ok && !c.full);
  t.true(later.every((c) => c.items.length <= 1));
  fail = true;
  await until(() => sink.of('counters').some((c) => !c.status.ok && /not found/.test(c.status.reason ?? '')), 'the failure');
  await new Promise((r) => setTimeout(r, 300));
  t.is(sink.of('counters').filter((c) => !c.status.ok && /not found/.test(c.status.reason ?? '')).length, 1, 'said once, then quiet until the retry');
});

test('a page that stops reading is dropped', async (t) => {
  const s = await setup();
  t.teardown(() => s.stop());
  const sink = new Sink();
  await s.hub.open(sink, 'default');
  sink.writableLength = 64 * 1024 * 1024;
  await create(s.registry, pod('x'));
  await until(() => sink.ended, 'the drop');
  t.is(s.hub.size, 0);
});
