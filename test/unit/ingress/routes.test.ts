import test from 'ava';
import { buildRouteTable, match, normalizeHost, type BuildInput, type MatchResult } from '../../../src/ingress/routes.js';
import { eps, ing, path, svc } from './fixtures.js';

// Three Services with one ready endpoint each; the endpoint IP names the Service in assertions.
const services = [svc('a', [{ name: 'http', port: 80 }]), svc('b', [{ name: 'http', port: 80 }, { name: 'admin', port: 9000 }]), svc('c', [{ port: 8080 }])];
const endpoints = [
  eps('a', [{ ips: ['10.0.0.1'], ports: [{ name: 'http', port: 8080 }] }]),
  eps('b', [{ ips: ['10.0.0.2'], ports: [{ name: 'http', port: 8081 }, { name: 'admin', port: 9090 }] }]),
  eps('c', [{ ips: ['10.0.0.3'], ports: [{ port: 3000 }] }]),
];

function build(ingresses: BuildInput['ingresses'], extra: Partial<BuildInput> = {}) {
  return buildRouteTable({ ingresses, services, endpoints, secrets: [], className: 'kubelite', isDefaultClass: true, ...extra });
}

function to(r: MatchResult): string {
  return 'backend' in r ? `${r.backend.upstreams.map((u) => `${u.ip}:${u.port}`).join(',')}` : `${r.status}`;
}

test('exact host beats a wildcard, which matches exactly one label; rules without host catch the rest', (t) => {
  const { table } = build([
    ing('i', [
      { host: 'foo.example.test', http: { paths: [path('/', 'Prefix', 'a', 80)] } },
      { host: '*.example.test', http: { paths: [path('/', 'Prefix', 'b', 80)] } },
      { http: { paths: [path('/', 'Prefix', 'c', 8080)] } },
    ]),
  ]);
  t.is(to(match(table, 'foo.example.test', '/')), '10.0.0.1:8080');
  t.is(to(match(table, 'bar.example.test', '/')), '10.0.0.2:8081');
  t.is(to(match(table, 'a.b.example.test', '/')), '10.0.0.3:3000', 'two labels: not the wildcard');
  t.is(to(match(table, 'example.test', '/')), '10.0.0.3:3000', 'no label: not the wildcard');
  t.is(to(match(table, 'FOO.Example.TEST:8443', '/x')), '10.0.0.1:8080', 'case and port ignored');
  t.is(to(match(table, 'unknown.test', '/')), '10.0.0.3:3000');
});

test('a host found but no path matching does not fall through to the wildcard', (t) => {
  const { table } = build([
    ing('i', [
      { host: 'foo.example.test', http: { paths: [path('/api', 'Prefix', 'a', 80)] } },
      { host: '*.example.test', http: { paths: [path('/', 'Prefix', 'b', 80)] } },
    ]),
  ]);
  const r = match(table, 'foo.example.test', '/other');
  t.is(to(r), '404');
  t.regex((r as { reason: string }).reason, /no Ingress rule matches host "foo.example.test"/);
});

test('Exact beats Prefix on the same path; longest prefix wins; Prefix matches whole elements', (t) => {
  const { table } = build([
    ing('i', [
      {
        host: 'h.test',
        http: {
          paths: [path('/foo', 'Prefix', 'a', 80), path('/foo', 'Exact', 'b', 80), path('/foo/bar', 'Prefix', 'c', 8080), path('/', 'Prefix', 'b', 'admin')],
        },
      },
    ]),
  ]);
  t.is(to(match(table, 'h.test', '/foo')), '10.0.0.2:8081', 'Exact /foo');
  t.is(to(match(table, 'h.test', '/foo/')), '10.0.0.1:8080', 'Prefix /foo matches /foo/');
  t.is(to(match(table, 'h.test', '/foo/baz')), '10.0.0.1:8080');
  t.is(to(match(table, 'h.test', '/foo/bar')), '10.0.0.3:3000', 'longest prefix');
  t.is(to(match(table, 'h.test', '/foo/bar/x?y=1')), '10.0.0.3:3000', 'query ignored');
  t.is(to(match(table, 'h.test', '/foobar')), '10.0.0.2:9090', '/foo never matches /foobar');
  t.is(to(match(table, 'h.test', '/foo/barn')), '10.0.0.1:8080');
});

test('trailing slash in a Prefix path is ignored; Exact keeps it; ImplementationSpecific is Prefix', (t) => {
  const { table } = build([
    ing('i', [
      { host: 'h.test', http: { paths: [path('/app/', 'Prefix', 'a', 80), path('/x/', 'Exact', 'b', 80), path('/impl', 'ImplementationSpecific', 'c', 8080)] } },
    ]),
  ]);
  t.is(to(match(table, 'h.test', '/app')), '10.0.0.1:8080');
  t.is(to(match(table, 'h.test', '/app/z')), '10.0.0.1:8080');
  t.is(to(match(table, 'h.test', '/x/')), '10.0.0.2:8081');
  t.is(to(match(table, 'h.test', '/x')), '404');
  t.is(to(match(table, 'h.test', '/impl/deep')), '10.0.0.3:3000');
  t.is(to(match(table, 'h.test', '/implant')), '404');
});

test('Service ports by number or name map to the Endpoints port of the same name', (t) => {
  const { table } = build([ing('i', [{ host: 'h.test', http: { paths: [path('/n', 'Prefix', 'b', 9000), path('/s', 'Prefix', 'b', 'admin'), path('/u', 'Prefix', 'c', 8080)] } }])]);
  t.is(to(match(table, 'h.test', '/n')), '10.0.0.2:9090');
  t.is(to(match(table, 'h.test', '/s')), '10.0.0.2:9090');
  t.is(to(match(table, 'h.test', '/u')), '10.0.0.3:3000', 'unnamed single port');
  const r = match(table, 'h.test', '/n');
  t.true('backend' in r && r.backend.key === 'default/b:9000');
});

test('503 when the Service, its port or its ready endpoints are missing', (t) => {
  const notReady = eps('d', [{ ips: [], notReady: ['10.0.0.9'], ports: [{ name: 'http', port: 80 }] }]);
  const { table } = build(
    [
      ing('i', [
        {
          host: 'h.test',
          http: { paths: [path('/missing', 'Prefix', 'nope', 80), path('/port', 'Prefix', 'a', 81), path('/unready', 'Prefix', 'd', 80), path('/noeps', 'Prefix', 'e', 80), path('/ext', 'Prefix', 'x', 80)] },
        },
      ]),
    ],
    { services: [...services, svc('d', [{ name: 'http', port: 80 }]), svc('e', [{ port: 80 }]), svc('x', [{ port: 80 }], 'default', 'ExternalName')], endpoints: [...endpoints, notReady] },
  );
  const reason = (p: string) => {
    const r = match(table, 'h.test', p);
    return 'status' in r ? `${r.status} ${r.reason}` : 'routed';
  };
  t.regex(reason('/missing'), /^503 service default\/nope does not exist/);
  t.regex(reason('/port'), /^503 service default\/a has no port "81"/);
  t.regex(reason('/unready'), /^503 service default\/d port 80 has no ready endpoints/);
  t.regex(reason('/noeps'), /^503 .*no ready endpoints/);
  t.regex(reason('/ext'), /^503 .*ExternalName/);
});

test('class selection: field, then legacy annotation, then default class', (t) => {
  const rule = (svcName: string) => [{ host: `${svcName}.test`, http: { paths: [path('/', 'Prefix', svcName, svcName === 'c' ? 8080 : 80)] } }];
  const ingresses = [
    ing('field-ours', rule('a'), { className: 'kubelite' }),
    ing('field-other', rule('b'), { className: 'nginx', annotations: { 'kubernetes.io/ingress.class': 'kubelite' } }),
    ing('annotation-ours', rule('c'), { annotations: { 'kubernetes.io/ingress.class': 'kubelite' } }),
    ing('none', [{ host: 'none.test', http: { paths: [path('/', 'Prefix', 'a', 80)] } }]),
  ];
  const asDefault = build(ingresses);
  t.deepEqual(asDefault.table.ingresses.sort(), ['default/annotation-ours', 'default/field-ours', 'default/none']);
  t.is(to(match(asDefault.table, 'b.test', '/')), '404');
  const notDefault = build(ingresses, { isDefaultClass: false });
  t.deepEqual(notDefault.table.ingresses.sort(), ['default/annotation-ours', 'default/field-ours']);
  t.is(to(match(notDefault.table, 'none.test', '/')), '404');
});

test('conflicts: the older Ingress wins the same host and path, the other is reported', (t) => {
  const older = ing('older', [{ host: 'h.test', http: { paths: [path('/p', 'Prefix', 'a', 80)] } }], { created: '2024-01-01T00:00:00Z', ns: 'zz' });
  const newer = ing('newer', [{ host: 'h.test', http: { paths: [path('/p/', 'Prefix', 'b', 80), path('/q', 'Prefix', 'b', 80)] } }], { created: '2024-02-01T00:00:00Z', ns: 'aa' });
  const r = buildRouteTable({
    ingresses: [newer, older],
    services: [...services, svc('a', [{ name: 'http', port: 80 }], 'zz')],
    endpoints: [...endpoints, eps('a', [{ ips: ['10.9.9.9'], ports: [{ name: 'http', port: 80 }] }], 'zz')],
    secrets: [],
    className: 'kubelite',
    isDefaultClass: true,
  });
  t.is(to(match(r.table, 'h.test', '/p')), '10.9.9.9:80', 'older wins, whatever the list order');
  t.is(to(match(r.table, 'h.test', '/q')), '503', 'the newer Ingress keeps its other paths (its namespace has no Service b)');
  t.deepEqual(r.conflicts, [{ ingress: 'aa/newer', host: 'h.test', path: '/p', winner: 'zz/older' }]);
});

test('same creationTimestamp: namespace/name decides', (t) => {
  const x = ing('x', [{ host: 'h.test', http: { paths: [path('/', 'Prefix', 'a', 80)] } }]);
  const y = ing('y', [{ host: 'h.test', http: { paths: [path('/', 'Prefix', 'b', 80)] } }]);
  const r = build([y, x]);
  t.is(to(match(r.table, 'h.test', '/')), '10.0.0.1:8080');
  t.deepEqual(r.conflicts.map((c) => [c.ingress, c.winner]), [['default/y', 'default/x']]);
});

test('defaultBackend: the host Ingress own first, else the oldest one, else 404', (t) => {
  const first = ing('first', [{ host: 'one.test', http: { paths: [path('/api', 'Prefix', 'a', 80)] } }], { created: '2024-01-01T00:00:00Z', defaultBackend: { service: 'b', port: 80 } });
  const second = ing('second', [{ host: 'two.test', http: { paths: [path('/api', 'Prefix', 'a', 80)] } }], { created: '2024-03-01T00:00:00Z', defaultBackend: { service: 'c', port: 8080 } });
  const third = ing('third', [{ host: 'three.test', http: { paths: [path('/api', 'Prefix', 'a', 80)] } }], { created: '2024-04-01T00:00:00Z' });
  const { table } = build([third, second, first]);
  t.is(to(match(table, 'one.test', '/else')), '10.0.0.2:8081');
  t.is(to(match(table, 'two.test', '/else')), '10.0.0.3:3000');
  t.is(to(match(table, 'three.test', '/else')), '10.0.0.2:8081', 'oldest defaultBackend');
  t.is(to(match(table, 'nobody.test', '/')), '10.0.0.2:8081');
  t.is(to(match(build([third]).table, 'nobody.test', '/')), '404');
});

test('invalid hosts and paths are skipped and reported, other rules still served', (t) => {
  const r = build([
    ing('i', [
      { host: 'Bad_Host!', http: { paths: [path('/', 'Prefix', 'a', 80)] } },
      { host: 'ok.test', http: { paths: [path('/has space', 'Prefix', 'a', 80), path('relative', 'Prefix', 'a', 80), path('/fine', 'Prefix', 'a', 80)] } },
    ]),
  ]);
  t.is(r.invalid.length, 3);
  t.is(to(match(r.table, 'ok.test', '/fine')), '10.0.0.1:8080');
});

test('endpoints: only ready addresses of the named port, deduplicated and sorted', (t) => {
  const r = build([ing('i', [{ host: 'h.test', http: { paths: [path('/', 'Prefix', 'a', 80)] } }])], {
    endpoints: [
      eps('a', [
        { ips: ['10.0.0.7', '10.0.0.5'], notReady: ['10.0.0.6'], ports: [{ name: 'http', port: 8080 }, { name: 'other', port: 1 }] },
        { ips: ['10.0.0.5'], ports: [{ name: 'http', port: 8080 }] },
      ]),
    ],
  });
  t.is(to(match(r.table, 'h.test', '/')), '10.0.0.5:8080,10.0.0.7:8080');
});

test('TLS hosts get a redirect unless annotated off; problems reported for bad secrets', (t) => {
  const r = build([
    ing('secure', [{ host: 's.test', http: { paths: [path('/', 'Prefix', 'a', 80)] } }], { tls: [{ hosts: ['s.test'], secretName: 'missing' }] }),
    ing('plain', [{ host: 'p.test', http: { paths: [path('/', 'Prefix', 'a', 80)] } }], {
      tls: [{ hosts: ['p.test'], secretName: 'missing2' }],
      annotations: { 'nginx.ingress.kubernetes.io/ssl-redirect': 'false' },
    }),
  ]);
  t.true(r.table.hosts.get('s.test')!.sslRedirect);
  t.true(r.table.hosts.get('p.test')!.tls);
  t.false(r.table.hosts.get('p.test')!.sslRedirect);
  t.deepEqual(r.tlsProblems.map((p) => [p.ingress, p.secret, p.reason]), [
    ['default/plain', 'default/missing2', 'secret not found'],
    ['default/secure', 'default/missing', 'secret not found'],
  ]);
});

test('normalizeHost strips port, case, trailing dot; keeps IPv6 literals whole', (t) => {
  t.is(normalizeHost('Foo.Test:8080'), 'foo.test');
  t.is(normalizeHost('foo.test.'), 'foo.test');
  t.is(normalizeHost('[::1]:80'), '[::1]');
});
