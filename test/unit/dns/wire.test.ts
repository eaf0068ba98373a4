import test from 'ava';
import dnsPacket from 'dns-packet';
import type { Answer } from 'dns-packet';
import { buildResponse, emptyResponse, encodeName, parseQuery, patchCached, queryName, relayResponse, scanResponse, type ParsedQuery } from '../../../src/dns/wire.js';

function query(name: string, type: dnsPacket.RecordType = 'A', extra: Partial<dnsPacket.Packet> = {}): Buffer {
  return dnsPacket.encode({ type: 'query', id: 0x1234, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }], ...extra });
}
function ednsQuery(name: string, udpPayloadSize: number, opts: { version?: number; dnssec?: boolean } = {}): Buffer {
  return query(name, 'A', {
    additionals: [{ name: '.', type: 'OPT', udpPayloadSize, extendedRcode: 0, ednsVersion: opts.version ?? 0, flags: opts.dnssec ? dnsPacket.DNSSEC_OK : 0, flag_do: false, options: [] } as Answer],
  });
}
function parsed(msg: Buffer): ParsedQuery {
  const r = parseQuery(msg);
  if (!r.ok) throw new Error(`not ok: ${JSON.stringify(r)}`);
  return r.q;
}
type Decoded = Omit<ReturnType<typeof dnsPacket.decode>, 'answers'> & { answers?: { name: string; type: string; data: any }[] };
const decode = (m: Buffer) => dnsPacket.decode(m) as unknown as Decoded;
function rcodeOf(buf: Buffer): number {
  return buf[3] & 0xf;
}

test('parses a plain query: id, type, class, lower-cased name key', (t) => {
  const q = parsed(query('Web.Default.SVC.cluster.local'));
  t.is(q.id, 0x1234);
  t.is(q.qtype, 1);
  t.is(q.qclass, 1);
  t.is(q.edns, undefined);
  t.is(queryName(q), 'web.default.svc.cluster.local');
  t.is(q.wireName, parsed(query('web.default.svc.cluster.local')).wireName);
  t.is(queryName(parsed(query('.'))), '');
});

test('parses EDNS: payload size clamped to [512, 1232], DO bit', (t) => {
  t.deepEqual(parsed(ednsQuery('a.b', 1232)).edns, { udpSize: 1232, version: 0, dnssecOK: false });
  t.is(parsed(ednsQuery('a.b', 100)).edns?.udpSize, 512);
  t.is(parsed(ednsQuery('a.b', 4096)).edns?.udpSize, 1232);
  t.true(parsed(ednsQuery('a.b', 1232, { dnssec: true })).edns?.dnssecOK);
});

test('drops responses and runts without answering', (t) => {
  const resp = dnsPacket.encode({ type: 'response', id: 1, questions: [{ name: 'a', type: 'A' }] });
  t.deepEqual(parseQuery(resp), { ok: false, drop: true });
  t.deepEqual(parseQuery(Buffer.alloc(11)), { ok: false, drop: true });
});

test('FORMERR for QDCOUNT != 1, answers in a query, bad or truncated names', (t) => {
  const none = dnsPacket.encode({ type: 'query', id: 7, questions: [] });
  const two = dnsPacket.encode({ type: 'query', id: 7, questions: [{ name: 'a', type: 'A' }, { name: 'b', type: 'A' }] });
  const withAnswer = dnsPacket.encode({ type: 'query', id: 7, questions: [{ name: 'a', type: 'A' }], answers: [{ name: 'a', type: 'A', data: '1.2.3.4' }] });
  for (const m of [none, two, withAnswer]) {
    const r = parseQuery(m);
    t.false(r.ok);
    t.true(!r.ok && 'rcode' in r && r.rcode === 1 && r.id === 7 && r.questionEnd === 0);
  }
  const q = query('abc.example');
  const cut = q.subarray(0, 16);
  t.like(parseQuery(cut), { ok: false, rcode: 1 });
  const ptr = Buffer.from(q);
  ptr[12] = 0xc0; // a compression pointer in the question
  t.like(parseQuery(ptr), { ok: false, rcode: 1 });
  const opt = query('a.b', 'OPT');
  t.like(parseQuery(opt), { ok: false, rcode: 1 });
});

test('REFUSED for names with bytes that have no unambiguous dotted form', (t) => {
  const q = Buffer.from(query('abc.example'));
  q[14] = 0x2e; // a '.' inside the first label
  t.like(parseQuery(q), { ok: false, rcode: 5 });
  q[14] = 0x20;
  t.like(parseQuery(q), { ok: false, rcode: 5 });
});

test('NOTIMP for opcodes other than QUERY; BADVERS for EDNS versions other than 0', (t) => {
  const q = Buffer.from(query('a.b'));
  q[2] |= 2 << 3; // opcode STATUS
  t.like(parseQuery(q), { ok: false, rcode: 4 });
  const r = parseQuery(ednsQuery('a.b', 1232, { version: 1 }));
  t.like(r, { ok: false, rcode: 16 });
  if (!r.ok && 'rcode' in r) {
    const out = emptyResponse(ednsQuery('a.b', 1232, { version: 1 }), r.id, r.flags, r.questionEnd, r.rcode, r.edns);
    const dec = dnsPacket.decode(out);
    const opt = dec.additionals?.find((a) => a.type === 'OPT');
    t.is(rcodeOf(out), 0);
    t.is(opt && 'extendedRcode' in opt ? opt.extendedRcode : -1, 1);
  }
});

test('two OPT records are a FORMERR', (t) => {
  const o = { name: '.', type: 'OPT', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] } as Answer;
  t.like(parseQuery(query('a.b', 'A', { additionals: [o, o] })), { ok: false, rcode: 1 });
});

test('buildResponse echoes the question verbatim, sets QR/AA/RA, copies RD and the rcode', (t) => {
  const msg = query('Web.Default.svc.cluster.local');
  const q = parsed(msg);
  const out = buildResponse(msg, q, { rcode: 0, authoritative: true, answers: [{ name: 'web.default.svc.cluster.local', type: 'A', ttl: 5, data: '10.96.0.20' }], authorities: [] }, 512);
  const d = decode(out);
  t.is(d.id, 0x1234);
  t.true(d.flag_qr && d.flag_aa && d.flag_rd && d.flag_ra);
  t.false(d.flag_tc);
  t.is(d.questions?.[0].name, 'Web.Default.svc.cluster.local');
  t.is(d.answers?.[0].data, '10.96.0.20');
  t.is(d.additionals?.length, 0);
  const nx = buildResponse(msg, q, { rcode: 3, authoritative: true, answers: [], authorities: [] }, 512);
  t.is(rcodeOf(nx), 3);
});

test('buildResponse adds an OPT when the query had one, echoing DO', (t) => {
  const msg = ednsQuery('a.b', 4096, { dnssec: true });
  const out = buildResponse(msg, parsed(msg), { rcode: 0, authoritative: true, answers: [], authorities: [] }, 4096);
  const opt = dnsPacket.decode(out).additionals?.[0];
  t.is(opt?.type, 'OPT');
  t.true(opt !== undefined && 'udpPayloadSize' in opt && opt.udpPayloadSize === 1232 && opt.flag_do);
});

test('answers larger than the limit are truncated: TC set, no records, question kept', (t) => {
  const msg = query('db.default.svc.cluster.local');
  const q = parsed(msg);
  const answers: Answer[] = Array.from({ length: 100 }, (_, i) => ({ name: 'db.default.svc.cluster.local', type: 'A', ttl: 5, data: `10.244.0.${i + 1}` }));
  const udp = buildResponse(msg, q, { rcode: 0, authoritative: true, answers, authorities: [] }, 512);
  const d = decode(udp);
  t.true(d.flag_tc);
  t.is(d.answers?.length, 0);
  t.is(d.questions?.[0].name, 'db.default.svc.cluster.local');
  t.true(udp.length <= 512);
  const full = buildResponse(msg, q, { rcode: 0, authoritative: true, answers, authorities: [] }, 65535);
  const f = decode(full);
  t.false(f.flag_tc);
  t.is(f.answers?.length, 100);
});

test('over TCP an answer beyond 64 KB keeps as many records as fit instead of truncating to nothing', (t) => {
  const msg = query('huge.default.svc.cluster.local');
  const answers: Answer[] = Array.from({ length: 3000 }, (_, i) => ({ name: 'huge.default.svc.cluster.local', type: 'A', ttl: 5, data: `10.244.${i >> 8}.${i & 255}` }));
  const out = buildResponse(msg, parsed(msg), { rcode: 0, authoritative: true, answers, authorities: [] }, 65535);
  t.true(out.length <= 65535);
  const d = decode(out);
  t.false(d.flag_tc);
  t.true((d.answers?.length ?? 0) > 1000 && (d.answers?.length ?? 0) < 3000);
});

test('patchCached re-uses a response for another ID, RD bit and casing of the same question', (t) => {
  const m1 = query('web.default.svc.cluster.local');
  const cached = buildResponse(m1, parsed(m1), { rcode: 0, authoritative: true, answers: [{ name: 'web.default.svc.cluster.local', type: 'A', ttl: 5, data: '10.96.0.20' }], authorities: [] }, 512);
  const m2 = dnsPacket.encode({ type: 'query', id: 0xbeef, flags: 0, questions: [{ name: 'WEB.default.SVC.cluster.local', type: 'A' }] });
  const out = patchCached(cached, m2, parsed(m2));
  const d = decode(out);
  t.is(d.id, 0xbeef);
  t.false(d.flag_rd);
  t.is(d.questions?.[0].name, 'WEB.default.SVC.cluster.local');
  t.is(d.answers?.[0].data, '10.96.0.20');
  // the cached copy itself is untouched
  t.is(dnsPacket.decode(cached).id, 0x1234);
});

test('scanResponse finds TTLs and the negative-caching TTL; relayResponse adapts an upstream answer', (t) => {
  const up = dnsPacket.encode({
    type: 'response',
    id: 0,
    flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.AUTHENTIC_DATA,
    questions: [{ name: 'api.stripe.com', type: 'A' }],
    answers: [
      { name: 'api.stripe.com', type: 'A', ttl: 300, data: '127.0.0.7' },
      { name: 'api.stripe.com', type: 'A', ttl: 60, data: '127.0.0.8' },
    ],
  });
  const qEnd = 12 + encodeName('api.stripe.com').length + 4;
  const s = scanResponse(up, qEnd);
  t.truthy(s);
  t.is(s?.minTTL, 60);
  t.is(s?.ttlOffsets.length, 2);
  const neg = dnsPacket.encode({
    type: 'response',
    id: 0,
    flags: 3,
    questions: [{ name: 'nope.example', type: 'A' }],
    authorities: [{ name: 'example', type: 'SOA', ttl: 900, data: { mname: 'a', rname: 'b', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 20 } }],
  });
  t.is(scanResponse(neg, 12 + encodeName('nope.example').length + 4)?.minTTL, 20);
  t.is(scanResponse(up.subarray(0, up.length - 3), qEnd), undefined);

  const client = ednsQuery('API.stripe.com', 1232);
  const out = relayResponse(up, client, parsed(client), 1232);
  const d = decode(out);
  t.is(d.id, 0x1234);
  t.is(d.questions?.[0].name, 'API.stripe.com');
  t.deepEqual(d.answers?.map((a) => a.data), ['127.0.0.7', '127.0.0.8']);
  t.false(d.flag_ad);
  t.false(d.flag_aa);
  t.is(d.additionals?.[0].type, 'OPT');
});

test('encodeName round-trips and rejects over-long labels', (t) => {
  t.deepEqual(encodeName('a.bc'), Buffer.from([1, 0x61, 2, 0x62, 0x63, 0]));
  t.deepEqual(encodeName(''), Buffer.from([0]));
  t.throws(() => encodeName(`${'x'.repeat(64)}.com`));
});

test('parseQuery never throws on random or mutated input', (t) => {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const base = ednsQuery('web.default.svc.cluster.local', 1232);
  let answered = 0;
  for (let i = 0; i < 20_000; i++) {
    let buf: Buffer;
    if (i % 2) {
      buf = Buffer.alloc(Math.floor(rnd() * 80));
      for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rnd() * 256);
    } else {
      buf = Buffer.from(base.subarray(0, Math.max(0, base.length - Math.floor(rnd() * 4))));
      for (let k = 0; k < 3; k++) buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256);
    }
    const r = parseQuery(buf);
    if (!r.ok && 'rcode' in r) {
      // every error answer must itself be well-formed
      const out = emptyResponse(buf, r.id, r.flags, r.questionEnd, r.rcode, r.edns);
      dnsPacket.decode(out);
      answered++;
    }
  }
  t.true(answered > 0);
});
