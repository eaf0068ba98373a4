// The iptables renderer: golden rulesets per Service shape (UPDATE_GOLDEN=1 rewrites them; review the
// diff before committing), and the chain diff a sync relies on.

import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Endpoints, EndpointSlice, EndpointSubset, Service, ServiceSpec } from '../../../src/api/types.js';
import { hostNames } from '../../../src/config.js';
import { buildProxyModel } from '../../../src/netfilter/model.js';
import { jumpRules, newRenderCache, normalizeRule, probability, renderRules, type RenderConfig } from '../../../src/netfilter/render.js';
import { diffChains } from '../../../src/netfilter/diff.js';

const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'golden', 'netfilter');
const names = hostNames({ instance: 'gold' });
const cfg: RenderConfig = { names, podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12', nodeIPs: ['192.0.2.2'] };

function svc(ns: string, name: string, spec: ServiceSpec, lbIPs?: string[]): Service {
  const s: Service = { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec };
  if (lbIPs) s.status = { loadBalancer: { ingress: lbIPs.map((ip) => ({ ip })) } };
  return s;
}
function eps(ns: string, name: string, subsets: EndpointSubset[]): Endpoints {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { namespace: ns, name }, subsets };
}
const ready = (...ips: string[]) => ips.map((ip) => ({ ip }));

function golden(t: ExecutionContext, file: string, services: Service[], endpoints: (Endpoints | EndpointSlice)[]): string {
  const problems: string[] = [];
  const model = buildProxyModel(services, endpoints, { serviceCIDR: cfg.serviceCIDR, onProblem: (p) => problems.push(p.message) });
  const text = renderRules(model, cfg).toRestore();
  const p = path.join(GOLDEN, file);
  if (process.env.UPDATE_GOLDEN === '1') {
    fs.mkdirSync(GOLDEN, { recursive: true });
    fs.writeFileSync(p, text);
  }
  t.is(text, fs.readFileSync(p, 'utf8'), `${file} differs from the golden file (UPDATE_GOLDEN=1 to rewrite)`);
  t.deepEqual(problems, []);
  return text;
}

test('ClusterIP with one endpoint', (t) => {
  const text = golden(t, 'clusterip-1ep.rules', [svc('shop', 'web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] })], [
    eps('shop', 'web', [{ addresses: ready('10.244.0.5'), ports: [{ name: 'http', port: 8080 }] }]),
  ]);
  t.notRegex(text, /statistic/, 'a single endpoint needs no probability');
  t.regex(text, /-A KL-GOLD-SEP-\w+ -p tcp -m comment --comment "shop\/web:http" -m tcp -j DNAT --to-destination 10\.244\.0\.5:8080/);
});

test('ClusterIP with three endpoints: 1/3, 1/2, then the rest', (t) => {
  const text = golden(t, 'clusterip-3ep.rules', [svc('shop', 'web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] })], [
    eps('shop', 'web', [{ addresses: ready('10.244.0.7', '10.244.0.5', '10.244.0.6'), ports: [{ name: 'http', port: 8080 }] }]),
  ]);
  const probs = [...text.matchAll(/--probability (\S+)/g)].map((m) => m[1]);
  t.deepEqual(probs, ['0.3333333333', '0.5000000000']);
  // Endpoints are sorted, so the order of addresses in the object does not churn the rules.
  const order = [...text.matchAll(/-> (10\.244\.0\.\d+):8080" -m statistic|-> (10\.244\.0\.\d+):8080" -j/g)].map((m) => m[1] ?? m[2]);
  t.deepEqual(order, ['10.244.0.5', '10.244.0.6', '10.244.0.7']);
});

test('multi-port Service with named ports matches endpoint ports by name', (t) => {
  const text = golden(
    t,
    'multiport-named.rules',
    [svc('shop', 'api', { clusterIP: '10.96.0.30', ports: [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'metrics', port: 9090 }] })],
    [
      eps('shop', 'api', [
        // Ports listed in the other order on purpose: matching is by name, not position.
        { addresses: ready('10.244.0.8', '10.244.0.9'), notReadyAddresses: ready('10.244.0.10'), ports: [{ name: 'metrics', port: 9100 }, { name: 'http', port: 8080 }] },
      ]),
    ],
  );
  t.regex(text, /shop\/api:http -> 10\.244\.0\.8:8080/);
  t.regex(text, /shop\/api:metrics -> 10\.244\.0\.9:9100/);
  t.notRegex(text, /10\.244\.0\.10/, 'a not-ready address gets no rule');
});

test('NodePort', (t) => {
  const text = golden(t, 'nodeport.rules', [svc('shop', 'web', { type: 'NodePort', clusterIP: '10.96.0.21', ports: [{ name: 'http', port: 80, nodePort: 30080 }] })], [
    eps('shop', 'web', [{ addresses: ready('10.244.0.5', '10.244.0.6'), ports: [{ name: 'http', port: 8080 }] }]),
  ]);
  t.regex(text, /-A KUBELITE-GOLD-NODEPORTS -p tcp -m comment --comment "shop\/web:http" -m tcp --dport 30080 -j KL-GOLD-EXT-\w+/);
  t.regex(text, /-A KL-GOLD-EXT-\w+ -m comment --comment "masquerade traffic for shop\/web:http external destinations" -j KUBELITE-GOLD-MARK-MASQ/);
  // The node-ports jump must be the last rule of the dispatch chain.
  const services = text.split('\n').filter((l) => l.startsWith('-A KUBELITE-GOLD-SERVICES') && !l.includes('REJECT'));
  t.regex(services.at(-1)!, /--dst-type LOCAL -j KUBELITE-GOLD-NODEPORTS$/);
});

test('LoadBalancer with a pool address', (t) => {
  const text = golden(
    t,
    'loadbalancer-pool.rules',
    [svc('shop', 'front', { type: 'LoadBalancer', clusterIP: '10.96.0.22', ports: [{ name: 'http', port: 80, nodePort: 30081 }] }, ['10.250.129.10'])],
    [eps('shop', 'front', [{ addresses: ready('10.244.0.5'), ports: [{ name: 'http', port: 8080 }] }])],
  );
  t.regex(text, /-A KUBELITE-GOLD-SERVICES -d 10\.250\.129\.10\/32 -p tcp -m comment --comment "shop\/front:http loadbalancer IP" -m tcp --dport 80 -j KL-GOLD-EXT-\w+/);
});

test('LoadBalancer without status gets the node addresses when asked (ServiceLB style)', (t) => {
  const model = buildProxyModel(
    [svc('shop', 'front', { type: 'LoadBalancer', clusterIP: '10.96.0.22', ports: [{ name: 'http', port: 80, nodePort: 30081 }] })],
    [eps('shop', 'front', [{ addresses: ready('10.244.0.5'), ports: [{ name: 'http', port: 8080 }] }])],
    { lbDefaultIPs: ['192.0.2.2'] },
  );
  t.deepEqual(model[0].loadBalancerIPs, ['192.0.2.2']);
});

test('ExternalName and headless Services produce no rules at all', (t) => {
  const services = [
    svc('shop', 'alias', { type: 'ExternalName', externalName: 'db.example.com', ports: [{ port: 5432 }] }),
    svc('shop', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }),
  ];
  const endpoints = [eps('shop', 'db', [{ addresses: ready('10.244.0.9'), ports: [{ name: 'pg', port: 5432 }] }])];
  t.deepEqual(buildProxyModel(services, endpoints), []);
  const text = golden(t, 'empty.rules', services, endpoints);
  t.is(text, renderRules([], cfg).toRestore());
  t.notRegex(text, /KL-GOLD-(SVC|SEP)/);
});

test('ClientIP affinity uses recent lists named after the endpoint chain', (t) => {
  const text = golden(
    t,
    'affinity.rules',
    [svc('shop', 'cart', { clusterIP: '10.96.0.23', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } }, ports: [{ name: 'http', port: 80 }] })],
    [eps('shop', 'cart', [{ addresses: ready('10.244.0.5', '10.244.0.6'), ports: [{ name: 'http', port: 8080 }] }])],
  );
  const rchecks = [...text.matchAll(/--rcheck --seconds 600 --reap --name (KL-GOLD-SEP-\w+) --mask 255\.255\.255\.255 --rsource -j (\S+)/g)];
  t.is(rchecks.length, 2);
  for (const m of rchecks) t.is(m[1], m[2], 'the recent list is named after the chain it jumps to');
  t.is([...text.matchAll(/-m recent --set --name KL-GOLD-SEP-/g)].length, 2);
  // The affinity checks come before the random choice.
  t.true(text.indexOf('--rcheck') < text.indexOf('--probability'));
});

test('no ready endpoints: REJECT in filter, nothing in nat', (t) => {
  const text = golden(
    t,
    'no-endpoints.rules',
    [svc('shop', 'idle', { type: 'NodePort', clusterIP: '10.96.0.24', ports: [{ name: 'http', port: 80, nodePort: 30082 }] })],
    [eps('shop', 'idle', [{ notReadyAddresses: ready('10.244.0.5'), ports: [{ name: 'http', port: 8080 }] }])],
  );
  t.regex(text, /-A KUBELITE-GOLD-SERVICES -d 10\.96\.0\.24\/32 -p tcp -m comment --comment "shop\/idle:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable/);
  t.regex(text, /-A KUBELITE-GOLD-EXT-SERVICES -p tcp -m comment --comment "shop\/idle:http has no endpoints" -m addrtype --dst-type LOCAL -m tcp --dport 30082 -j REJECT/);
  t.notRegex(text, /KL-GOLD-SVC/);
});

test('UDP and TCP on the same port number are separate service ports', (t) => {
  const text = golden(
    t,
    'udp.rules',
    [svc('kube-system', 'dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] })],
    [eps('kube-system', 'dns', [{ addresses: ready('10.244.0.2'), ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }, { name: 'dns-tcp', port: 5353, protocol: 'TCP' }] }])],
  );
  t.regex(text, /-p udp -m comment --comment "kube-system\/dns:dns cluster IP" -m udp --dport 53/);
  t.regex(text, /-p udp -m comment --comment "kube-system\/dns:dns" -m udp -j DNAT --to-destination 10\.244\.0\.2:5353/);
  t.regex(text, /-p tcp -m comment --comment "kube-system\/dns:dns-tcp" -m tcp -j DNAT --to-destination 10\.244\.0\.2:5353/);
});

test('externalTrafficPolicy Local: external traffic only to local endpoints, without masquerade', (t) => {
  const slice: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'shop', name: 'edge-abc12', labels: { 'kubernetes.io/service-name': 'edge' } },
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.244.0.5'], nodeName: 'node-a', conditions: { ready: true } },
      { addresses: ['10.244.1.5'], nodeName: 'node-b', conditions: { ready: true } },
      { addresses: ['10.244.0.6'], nodeName: 'node-a', conditions: { ready: false } },
    ],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
  const model = buildProxyModel(
    [svc('shop', 'edge', { type: 'NodePort', clusterIP: '10.96.0.25', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30083 }] })],
    [slice],
    { nodeName: 'node-a' },
  );
  t.deepEqual(model[0].endpoints, [
    { ip: '10.244.0.5', port: 8080, ready: true },
    { ip: '10.244.0.6', port: 8080, ready: false },
    { ip: '10.244.1.5', port: 8080, ready: true, local: false },
  ]);
  const text = renderRules(model, cfg).toRestore();
  const p = path.join(GOLDEN, 'etp-local.rules');
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(p, text);
  t.is(text, fs.readFileSync(p, 'utf8'));
  const svl = /^-A (KL-GOLD-SVL-\w+) /m.exec(text)![1];
  const svlRules = text.split('\n').filter((l) => l.startsWith(`-A ${svl} `));
  t.is(svlRules.length, 1);
  t.regex(svlRules[0], /10\.244\.0\.5:8080/);
  t.notRegex(text, new RegExp(`-A KL-GOLD-EXT-\\w+ -m comment --comment "masquerade traffic`), 'no blanket masquerade with Local');
});

test('unsafe names are sanitised in comments and never reach a chain name', (t) => {
  const text = golden(
    t,
    'unsafe-names.rules',
    [svc('shop', 'we"b; rm -rf /', { clusterIP: '10.96.0.26', ports: [{ name: 'ht tp$(x)', port: 80 }] })],
    [eps('shop', 'we"b; rm -rf /', [{ addresses: ready('10.244.0.5'), ports: [{ name: 'ht tp$(x)', port: 8080 }] }])],
  );
  t.regex(text, /--comment "shop\/we_b__rm_-rf_\/:ht_tp__x_ cluster IP"/);
  t.notRegex(text, /we"b|rm -rf|\$\(|ht tp/);
  for (const m of text.matchAll(/^:(\S+)/gm)) t.regex(m[1], /^[A-Z0-9-]{1,28}$/);
});

test('invalid addresses and ports are skipped and reported, never thrown', (t) => {
  const problems: string[] = [];
  const model = buildProxyModel(
    [
      svc('shop', 'a', { clusterIP: '10.96.0.300', ports: [{ name: 'http', port: 80 }] }),
      svc('shop', 'b', { clusterIP: '10.96.0.31', externalIPs: ['1.2.3', '203.0.113.7'], ports: [{ name: 'big', port: 70000 }, { name: 'ok', port: 81 }, { name: 's', port: 82, protocol: 'SCTP' }] }),
      svc('shop', 'c', { clusterIP: '172.16.0.1', ports: [{ name: 'http', port: 80 }] }),
    ],
    [eps('shop', 'b', [{ addresses: ready('10.244.0.5', '10.244.0.999', '-j ACCEPT'), ports: [{ name: 'ok', port: 8080 }] }, { addresses: ready('10.244.0.6'), ports: [{ name: 'ok', port: 0 }] }])],
    { serviceCIDR: '10.96.0.0/12', onProblem: (p) => problems.push(`${p.object}: ${p.message}`) },
  );
  t.deepEqual(
    model.map((s) => s.key),
    ['shop/b:ok'],
  );
  t.deepEqual(model[0].externalIPs, ['203.0.113.7']);
  t.deepEqual(model[0].endpoints, [{ ip: '10.244.0.5', port: 8080, ready: true }]);
  t.true(problems.some((p) => p.includes('shop/a') && p.includes('10.96.0.300')));
  t.true(problems.some((p) => p.includes('shop/c') && p.includes('outside the service CIDR')));
  t.true(problems.some((p) => p.includes('70000')));
  t.true(problems.some((p) => p.includes('SCTP')));
  t.true(problems.some((p) => p.includes('"1.2.3"')));
  t.true(problems.some((p) => p.includes('10.244.0.999')));
  t.true(problems.some((p) => p.includes('-j ACCEPT')));
  t.true(problems.some((p) => p.includes('port "ok" 0')));
});

test('jump rules: into DOCKER-USER when it exists, else FORWARD', (t) => {
  const cn = renderRules([], cfg).chains;
  const withDocker = jumpRules(cn, { dockerUser: true });
  const p = path.join(GOLDEN, 'jumps.rules');
  const text = withDocker.map((j) => `${j.table} ${j.line}`).join('\n') + '\n';
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(p, text);
  t.is(text, fs.readFileSync(p, 'utf8'));
  t.is(withDocker.filter((j) => j.chain === 'DOCKER-USER').length, 1);
  const noDocker = jumpRules(cn, { dockerUser: false });
  t.is(noDocker.filter((j) => j.chain === 'DOCKER-USER').length, 0);
  t.is(noDocker.filter((j) => j.chain === 'FORWARD').length, 3);
  t.deepEqual(withDocker[0].args, ['-m', 'comment', '--comment', 'kubelite service portals', '-j', 'KUBELITE-GOLD-SERVICES']);
  t.is(withDocker[0].line, '-A PREROUTING -m comment --comment "kubelite service portals" -j KUBELITE-GOLD-SERVICES');
});

test('probabilities: 1/n with 10 decimals, compared with the kernel rounding', (t) => {
  t.is(probability(3), '0.3333333333');
  t.is(probability(2), '0.5000000000');
  t.is(probability(7), '0.1428571429');
  t.is(normalizeRule('-A X -m statistic --mode random --probability 0.3333333333 -j Y'), normalizeRule('-A X -m statistic --mode random --probability 0.33333333349 -j Y'));
  t.not(normalizeRule('-A X --probability 0.3333333333'), normalizeRule('-A X --probability 0.25000000000'));
});

function threeEndpointModel(third: string) {
  return buildProxyModel(
    [
      svc('shop', 'web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] }),
      svc('shop', 'other', { clusterIP: '10.96.0.21', ports: [{ name: 'http', port: 80 }] }),
    ],
    [
      eps('shop', 'web', [{ addresses: ready('10.244.0.5', '10.244.0.6', third), ports: [{ name: 'http', port: 8080 }] }]),
      eps('shop', 'other', [{ addresses: ready('10.244.0.9'), ports: [{ name: 'http', port: 8080 }] }]),
    ],
  );
}

test('diff: one endpoint change rewrites exactly the SVC chain and the new SEP chain, and deletes the old SEP chain', (t) => {
  const cache = newRenderCache();
  const m1 = threeEndpointModel('10.244.0.7');
  // As the Proxier does: the unchanged Service keeps its model object.
  const m2 = threeEndpointModel('10.244.0.8').map((s) => (s.key === 'shop/other:http' ? m1.find((o) => o.key === s.key)! : s));
  const before = renderRules(m1, cfg, cache);
  const after = renderRules(m2, cfg, cache);
  const cn = before.chains;
  const d = diffChains(before.tables, after.tables);
  const svcChain = cn.servicePortChain('SVC', 'shop/web:http', 'TCP');
  t.deepEqual(d.write.nat.sort(), [svcChain, cn.endpointChain('shop/web:http', 'TCP', '10.244.0.8:8080')].sort());
  t.deepEqual(d.del.nat, [cn.endpointChain('shop/web:http', 'TCP', '10.244.0.7:8080')]);
  t.deepEqual(d.write.filter, []);
  t.deepEqual(d.del.filter, []);
  // The other Service's output was reused, not rebuilt.
  const otherSvc = cn.servicePortChain('SVC', 'shop/other:http', 'TCP');
  t.is(before.tables.nat.get(otherSvc), after.tables.nat.get(otherSvc));

  const restore = after.toRestore(d.write, d.del);
  t.deepEqual(
    restore.split('\n').filter((l) => l.startsWith(':') || l.startsWith('-X') || l.startsWith('*')),
    // Declarations in descending order (cheapest for iptables-nft), then deletions.
    ['*nat', ...[...d.write.nat, ...d.del.nat].sort().reverse().map((c) => `:${c} - [0:0]`), `-X ${d.del.nat[0]}`],
  );
  // The same render with and without the cache gives the same text.
  t.is(renderRules(threeEndpointModel('10.244.0.8'), cfg).toRestore(), after.toRestore());
});

test('diff: nothing changed means nothing to write; a first sync writes everything', (t) => {
  const a = renderRules(threeEndpointModel('10.244.0.7'), cfg);
  const b = renderRules(threeEndpointModel('10.244.0.7'), cfg);
  const same = diffChains(a.tables, b.tables);
  t.deepEqual(same, { write: { nat: [], filter: [] }, del: { nat: [], filter: [] } });
  const first = diffChains(undefined, b.tables);
  t.is(first.write.nat.length, b.tables.nat.size);
  t.is(first.write.filter.length, b.tables.filter.size);
});

test('diff against a read-back tolerates the kernel rounding of probabilities', (t) => {
  const r = renderRules(threeEndpointModel('10.244.0.7'), cfg);
  const saved = new Map([...r.tables.nat].map(([c, rules]) => [c, rules.map((l) => l.replace('0.3333333333', '0.33333333349').replace('0.5000000000', '0.50000000000'))]));
  t.deepEqual(diffChains({ nat: saved, filter: r.tables.filter }, r.tables, { normalize: true }).write.nat, []);
  t.true(diffChains({ nat: saved, filter: r.tables.filter }, r.tables).write.nat.length > 0);
});

/** Applies restore inputs like iptables-restore --noflush, checking that no state in between has a dangling jump. */
function applyChecked(t: ExecutionContext, kernel: Map<string, string[]>, texts: string[], builtin: Set<string>): void {
  for (const text of texts) {
    const next = new Map(kernel);
    for (const line of text.split('\n')) {
      if (line.startsWith(':')) next.set(line.slice(1).split(' ')[0], []);
      else if (line.startsWith('-A ')) next.get(line.split(' ')[1])!.push(line);
      else if (line.startsWith('-X ')) next.delete(line.slice(3));
    }
    for (const rules of next.values()) {
      for (const r of rules) {
        const target = / -j (\S+)/.exec(r)?.[1];
        if (target && !builtin.has(target)) t.true(next.has(target), `dangling jump to ${target} after a batch`);
      }
    }
    kernel.clear();
    for (const [k, v] of next) kernel.set(k, v);
  }
}

const sorted = (m: Map<string, string[]>) => [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1));

function bigModel(n: number, shift: number) {
  const services: Service[] = [];
  const endpoints: Endpoints[] = [];
  for (let i = 0; i < n; i++) {
    // Every third Service changes its endpoints, every fifth goes away, and some are new.
    if (shift && i % 5 === 0) continue;
    const name = `s${i + (shift && i % 7 === 0 ? 1000 : 0)}`;
    services.push(svc('big', name, { type: i % 2 ? 'NodePort' : 'ClusterIP', clusterIP: `10.96.1.${i}`, ports: [{ name: 'p', port: 80, nodePort: i % 2 ? 30000 + i : undefined }] }));
    const base = shift && i % 3 === 0 ? 100 : 0;
    endpoints.push(eps('big', name, [{ addresses: ready(`10.244.1.${base + i}`, `10.244.2.${base + i}`), ports: [{ name: 'p', port: 8080 }] }]));
  }
  return buildProxyModel(services, endpoints);
}

test('large changes are sliced into restore inputs that never leave a dangling jump', (t) => {
  const builtin = new Set(['MARK', 'MASQUERADE', 'RETURN', 'DNAT', 'REJECT', 'ACCEPT']);
  const before = renderRules(bigModel(60, 0), cfg);
  const kernel = new Map<string, string[]>();
  const first = diffChains(undefined, before.tables);
  const firstTexts = before.toRestoreBatches('nat', first.write.nat, first.del.nat, 40);
  t.true(firstTexts.length > 5);
  applyChecked(t, kernel, firstTexts, builtin);
  t.deepEqual(sorted(kernel), sorted(before.tables.nat));

  const after = renderRules(bigModel(60, 1), cfg);
  const d = diffChains(before.tables, after.tables);
  t.true(d.del.nat.length > 0 && d.write.nat.length > 0);
  const texts = after.toRestoreBatches('nat', d.write.nat, d.del.nat, 40);
  t.true(texts.length > 3);
  applyChecked(t, kernel, texts, builtin);
  t.deepEqual(sorted(kernel), sorted(after.tables.nat));
  // Every chain of one service port travels in one input.
  const svcChain = after.chains.servicePortChain('SVC', 'big/s3:p', 'TCP');
  const sepChain = after.chains.endpointChain('big/s3:p', 'TCP', '10.244.1.103:8080');
  t.true(d.write.nat.includes(svcChain) && d.write.nat.includes(sepChain));
  t.is(texts.filter((x) => x.includes(`:${svcChain} `) || x.includes(`:${sepChain} `)).length, 1);
  // The deletions and the dispatch chain come last.
  t.true(texts.at(-1)!.includes(':KUBELITE-GOLD-SERVICES '));
  t.false(texts.slice(0, -1).some((x) => x.includes('-X ')));
  // Small changes stay one atomic input.
  t.is(after.toRestoreBatches('nat', d.write.nat, d.del.nat).length, 1);
});
