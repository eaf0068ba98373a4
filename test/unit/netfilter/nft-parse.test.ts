// Reading nft's own listing back (a real `nft list table` of nft 1.0.6, see nft-fixtures.ts): it parses
// into exactly the state the renderer produced, so a periodic read-back of an undamaged table repairs
// nothing; the chain fingerprint; the per-endpoint counters; the mode decision and version parsing.

import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decideProxyMode } from '../../../src/netfilter/mode.js';
import { parseNftVersion, versionAtLeast, MIN_NFT_VERSION } from '../../../src/netfilter/nft.js';
import { parseNftEndpointCounters, readNftEndpointCounters } from '../../../src/netfilter/nft-counters.js';
import { chainsMatch, normalizeNftRule, parseNftChainList, parseNftDuration, parseNftTable } from '../../../src/netfilter/nft-parse.js';
import { NFT } from '../../../src/netfilter/nft-names.js';
import { renderNft } from '../../../src/netfilter/nft-render.js';
import { diffNft, isEmptyNftDiff } from '../../../src/netfilter/nft-script.js';
import { CFG, combinedModel } from './nft-fixtures.js';

const LISTING = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'golden', 'nftables', 'listing-nft-1.0.6.txt'), 'utf8');
const TABLE = 'kubelite-fix';

test('a real nft listing parses into the rendered state: nothing to repair', (t) => {
  const parsed = parseNftTable(LISTING, TABLE);
  t.truthy(parsed);
  const want = renderNft(combinedModel(), CFG).state;
  const d = diffNft(parsed!.state, want);
  t.true(isEmptyNftDiff(d), JSON.stringify(d));
  t.is(parsed!.comment, 'kubelite fixture');
  t.is(parsed!.sets.get(NFT.serviceIPs), 'type ipv4_addr . inet_proto . inet_service : verdict');
  t.is(parsed!.state.affinity.size, 2);
  for (const timeout of parsed!.state.affinity.values()) t.is(timeout, 10800, '"timeout 3h" read as seconds');
  t.is(parsed!.state.maps[NFT.serviceIPs].size, 7);
  t.deepEqual([...parsed!.state.hairpin].sort(), ['10.244.0.2', '10.244.0.5', '10.244.0.6', '10.244.0.7', '10.244.1.5']);
});

test('a damaged listing differs exactly where it was damaged', (t) => {
  const damaged = LISTING.replace(/^\t\tnumgen random mod 3 0 counter packets 0 bytes 0 meta l4proto tcp dnat to 10\.244\.0\.5:8080\n/m, '').replace(/10\.96\.0\.21 \. tcp \. 80 : goto \S+?,\s*/, '');
  t.not(damaged, LISTING);
  const d = diffNft(parseNftTable(damaged, TABLE)!.state, renderNft(combinedModel(), CFG).state);
  t.is(d.rewrite.length, 1);
  t.regex(d.rewrite[0], /^svc-[A-Z2-7]{8}-shop\/web\/tcp\/http$/);
  t.deepEqual(d.elements[NFT.serviceIPs].add, ['10.96.0.21 . tcp . 80']);
});

test('no such table in the listing: undefined', (t) => {
  t.is(parseNftTable(LISTING, 'kubelite-other'), undefined);
  t.is(parseNftChainList('table ip filter {\n\tchain INPUT {\n\t}\n}\n', TABLE), undefined);
});

test('the chain fingerprint: names and hooks of one table only', (t) => {
  const text = [
    'table ip nat {',
    '\tchain PREROUTING {',
    '\t\ttype nat hook prerouting priority dstnat; policy accept;',
    '\t}',
    '}',
    `table ip ${TABLE} {`,
    '\tchain services {',
    '\t}',
    '\tchain nat-prerouting {',
    '\t\ttype nat hook prerouting priority dstnat - 1; policy accept;',
    '\t}',
    '\tchain svc-AAAAAAAA-a/b/tcp/c {',
    '\t\tcomment "a/b:c"',
    '\t}',
    '}',
  ].join('\n');
  const chains = parseNftChainList(text, TABLE)!;
  t.deepEqual([...chains], [
    ['services', ''],
    ['nat-prerouting', 'type nat hook prerouting priority dstnat - 1; policy accept;'],
    ['svc-AAAAAAAA-a/b/tcp/c', ''],
  ]);
  const state = renderNft([], CFG).state;
  t.false(chainsMatch(chains, state));
  const all = new Map([...state.chains].map(([n, c]) => [n, c.hook ?? '']));
  t.true(chainsMatch(all, state));
  all.set(NFT.natOutput, 'type nat hook output priority 0; policy accept;');
  t.false(chainsMatch(all, state), 'a changed hook is a mismatch');
});

test('normalisation: counter values and spacing', (t) => {
  t.is(normalizeNftRule('counter packets 12 bytes 720  meta l4proto tcp dnat to 10.0.0.1:80'), 'counter meta l4proto tcp dnat to 10.0.0.1:80');
  t.is(parseNftDuration('3h'), 10800);
  t.is(parseNftDuration('1d2h3m4s'), 93784);
  t.is(parseNftDuration('600s'), 600);
  t.throws(() => parseNftDuration('3 hours'));
});

test('endpoint counters: summed per service port and endpoint over the service, local and affinity rules; ext chains ignored', (t) => {
  let n = 0;
  // Give every DNAT counter distinct values: 1, 2, 3... packets and 100x bytes.
  const listing = LISTING.replace(/counter packets 0 bytes 0/g, () => {
    n++;
    return `counter packets ${n} bytes ${n * 100}`;
  });
  const counters = parseNftEndpointCounters(listing, TABLE);
  const byKey = new Map(counters.map((c) => [`${c.namespace}/${c.service}:${c.port} ${c.protocol} ${c.endpoint}`, c]));
  t.is(counters.length, 10);
  t.deepEqual(Object.keys(counters[0]).sort(), ['bytes', 'endpoint', 'namespace', 'packets', 'port', 'protocol', 'service']);
  const dns = byKey.get('shop/dns:dns UDP 10.244.0.2:5353')!;
  t.truthy(dns);
  t.true(dns.packets > 0 && dns.bytes === dns.packets * 100);
  // cart has an affinity rule and a random rule per endpoint: two counters summed.
  const lines = listing.split('\n').filter((l) => l.includes('dnat to 10.244.0.5:8080') && l.includes('aff-'));
  const sum = lines.reduce((a, l) => a + Number(/counter packets (\d+)/.exec(l)![1]), 0);
  t.is(byKey.get('shop/cart:http TCP 10.244.0.5:8080')!.packets, sum);
  // edge (externalTrafficPolicy Local): the local endpoint counts in both its svc and local chains.
  t.truthy(byKey.get('shop/edge:http TCP 10.244.0.5:8080'));
  t.truthy(byKey.get('shop/edge:http TCP 10.244.1.5:8080'));
  t.deepEqual(parseNftEndpointCounters(listing, 'kubelite-none'), []);
});

test('readNftEndpointCounters lists this instance\'s table, and gives [] without one', async (t) => {
  const asked: string[] = [];
  const got = await readNftEndpointCounters({ instanceValue: 'fix' }, async (table) => {
    asked.push(table);
    return LISTING;
  });
  t.deepEqual(asked, [TABLE]);
  t.is(got.length, 10);
  t.deepEqual(await readNftEndpointCounters({ instanceValue: 'fix' }, async () => undefined), []);
});

test('mode choice: nftables where it works, else iptables with the reason; iptables when asked', (t) => {
  const ok = { ok: true, version: 'nftables v1.0.6 (Lester Gooch #5)' };
  const missing = { ok: false, reason: 'nft is not installed (ENOENT)' };
  t.deepEqual(decideProxyMode(undefined, ok), { mode: 'nftables', message: 'proxy mode nftables (nftables v1.0.6 (Lester Gooch #5), the default)', fellBack: false });
  t.is(decideProxyMode('nftables', ok).mode, 'nftables');
  const fallback = decideProxyMode(undefined, missing);
  t.is(fallback.mode, 'iptables');
  t.true(fallback.fellBack);
  t.regex(fallback.message, /the default nftables mode cannot run: nft is not installed/);
  t.regex(decideProxyMode('nftables', { ok: false, version: 'nftables v0.9.8', reason: 'nftables v0.9.8 is older than 1.0.1' }).message, /--proxy-mode nftables was asked for, but nftables v0\.9\.8 is older than 1\.0\.1/);
  t.deepEqual(decideProxyMode('iptables', undefined), { mode: 'iptables', message: 'proxy mode iptables (--proxy-mode iptables)', fellBack: false });
});

test('nft versions', (t) => {
  t.deepEqual(parseNftVersion('nftables v1.0.6 (Lester Gooch #5)'), [1, 0, 6]);
  t.deepEqual(parseNftVersion('nftables v1.1 (x)'), [1, 1, 0]);
  t.is(parseNftVersion('nope'), undefined);
  t.true(versionAtLeast([1, 0, 6], MIN_NFT_VERSION));
  t.true(versionAtLeast([1, 0, 1], MIN_NFT_VERSION));
  t.false(versionAtLeast([0, 9, 8], MIN_NFT_VERSION));
  t.false(versionAtLeast([1, 0, 0], MIN_NFT_VERSION));
});
