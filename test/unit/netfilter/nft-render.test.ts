// The nftables renderer: golden tables for the same Service shapes as the iptables renderer's golden
// tests (UPDATE_GOLDEN=1 rewrites them; review the diff before committing), the partial-sync scripts a
// change produces, and the read-back parser against the renderer's own output.

import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Endpoints, EndpointSlice, EndpointSubset, Service, ServiceSpec } from '../../../src/api/types.js';
import { hostNames } from '../../../src/config.js';
import { buildProxyModel, type ProxyService } from '../../../src/netfilter/model.js';
import { checkIdentifier, NFT, nftNames, nftTableName } from '../../../src/netfilter/nft-names.js';
import { parseNftTable } from '../../../src/netfilter/nft-parse.js';
import { newNftRenderCache, renderNft, type NftRenderConfig } from '../../../src/netfilter/nft-render.js';
import { diffNft, diffScript, fullScript, isEmptyNftDiff } from '../../../src/netfilter/nft-script.js';

const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'golden', 'nftables');
const names = hostNames({ instance: 'gold' });
const cfg: NftRenderConfig = { names, podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12' };
const TABLE = 'kubelite-gold';
const COMMENT = 'kubelite golden test';

function svc(ns: string, name: string, spec: ServiceSpec, lbIPs?: string[]): Service {
  const s: Service = { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec };
  if (lbIPs) s.status = { loadBalancer: { ingress: lbIPs.map((ip) => ({ ip })) } };
  return s;
}
function eps(ns: string, name: string, subsets: EndpointSubset[]): Endpoints {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { namespace: ns, name }, subsets };
}
const ready = (...ips: string[]) => ips.map((ip) => ({ ip }));

function model(services: Service[], endpoints: (Endpoints | EndpointSlice)[], opts: { nodeName?: string } = {}): ProxyService[] {
  const problems: string[] = [];
  const m = buildProxyModel(services, endpoints, { serviceCIDR: cfg.serviceCIDR, nodeName: opts.nodeName, onProblem: (p) => problems.push(p.message) });
  if (problems.length) throw new Error(problems.join('; '));
  return m;
}

function golden(t: ExecutionContext, file: string, m: ProxyService[]): string {
  const r = renderNft(m, cfg);
  const text = fullScript(r.names.table, r.state, COMMENT);
  const p = path.join(GOLDEN, file);
  if (process.env.UPDATE_GOLDEN === '1') {
    fs.mkdirSync(GOLDEN, { recursive: true });
    fs.writeFileSync(p, text);
  }
  t.is(text, fs.readFileSync(p, 'utf8'), `${file} differs from the golden file (UPDATE_GOLDEN=1 to rewrite)`);
  // What nft prints back for this table parses into the same state (the read-back compares equal).
  const parsed = parseNftTable(text.split('\n').slice(2).join('\n'), TABLE);
  t.truthy(parsed);
  t.true(isEmptyNftDiff(diffNft(parsed!.state, r.state)), `${file}: the parsed table differs from the rendered state`);
  return text;
}

/** The rules of chain `name` in a full script. */
function chainRules(text: string, name: string): string[] {
  const lines = text.split('\n');
  const i = lines.indexOf(`\tchain ${name} {`);
  if (i < 0) return [];
  const out: string[] = [];
  for (let j = i + 1; lines[j] !== '\t}'; j++) if (!/^\t\t(comment|type) /.test(lines[j])) out.push(lines[j].trim());
  return out;
}

const nn = nftNames(names);

test('ClusterIP with one endpoint: one map element, one DNAT with a counter, no random choice', (t) => {
  const text = golden(t, 'clusterip-1ep.nft', model([svc('shop', 'web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] })], [
    eps('shop', 'web', [{ addresses: ready('10.244.0.5'), ports: [{ name: 'http', port: 8080 }] }]),
  ]));
  const chain = nn.serviceChain('svc', 'shop/web:http', 'TCP');
  t.regex(chain, /^svc-[A-Z2-7]{8}-shop\/web\/tcp\/http$/);
  t.regex(text, new RegExp(`10\\.96\\.0\\.20 \\. tcp \\. 80 : goto ${chain.replace(/\//g, '\\/')}`));
  t.deepEqual(chainRules(text, chain), ['counter meta l4proto tcp dnat to 10.244.0.5:8080']);
  t.notRegex(text, /numgen/);
});

test('ClusterIP with three endpoints: a cascade of plain rules, 1/3, 1/2, then the rest, in address order', (t) => {
  const text = golden(t, 'clusterip-3ep.nft', model([svc('shop', 'web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] })], [
    eps('shop', 'web', [{ addresses: ready('10.244.0.7', '10.244.0.5', '10.244.0.6'), ports: [{ name: 'http', port: 8080 }] }]),
  ]));
  t.deepEqual(chainRules(text, nn.serviceChain('svc', 'shop/web:http', 'TCP')), [
    'numgen random mod 3 0 counter meta l4proto tcp dnat to 10.244.0.5:8080',
    'numgen random mod 2 0 counter meta l4proto tcp dnat to 10.244.0.6:8080',
    'counter meta l4proto tcp dnat to 10.244.0.7:8080',
  ]);
  // No anonymous maps or sets anywhere in the endpoint choice.
  t.notRegex(text, /vmap \{|numgen[^\n]*\{/);
  t.regex(text, /set hairpin \{\n\t\ttype ipv4_addr \. ipv4_addr\n\t\telements = \{ 10\.244\.0\.5 \. 10\.244\.0\.5,\n\t\t\t10\.244\.0\.6 \. 10\.244\.0\.6,\n\t\t\t10\.244\.0\.7 \. 10\.244\.0\.7\n\t\t\}/, 'each endpoint is in the hairpin set');
});

test('multi-port Service with named ports matches endpoint ports by name', (t) => {
  const text = golden(
    t,
    'multiport-named.nft',
    model(
      [svc('shop', 'api', { clusterIP: '10.96.0.30', ports: [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'metrics', port: 9090 }] })],
      [eps('shop', 'api', [{ addresses: ready('10.244.0.8', '10.244.0.9'), notReadyAddresses: ready('10.244.0.10'), ports: [{ name: 'metrics', port: 9100 }, { name: 'http', port: 8080 }] }])],
    ),
  );
  t.regex(chainRules(text, nn.serviceChain('svc', 'shop/api:http', 'TCP')).join('\n'), /dnat to 10\.244\.0\.8:8080/);
  t.regex(chainRules(text, nn.serviceChain('svc', 'shop/api:metrics', 'TCP')).join('\n'), /dnat to 10\.244\.0\.9:9100/);
  t.regex(text, /10\.96\.0\.30 \. tcp \. 9090 : goto svc-/);
  t.notRegex(text, /10\.244\.0\.10/, 'a not-ready address gets no rule');
});

test('NodePort: a nodeports map element to the external chain, which masquerades and goes to the service chain', (t) => {
  const text = golden(t, 'nodeport.nft', model([svc('shop', 'web', { type: 'NodePort', clusterIP: '10.96.0.21', ports: [{ name: 'http', port: 80, nodePort: 30080 }] })], [
    eps('shop', 'web', [{ addresses: ready('10.244.0.5', '10.244.0.6'), ports: [{ name: 'http', port: 8080 }] }]),
  ]));
  const ext = nn.serviceChain('ext', 'shop/web:http', 'TCP');
  t.regex(text, new RegExp(`tcp \\. 30080 : goto ${ext.replace(/\//g, '\\/')}`));
  t.deepEqual(chainRules(text, ext), [`jump ${NFT.markMasq}`, `goto ${nn.serviceChain('svc', 'shop/web:http', 'TCP')}`]);
  // Every local address but loopback takes node ports.
  t.true(chainRules(text, NFT.services).includes(`fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @${NFT.serviceNodePorts}`));
});

test('LoadBalancer with a pool address: the address goes to the external chain', (t) => {
  const text = golden(
    t,
    'loadbalancer-pool.nft',
    model([svc('shop', 'front', { type: 'LoadBalancer', clusterIP: '10.96.0.22', ports: [{ name: 'http', port: 80, nodePort: 30081 }] }, ['10.250.129.10'])], [
      eps('shop', 'front', [{ addresses: ready('10.244.0.5'), ports: [{ name: 'http', port: 8080 }] }]),
    ]),
  );
  t.regex(text, /10\.250\.129\.10 \. tcp \. 80 : goto ext-[A-Z2-7]{8}-shop\/front\/tcp\/http/);
  t.regex(text, /10\.96\.0\.22 \. tcp \. 80 : goto svc-[A-Z2-7]{8}-shop\/front\/tcp\/http/);
});

test('ExternalName and headless Services produce nothing but the fixed table', (t) => {
  const services = [
    svc('shop', 'alias', { type: 'ExternalName', externalName: 'db.example.com', ports: [{ port: 5432 }] }),
    svc('shop', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }),
  ];
  const text = golden(t, 'empty.nft', model(services, [eps('shop', 'db', [{ addresses: ready('10.244.0.9'), ports: [{ name: 'pg', port: 5432 }] }])]));
  const empty = renderNft([], cfg);
  t.is(text, fullScript(empty.names.table, empty.state, COMMENT));
  t.notRegex(text, /svc-|ext-|elements =/);
  t.regex(text, /^table ip kubelite-gold\ndelete table ip kubelite-gold\ntable ip kubelite-gold \{$/m, 'a full render replaces the table in one transaction');
});

test('ClientIP affinity: a dynamic set with the timeout per endpoint, checked before the random choice and refreshed on use', (t) => {
  const text = golden(
    t,
    'affinity.nft',
    model(
      [svc('shop', 'cart', { clusterIP: '10.96.0.23', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } }, ports: [{ name: 'http', port: 80 }] })],
      [eps('shop', 'cart', [{ addresses: ready('10.244.0.5', '10.244.0.6'), ports: [{ name: 'http', port: 8080 }] }])],
    ),
  );
  const a5 = nn.affinitySet('shop/cart:http', 'TCP', '10.244.0.5:8080', 600);
  const a6 = nn.affinitySet('shop/cart:http', 'TCP', '10.244.0.6:8080', 600);
  t.regex(a5, /^aff-[A-Z2-7]{8}-shop\/cart\/tcp\/http__10\.244\.0\.5\/8080$/);
  t.regex(text, new RegExp(`set ${a5.replace(/\//g, '\\/')} \\{\\n\\t\\ttype ipv4_addr\\n\\t\\tflags dynamic,timeout\\n\\t\\ttimeout 600s\\n`));
  t.deepEqual(chainRules(text, nn.serviceChain('svc', 'shop/cart:http', 'TCP')), [
    `ip saddr @${a5} update @${a5} { ip saddr } counter meta l4proto tcp dnat to 10.244.0.5:8080`,
    `ip saddr @${a6} update @${a6} { ip saddr } counter meta l4proto tcp dnat to 10.244.0.6:8080`,
    `numgen random mod 2 0 update @${a5} { ip saddr } counter meta l4proto tcp dnat to 10.244.0.5:8080`,
    `update @${a6} { ip saddr } counter meta l4proto tcp dnat to 10.244.0.6:8080`,
  ]);
  t.not(a5, nn.affinitySet('shop/cart:http', 'TCP', '10.244.0.5:8080', 601), 'a new timeout is a new set');
});

test('no ready endpoints: reject verdicts in the filter maps, no chain, nothing in the NAT maps', (t) => {
  const text = golden(
    t,
    'no-endpoints.nft',
    model([svc('shop', 'idle', { type: 'NodePort', clusterIP: '10.96.0.24', ports: [{ name: 'http', port: 80, nodePort: 30082 }] })], [
      eps('shop', 'idle', [{ notReadyAddresses: ready('10.244.0.5'), ports: [{ name: 'http', port: 8080 }] }]),
    ]),
  );
  const r = renderNft(model([svc('shop', 'idle', { type: 'NodePort', clusterIP: '10.96.0.24', ports: [{ name: 'http', port: 80, nodePort: 30082 }] })], []), cfg);
  t.deepEqual([...r.state.maps[NFT.noEndpointServices]], [['10.96.0.24 . tcp . 80', `goto ${NFT.reject}`]]);
  t.deepEqual([...r.state.maps[NFT.noEndpointNodePorts]], [['tcp . 30082', `goto ${NFT.reject}`]]);
  t.is(r.state.maps[NFT.serviceIPs].size, 0);
  t.notRegex(text, /chain (svc|ext)-/);
  t.deepEqual(chainRules(text, NFT.reject), ['reject']);
  // Checked on the input, forward and output paths, before DNAT.
  t.regex(text, /chain filter-output \{\n\t\ttype filter hook output priority -110; policy accept;\n\t\tct state new jump service-endpoints-check\n/);
});

test('UDP and TCP on the same port number are separate service ports', (t) => {
  const text = golden(
    t,
    'udp.nft',
    model(
      [svc('kube-system', 'dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] })],
      [eps('kube-system', 'dns', [{ addresses: ready('10.244.0.2'), ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }, { name: 'dns-tcp', port: 5353, protocol: 'TCP' }] }])],
    ),
  );
  t.regex(text, /10\.96\.0\.10 \. udp \. 53 : goto svc-[A-Z2-7]{8}-kube-system\/dns\/udp\/dns,?\n/);
  t.regex(text, /10\.96\.0\.10 \. tcp \. 53 : goto svc-[A-Z2-7]{8}-kube-system\/dns\/tcp\/dns-tcp/);
  t.deepEqual(chainRules(text, nn.serviceChain('svc', 'kube-system/dns:dns', 'UDP')), ['counter meta l4proto udp dnat to 10.244.0.2:5353']);
});

const etpSlice = (endpoints: EndpointSlice['endpoints']): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { namespace: 'shop', name: 'edge-abc12', labels: { 'kubernetes.io/service-name': 'edge' } },
  addressType: 'IPv4',
  endpoints,
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
});
const etpService = svc('shop', 'edge', { type: 'NodePort', clusterIP: '10.96.0.25', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30083 }] });

test('externalTrafficPolicy Local: external traffic only to local endpoints, without masquerade; Pods and the host use any', (t) => {
  const m = model(
    [etpService],
    [
      etpSlice([
        { addresses: ['10.244.0.5'], nodeName: 'node-a', conditions: { ready: true } },
        { addresses: ['10.244.1.5'], nodeName: 'node-b', conditions: { ready: true } },
        { addresses: ['10.244.0.6'], nodeName: 'node-a', conditions: { ready: false } },
      ]),
    ],
    { nodeName: 'node-a' },
  );
  const text = golden(t, 'etp-local.nft', m);
  const svcChain = nn.serviceChain('svc', 'shop/edge:http', 'TCP');
  const local = nn.serviceChain('local', 'shop/edge:http', 'TCP');
  t.deepEqual(chainRules(text, nn.serviceChain('ext', 'shop/edge:http', 'TCP')), [
    `ip saddr 10.244.0.0/16 goto ${svcChain}`,
    `fib saddr type local goto ${svcChain}`,
    `goto ${local}`,
  ]);
  t.deepEqual(chainRules(text, local), ['counter meta l4proto tcp dnat to 10.244.0.5:8080']);
  t.is(chainRules(text, svcChain).length, 2, 'the cluster chain has both ready endpoints');
});

test('externalTrafficPolicy Local without a local endpoint: external traffic is rejected, Pods and the host still served', (t) => {
  const m = model([etpService], [etpSlice([{ addresses: ['10.244.1.5'], nodeName: 'node-b', conditions: { ready: true } }])], { nodeName: 'node-a' });
  const text = golden(t, 'etp-local-none.nft', m);
  const r = renderNft(m, cfg);
  // Refused for outside clients only: the host's own connection passes this check (before its DNAT).
  t.deepEqual([...r.state.maps[NFT.noEndpointNodePorts]], [['tcp . 30083', `goto ${NFT.rejectExternal}`]]);
  t.deepEqual(chainRules(text, NFT.rejectExternal), ['fib saddr type local return', 'reject']);
  t.deepEqual(chainRules(text, nn.serviceChain('ext', 'shop/edge:http', 'TCP')).length, 2);
  t.notRegex(text, /chain local-/);
});

test('unsafe names are sanitised in comments and chain names, which stay single identifiers', (t) => {
  const text = golden(
    t,
    'unsafe-names.nft',
    model([svc('shop', 'we"b; rm -rf /', { clusterIP: '10.96.0.26', ports: [{ name: 'ht tp$(x)', port: 80 }] })], [
      eps('shop', 'we"b; rm -rf /', [{ addresses: ready('10.244.0.5'), ports: [{ name: 'ht tp$(x)', port: 8080 }] }]),
    ]),
  );
  t.regex(text, /comment "shop\/we_b__rm_-rf_\/:ht_tp__x_"/);
  t.notRegex(text, /we"b|rm -rf|\$\(|ht tp/);
  for (const m of text.matchAll(/^\t(?:chain|set|map) (\S+) \{/gm)) t.notThrows(() => checkIdentifier(m[1]));
  t.throws(() => checkIdentifier('a b'));
  t.throws(() => checkIdentifier('-x'));
  t.throws(() => checkIdentifier('x;y'));
});

test('names: a table per instance; long names are cut but stay unique', (t) => {
  t.is(nftTableName(hostNames({ instance: '' })), 'kubelite');
  t.is(nftTableName(hostNames({ instance: 't4' })), 'kubelite-t4');
  const long = 'n'.repeat(63);
  const a = nn.affinitySet(`${long}/${long}:${long}`, 'TCP', '10.244.0.5:8080', 10800);
  const b = nn.affinitySet(`${long}/${long}:${long}`, 'TCP', '10.244.0.6:8080', 10800);
  t.true(a.length <= 240 && b.length <= 240);
  t.not(a, b);
  t.notThrows(() => checkIdentifier(a));
});

test('the fixed chains: host sources are never masqueraded, hairpin is one set lookup, NAT and filter hooks at documented priorities', (t) => {
  const text = fullScript(TABLE, renderNft([], cfg).state, COMMENT);
  t.deepEqual(chainRules(text, NFT.markMasq), ['fib saddr type local ip saddr != 127.0.0.0/8 return', 'meta mark set meta mark | 0x00004000']);
  t.deepEqual(chainRules(text, NFT.masquerading)[0], 'ct status dnat ip saddr . ip daddr @hairpin meta mark set meta mark & 0xffffbfff masquerade fully-random');
  t.regex(text, /chain nat-prerouting \{\n\t\ttype nat hook prerouting priority dstnat - 1; policy accept;\n\t\tjump services\n/);
  t.regex(text, /chain nat-output \{\n\t\ttype nat hook output priority -101; policy accept;\n/);
  t.regex(text, /chain nat-postrouting \{\n\t\ttype nat hook postrouting priority srcnat - 1; policy accept;\n/);
  t.deepEqual(chainRules(text, NFT.services)[0], 'ip daddr 10.96.0.0/12 ip saddr != 10.244.0.0/16 jump mark-for-masquerade');
  const custom = fullScript(TABLE, renderNft([], { ...cfg, masqueradeMark: '0x8000' }).state, COMMENT);
  t.regex(custom, /meta mark set meta mark \| 0x00008000/);
});

// ---------- partial syncs ----------

function threeEndpointModel(third: string): ProxyService[] {
  return model(
    [svc('shop', 'web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] }), svc('shop', 'other', { type: 'NodePort', clusterIP: '10.96.0.21', ports: [{ name: 'http', port: 80, nodePort: 30090 }] })],
    [
      eps('shop', 'web', [{ addresses: ready('10.244.0.5', '10.244.0.6', third), ports: [{ name: 'http', port: 8080 }] }]),
      eps('shop', 'other', [{ addresses: ready('10.244.0.9'), ports: [{ name: 'http', port: 8080 }] }]),
    ],
  );
}

test('partial sync: one changed endpoint rewrites one chain and swaps one hairpin element, nothing else', (t) => {
  const cache = newNftRenderCache();
  const m1 = threeEndpointModel('10.244.0.7');
  const m2 = threeEndpointModel('10.244.0.8').map((s) => (s.key === 'shop/other:http' ? m1.find((o) => o.key === s.key)! : s));
  const before = renderNft(m1, cfg, cache);
  const after = renderNft(m2, cfg, cache);
  const d = diffNft(before.state, after.state);
  const svcChain = nn.serviceChain('svc', 'shop/web:http', 'TCP');
  t.deepEqual(d.rewrite, [svcChain]);
  t.deepEqual([d.create, d.remove, d.rehook], [[], [], []]);
  t.deepEqual(d.hairpin, { add: ['10.244.0.8'], del: ['10.244.0.7'] });
  t.true(Object.values(d.elements).every((e) => e.add.length === 0 && e.del.length === 0));
  // The unchanged Service's chains are the very same objects (a pointer compare in the diff).
  const other = nn.serviceChain('svc', 'shop/other:http', 'TCP');
  t.is(before.state.chains.get(other), after.state.chains.get(other));
  t.is(
    diffScript(TABLE, after.state, d),
    [
      `flush chain ip ${TABLE} ${svcChain}`,
      `add rule ip ${TABLE} ${svcChain} numgen random mod 3 0 counter meta l4proto tcp dnat to 10.244.0.5:8080`,
      `add rule ip ${TABLE} ${svcChain} numgen random mod 2 0 counter meta l4proto tcp dnat to 10.244.0.6:8080`,
      `add rule ip ${TABLE} ${svcChain} counter meta l4proto tcp dnat to 10.244.0.8:8080`,
      `delete element ip ${TABLE} hairpin { 10.244.0.7 . 10.244.0.7 }`,
      `add element ip ${TABLE} hairpin { 10.244.0.8 . 10.244.0.8 }`,
      '',
    ].join('\n'),
  );
  t.true(isEmptyNftDiff(diffNft(after.state, renderNft(m2, cfg, cache).state)), 'nothing changed: nothing to send');
});

test('partial sync: a first endpoint swaps the reject element for the map element in the same transaction', (t) => {
  const spec: ServiceSpec = { type: 'NodePort', clusterIP: '10.96.0.24', ports: [{ name: 'http', port: 80, nodePort: 30082 }] };
  const idle = renderNft(model([svc('shop', 'idle', spec)], []), cfg);
  const busy = renderNft(model([svc('shop', 'idle', spec)], [eps('shop', 'idle', [{ addresses: ready('10.244.0.5'), ports: [{ name: 'http', port: 8080 }] }])]), cfg);
  const text = diffScript(TABLE, busy.state, diffNft(idle.state, busy.state));
  const lines = text.trim().split('\n');
  const svcChain = nn.serviceChain('svc', 'shop/idle:http', 'TCP');
  const ext = nn.serviceChain('ext', 'shop/idle:http', 'TCP');
  t.deepEqual(lines.slice(0, 2), [`add chain ip ${TABLE} ${svcChain} { comment "shop/idle:http"; }`, `add chain ip ${TABLE} ${ext} { comment "shop/idle:http external destinations"; }`]);
  t.true(lines.includes(`delete element ip ${TABLE} no-endpoint-services { 10.96.0.24 . tcp . 80 }`));
  t.true(lines.includes(`add element ip ${TABLE} service-ips { 10.96.0.24 . tcp . 80 : goto ${svcChain} }`));
  t.true(lines.includes(`add element ip ${TABLE} service-nodeports { tcp . 30082 : goto ${ext} }`));
  // Chains exist before any rule or element names them.
  t.true(lines.findIndex((l) => l.includes(`goto ${svcChain}`)) > lines.findIndex((l) => l.startsWith(`add chain ip ${TABLE} ${svcChain}`)));
  // And back: the chains go last, after their elements and the rules that jumped to them.
  const back = diffScript(TABLE, idle.state, diffNft(busy.state, idle.state)).trim().split('\n');
  t.deepEqual(back.slice(-4), [`flush chain ip ${TABLE} ${svcChain}`, `flush chain ip ${TABLE} ${ext}`, `delete chain ip ${TABLE} ${svcChain}`, `delete chain ip ${TABLE} ${ext}`]);
  t.true(back.indexOf(`delete element ip ${TABLE} service-ips { 10.96.0.24 . tcp . 80 }`) < back.length - 4);
});

test('partial sync: a hairpin address shared by two Services stays while one still uses it; affinity sets come and go with their chains', (t) => {
  const sticky = (timeoutSeconds: number) => svc('shop', 'b', { clusterIP: '10.96.0.31', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds } }, ports: [{ name: 'http', port: 80 }] });
  const a = svc('shop', 'a', { clusterIP: '10.96.0.30', ports: [{ name: 'http', port: 80 }] });
  const both = renderNft(model([a, sticky(60)], [eps('shop', 'a', [{ addresses: ready('10.244.0.5'), ports: [{ name: 'http', port: 8080 }] }]), eps('shop', 'b', [{ addresses: ready('10.244.0.5'), ports: [{ name: 'http', port: 8080 }] }])]), cfg);
  const onlyA = renderNft(model([a], [eps('shop', 'a', [{ addresses: ready('10.244.0.5'), ports: [{ name: 'http', port: 8080 }] }])]), cfg);
  const d = diffNft(both.state, onlyA.state);
  t.deepEqual(d.hairpin, { add: [], del: [] });
  t.deepEqual(d.affinity.del, [nn.affinitySet('shop/b:http', 'TCP', '10.244.0.5:8080', 60)]);
  const text = diffScript(TABLE, onlyA.state, d).trim().split('\n');
  t.is(text.at(-1), `delete set ip ${TABLE} ${nn.affinitySet('shop/b:http', 'TCP', '10.244.0.5:8080', 60)}`, 'the set goes after the chain that used it');
  // A new timeout: a new set, the chain rewritten to use it, the old set deleted last.
  const longer = renderNft(model([a, sticky(120)], [eps('shop', 'a', [{ addresses: ready('10.244.0.5'), ports: [{ name: 'http', port: 8080 }] }]), eps('shop', 'b', [{ addresses: ready('10.244.0.5'), ports: [{ name: 'http', port: 8080 }] }])]), cfg);
  const d2 = diffNft(both.state, longer.state);
  t.deepEqual(d2.affinity, { add: [nn.affinitySet('shop/b:http', 'TCP', '10.244.0.5:8080', 120)], del: [nn.affinitySet('shop/b:http', 'TCP', '10.244.0.5:8080', 60)] });
  t.deepEqual(d2.rewrite, [nn.serviceChain('svc', 'shop/b:http', 'TCP')]);
  const s2 = diffScript(TABLE, longer.state, d2).trim().split('\n');
  t.regex(s2[0], /^add set ip kubelite-gold aff-\S+ \{ type ipv4_addr; flags dynamic,timeout; timeout 120s; \}$/);
  t.regex(s2.at(-1)!, /^delete set /);
});

test('two Services claiming one address and port: the first keeps it, as the first iptables rule would', (t) => {
  const m = model(
    [
      svc('shop', 'a', { clusterIP: '10.96.0.40', externalIPs: ['192.0.2.50'], ports: [{ name: 'http', port: 80 }] }),
      svc('shop', 'b', { clusterIP: '10.96.0.41', externalIPs: ['192.0.2.50'], ports: [{ name: 'http', port: 80 }] }),
    ],
    [eps('shop', 'a', [{ addresses: ready('10.244.0.5'), ports: [{ name: 'http', port: 8080 }] }]), eps('shop', 'b', [{ addresses: ready('10.244.0.6'), ports: [{ name: 'http', port: 8080 }] }])],
  );
  const r = renderNft(m, cfg);
  t.is(r.state.maps[NFT.serviceIPs].get('192.0.2.50 . tcp . 80'), `goto ${nn.serviceChain('ext', 'shop/a:http', 'TCP')}`);
});

test('internalTrafficPolicy Local: the cluster IP goes to this node\'s endpoints only; none here: drop', (t) => {
  const s = svc('kube-system', 'dns', { type: 'ClusterIP', clusterIP: '10.96.0.10', internalTrafficPolicy: 'Local', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] });
  const e = eps('kube-system', 'dns', [{ addresses: [{ ip: '10.244.0.1', nodeName: 'a' }, { ip: '10.244.1.1', nodeName: 'b' }], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }]);
  const on = (node: string) => renderNft(model([s], [e], { nodeName: node }), cfg);
  const a = on('a');
  const local = nn.serviceChain('local', 'kube-system/dns:dns', 'UDP');
  t.deepEqual([...a.state.maps[NFT.serviceIPs]], [['10.96.0.10 . udp . 53', `goto ${local}`]]);
  const text = fullScript(a.names.table, a.state, COMMENT);
  t.deepEqual(chainRules(text, local), ['counter meta l4proto udp dnat to 10.244.0.1:53']);
  const c = on('c');
  t.deepEqual([...c.state.maps[NFT.serviceIPs]], [], 'nothing DNATs the cluster IP on a node without a local endpoint');
  t.deepEqual([...c.state.maps[NFT.noEndpointServices]], [['10.96.0.10 . udp . 53', 'drop']]);
});

test('a drop verdict in a filter map reads back as written', (t) => {
  const s = svc('kube-system', 'dns', { type: 'ClusterIP', clusterIP: '10.96.0.10', internalTrafficPolicy: 'Local', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] });
  const e = eps('kube-system', 'dns', [{ addresses: [{ ip: '10.244.1.1', nodeName: 'b' }], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }]);
  const r = renderNft(model([s], [e], { nodeName: 'a' }), cfg);
  const text = fullScript(r.names.table, r.state, COMMENT);
  const parsed = parseNftTable(text.split('\n').slice(2).join('\n'), TABLE);
  t.truthy(parsed);
  t.true(isEmptyNftDiff(diffNft(parsed!.state, r.state)));
});

test('several nodes: the host\'s own connections DNATed to another node\'s Pods are masqueraded; to this node\'s, not', (t) => {
  const m = model([svc('shop', 'web', { type: 'ClusterIP', clusterIP: '10.96.0.20', ports: [{ port: 80, targetPort: 8080 }] })], [eps('shop', 'web', [{ addresses: ready('10.244.0.5', '10.244.1.5'), ports: [{ port: 8080 }] }])]);
  const text = (c: NftRenderConfig) => { const r = renderNft(m, c); return fullScript(r.names.table, r.state, COMMENT); };
  const multi = chainRules(text({ ...cfg, nodePodCIDR: '10.244.0.0/24' }), NFT.masquerading);
  t.true(multi.includes('ct status dnat ip saddr != 10.244.0.0/16 ip daddr 10.244.0.0/16 ip daddr != 10.244.0.0/24 meta mark set meta mark & 0xffffbfff masquerade fully-random'), multi.join('\n'));
  t.false(chainRules(text(cfg), NFT.masquerading).some((r) => r.includes('ip daddr != ')), 'one node (nodePodCIDR = podCIDR): no such rule');
});
