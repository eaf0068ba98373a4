import test from 'ava';
import { buildCertStore, type PemPair } from '../../../src/ingress/certs.js';
import { assignSlots, diffPlans, planHAProxy, renderConfig, DEFAULT_HAPROXY_OPTIONS, type HAPlan } from '../../../src/ingress/haproxy-plan.js';
import { buildRouteTable, match, type BuildInput } from '../../../src/ingress/routes.js';
import { eps, ing, path, svc } from './fixtures.js';

const fakeCert: PemPair = { certPem: 'CERT', keyPem: 'KEY' };
const services = [svc('a', [{ port: 80 }]), svc('b', [{ port: 80 }]), svc('c', [{ port: 80 }])];
const endpoints = [
  eps('a', [{ ips: ['10.0.0.1', '10.0.0.11'], ports: [{ port: 8080 }] }]),
  eps('b', [{ ips: ['10.0.0.2'], ports: [{ port: 8080 }] }]),
  eps('c', [{ ips: ['10.0.0.3'], ports: [{ port: 8080 }] }]),
];
const ingresses = [
  ing('main', [
    { host: 'h.test', http: { paths: [path('/', 'Prefix', 'a', 80), path('/foo', 'Prefix', 'b', 80), path('/foo', 'Exact', 'c', 80), path('/foo/bar', 'Prefix', 'c', 80), path('/gone', 'Prefix', 'zz', 80)] } },
    { host: '*.w.test', http: { paths: [path('/x', 'Exact', 'b', 80)] } },
    { http: { paths: [path('/any', 'Prefix', 'c', 80)] } },
  ], { defaultBackend: { service: 'b', port: 80 } }),
  ing('other', [{ host: 'o.test', http: { paths: [path('/api', 'Prefix', 'a', 80)] } }], { created: '2024-06-01T00:00:00Z' }),
];

function build(extra: Partial<BuildInput> = {}) {
  return buildRouteTable({ ingresses, services, endpoints, secrets: [], className: 'kubelite', isDefaultClass: true, ...extra }).table;
}

/** What the rendered frontend does with the maps, step by step, in plain code. */
function simulate(plan: HAPlan, hostHeader: string, path: string): string {
  const lookup = (m: keyof HAPlan['maps'], k: string) => plan.maps[m].find(([key]) => key === k)?.[1];
  const host = hostHeader.split(':')[0].toLowerCase();
  const hk = lookup('hosts', host) ?? lookup('wild', host.split('.').slice(1).join('.')) ?? '_';
  const key = hk + path;
  const be = lookup('exact', key) ?? plan.maps.prefix.find(([k]) => key.startsWith(k))?.[1] ?? lookup('hostdefault', hk);
  return be ?? '404';
}

test('the HAProxy maps route every request exactly like match()', (t) => {
  const table = build();
  const plan = planHAProxy(table, buildCertStore(table, fakeCert));
  const nameOf = new Map([...plan.backends.values()].map((b) => [b.key, b.name]));
  const cases: [string, string][] = [
    ['h.test', '/'], ['h.test', '/foo'], ['h.test', '/foo/'], ['h.test', '/foobar'], ['h.test', '/foo/bar'], ['h.test', '/foo/bar/baz'],
    ['h.test', '/foo/barbaz'], ['H.TEST:80', '/foo'], ['h.test', '/gone/x'], ['a.w.test', '/x'], ['a.w.test', '/x/y'], ['a.b.w.test', '/x'],
    ['w.test', '/any/1'], ['nohost', '/any'], ['nohost', '/anything'], ['o.test', '/api/v1'], ['o.test', '/'], ['o.test', '/apix'],
  ];
  for (const [h, p] of cases) {
    const m = match(table, h, p);
    const expected = 'backend' in m ? nameOf.get(m.backend.key) ?? 'missing' : m.status === 503 ? nameOf.get(`error:${m.reason}`) ?? 'missing' : '404';
    t.is(simulate(plan, h, p), expected, `${h}${p}`);
  }
});

test('prefix entries are longest first and whole-element; Exact wins the exact key', (t) => {
  const table = build();
  const plan = planHAProxy(table, buildCertStore(table, fakeCert));
  const keys = plan.maps.prefix.map(([k]) => k);
  t.deepEqual([...keys].sort((a, b) => b.length - a.length), keys);
  t.true(keys.includes('h.test/foo/'));
  t.false(keys.includes('h.test/foo'));
  const c = plan.backends.get('default/c:80')!.name;
  t.is(plan.maps.exact.find(([k]) => k === 'h.test/foo')?.[1], c);
  t.is(plan.maps.wild.find(([k]) => k === 'w.test')?.[1], '*.w.test');
});

test('assignSlots keeps endpoints in place and fills never-used slots first', (t) => {
  const u = (n: number) => ({ ip: `10.0.0.${n}`, port: 80 });
  const first = assignSlots(undefined, [u(1), u(2), u(3)], 4);
  t.deepEqual(first, [u(1), u(2), u(3), null]);
  const second = assignSlots(first, [u(3), u(4), u(1)], 4);
  t.deepEqual(second, [u(1), null, u(3), u(4)], '2 leaves its slot; 4 takes the never-used one');
  t.deepEqual(assignSlots(second, [u(1), u(3), u(4), u(5)], 4), [u(1), u(5), u(3), u(4)]);
});

test('an endpoint change is a runtime server update, no reload and no map change', (t) => {
  const t1 = build();
  const p1 = planHAProxy(t1, buildCertStore(t1, fakeCert));
  const t2 = build({ endpoints: [eps('a', [{ ips: ['10.0.0.1', '10.0.0.12'], ports: [{ port: 8080 }] }]), endpoints[1], endpoints[2]] });
  const p2 = planHAProxy(t2, buildCertStore(t2, fakeCert), p1);
  const d = diffPlans(p1, p2);
  t.false(d.reload);
  const a = p1.backends.get('default/a:80')!.name;
  t.deepEqual(!d.reload && d.steps, [
    { kind: 'server', backend: a, slot: 2, upstream: { ip: '10.0.0.12', port: 8080 } },
    { kind: 'server', backend: a, slot: 1, upstream: null },
  ]);
});

test('a new Ingress to a new Service is maps + servers at runtime; the new backend is one never used', (t) => {
  const t1 = build();
  const p1 = planHAProxy(t1, buildCertStore(t1, fakeCert));
  const t2 = build({
    ingresses: [...ingresses, ing('new', [{ host: 'n.test', http: { paths: [path('/', 'Prefix', 'd', 80)] } }], { created: '2025-01-01T00:00:00Z' })],
    services: [...services, svc('d', [{ port: 80 }])],
    endpoints: [...endpoints, eps('d', [{ ips: ['10.0.0.4'], ports: [{ port: 8080 }] }])],
  });
  const p2 = planHAProxy(t2, buildCertStore(t2, fakeCert), p1);
  for (const [k, b] of p1.backends) t.is(p2.backends.get(k)?.name, b.name, 'existing backends keep their names');
  const d = diffPlans(p1, p2);
  t.false(d.reload);
  if (d.reload) return;
  const kinds = d.steps.map((s) => ('map' in s ? `${s.kind}:${s.map}` : s.kind));
  t.is(kinds[0], 'server', 'servers before the maps that lead to them');
  t.is(kinds.at(-1), 'map-add:hosts', 'hosts map entry added last');
});

test('SNI certificate changes are runtime add-then-delete steps', (t) => {
  const withTLS = (secretCert: string) => {
    const table = build();
    table.certs = [{ secret: 'default/s', ingress: 'default/main', hosts: ['h.test'], certPem: secretCert, keyPem: 'KEY\n\nWITH BLANK' }];
    return planHAProxy(table, buildCertStore(table, fakeCert));
  };
  const p1 = withTLS('OLD');
  const p2 = planHAProxy(build(), buildCertStore(build(), fakeCert), p1);
  const p3 = withTLS('NEW');
  const d = diffPlans(p1, { ...p3, backends: p1.backends, backendCount: p1.backendCount, serverSlots: p1.serverSlots, maps: p1.maps });
  t.false(d.reload);
  if (d.reload) return;
  t.deepEqual(d.steps.map((s) => s.kind), ['cert-add', 'cert-del']);
  const add = d.steps[0] as { pem: string; hosts: string[] };
  t.deepEqual(add.hosts, ['h.test']);
  t.false(/\n\s*\n/.test(add.pem), 'no blank line: it would end the CLI payload');
  t.deepEqual(diffPlans(p1, p2).reload ? [] : (diffPlans(p1, p2) as { steps: { kind: string }[] }).steps.map((s) => s.kind), ['cert-del']);
});

test('default certificate changes and pool growth reload', (t) => {
  const t1 = build();
  const p1 = planHAProxy(t1, buildCertStore(t1, fakeCert));
  const p2 = planHAProxy(t1, buildCertStore(t1, { certPem: 'OTHER', keyPem: 'KEY' }), p1);
  t.deepEqual(diffPlans(p1, p2), { reload: true, reason: 'default certificate changed' });
  const many = Array.from({ length: 20 }, (_, i) => `10.1.0.${i + 1}`);
  const t3 = build({ endpoints: [eps('a', [{ ips: many, ports: [{ port: 8080 }] }]), endpoints[1], endpoints[2]] });
  const p3 = planHAProxy(t3, buildCertStore(t3, fakeCert), p1);
  t.is(p3.serverSlots, 32);
  t.true(diffPlans(p1, p3).reload);
});

test('renderConfig: listeners, timeouts, pool, and refuses unsafe paths', (t) => {
  const table = build();
  const plan = planHAProxy(table, buildCertStore(table, fakeCert));
  const cfg = renderConfig(plan, { ...DEFAULT_HAPROXY_OPTIONS, httpPort: 8080, httpsPort: 8443, bindAddress: '127.0.0.1', runDir: '/run/kl', headerTimeoutMs: 2000 });
  t.regex(cfg, /bind 127\.0\.0\.1:8080\n/);
  t.regex(cfg, /bind 127\.0\.0\.1:8443 ssl crt \/run\/kl\/certs\/default\.pem crt-list \/run\/kl\/certs\/list\.txt/);
  t.regex(cfg, /timeout http-request 2000ms/);
  t.regex(cfg, /redirect location https:\/\/%\[var\(txn\.host\)\]:8443%\[capture\.req\.uri\] code 308/);
  t.is(cfg.match(/^backend b\d+$/gm)?.length, plan.backendCount);
  t.regex(cfg, /server s1 10\.0\.0\.1:8080\n  server s2 10\.0\.0\.11:8080\n  server s3 127\.0\.0\.1:1 disabled/);
  t.throws(() => renderConfig(plan, { ...DEFAULT_HAPROXY_OPTIONS, httpPort: 1, httpsPort: 2, bindAddress: '127.0.0.1', runDir: '/tmp/a b' }), { message: /run directory/ });
  t.throws(() => renderConfig(plan, { ...DEFAULT_HAPROXY_OPTIONS, httpPort: 1, httpsPort: 2, bindAddress: '1.2.3.4; rm', runDir: '/x' }), { message: /bind address/ });
});

test('malformed endpoint addresses never reach the config', (t) => {
  const table = build({ endpoints: [eps('a', [{ ips: ['10.0.0.1', 'evil\nbackend x'], ports: [{ port: 8080 }] }]), endpoints[1], endpoints[2]] });
  const plan = planHAProxy(table, buildCertStore(table, fakeCert));
  t.deepEqual(plan.backends.get('default/a:80')!.servers.filter(Boolean), [{ ip: '10.0.0.1', port: 8080 }]);
});
