import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import type { CertStore } from '../../../src/ingress/certs.js';
import { IngressControllerCore, ingressClassObject, type ProblemKind } from '../../../src/ingress/controller-core.js';
import { match, type RouteTable } from '../../../src/ingress/routes.js';
import { eps, ing, path, svc, tlsSecret } from './fixtures.js';

function setup() {
  const updates: { table: RouteTable; certs: CertStore }[] = [];
  const problems: [ProblemKind, string, string][] = [];
  const core = new IngressControllerCore({
    defaultCert: { certPem: 'C', keyPem: 'K' },
    proxy: { update: (table, certs) => updates.push({ table, certs }) },
    onProblem: (k, i, m) => problems.push([k, i, m]),
    address: '192.0.2.10',
    debounceMs: 2,
  });
  return { core, updates, problems };
}

test('changes are batched by the debounce and reach the proxy within a few ms', async (t) => {
  const { core, updates } = setup();
  t.teardown(() => core.dispose());
  const t0 = performance.now();
  core.upsert(svc('a', [{ port: 80 }]));
  core.upsert(eps('a', [{ ips: ['10.0.0.1'], ports: [{ port: 8080 }] }]));
  core.upsert(ing('i', [{ host: 'h.test', http: { paths: [path('/', 'Prefix', 'a', 80)] } }]));
  while (updates.length === 0 && performance.now() - t0 < 1000) await sleep(1);
  t.true(performance.now() - t0 < 100, 'under 100 ms');
  t.is(updates.length, 1, 'three upserts, one rebuild');
  const m = match(updates[0].table, 'h.test', '/');
  t.true('backend' in m && m.backend.upstreams[0].ip === '10.0.0.1');

  core.remove(eps('a', []));
  await sleep(20);
  t.is(updates.length, 2);
  const after = match(updates[1].table, 'h.test', '/');
  t.true('status' in after && after.status === 503);
});

test('unrelated Secrets do not rebuild; problems are reported once, and again only when new', async (t) => {
  const { core, updates, problems } = setup();
  t.teardown(() => core.dispose());
  core.upsert(tlsSecret('unrelated', 'x', 'y'));
  await sleep(10);
  t.is(updates.length, 0);
  core.upsert(ing('old', [{ host: 'h.test', http: { paths: [path('/', 'Prefix', 'a', 80)] } }], { created: '2024-01-01T00:00:00Z' }));
  core.upsert(ing('new', [{ host: 'h.test', http: { paths: [path('/', 'Prefix', 'a', 80)] } }], { created: '2024-02-01T00:00:00Z', tls: [{ hosts: ['h.test'], secretName: 'bad' }] }));
  core.rebuild();
  core.upsert(svc('a', [{ port: 80 }]));
  core.rebuild();
  t.deepEqual(problems.map(([k, i]) => [k, i]), [
    ['Conflict', 'default/new'],
    ['TLS', 'default/new'],
  ]);
  t.regex(problems[0][2], /already served by the older Ingress default\/old/);
  t.regex(problems[1][2], /default\/bad: secret not found; serving the default certificate/);
  core.upsert(tlsSecret('bad', 'garbage', 'garbage'));
  core.rebuild();
  t.is(problems.length, 3, 'a different TLS reason is a new problem');
  t.regex(problems[2][2], /not a valid certificate\/key pair/);
});

test('IngressClass: ours is default until another answer; status is the configured address', (t) => {
  const { core } = setup();
  t.teardown(() => core.dispose());
  t.true(core.isDefaultClass());
  core.upsert(ingressClassObject());
  t.true(core.isDefaultClass());
  const notDefault = ingressClassObject();
  notDefault.metadata.annotations = {};
  core.upsert(notDefault);
  t.false(core.isDefaultClass());
  core.upsert(ing('unclassed', [{ host: 'h.test', http: { paths: [path('/', 'Prefix', 'a', 80)] } }]));
  core.upsert(ing('classed', [{ host: 'k.test', http: { paths: [path('/', 'Prefix', 'a', 80)] } }], { className: 'kubelite' }));
  core.rebuild();
  t.deepEqual(core.served(), ['default/classed']);
  t.deepEqual(core.status(), [{ ip: '192.0.2.10' }]);
  t.deepEqual(ingressClassObject().metadata.annotations, { 'ingressclass.kubernetes.io/is-default-class': 'true' });
});
