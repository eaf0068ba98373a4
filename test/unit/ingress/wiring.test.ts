// The ingress component's decisions, without a server: status writes, Event reasons, which updates
// rebuild, the default IngressClass, the run dir, HAProxy preflight, kubectl's describe layout, and
// the helpers of `kubelite tls create`.

import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import type { Endpoints, Event, Ingress, IngressClass } from '../../../src/api/types.js';
import { defaultIngressClass, defaultIngressClassName, ingressChangeMatters, planStatusWrites, problemReason } from '../../../src/ingress/status.js';
import { checkHAProxy, explainStartFailure, findBinary, ingressRunDir, parseHAProxyVersion } from '../../../src/ingress/preflight.js';
import { describeIngress, formatEndpoints, tabwrite } from '../../../src/ingress/describe.js';
import { loadOrCreateDefaultCert } from '../../../src/ingress/default-cert.js';
import { generateDefaultCert } from '../../../src/ingress/certs.js';
import { checkHosts, createTls, tlsSecretManifest } from '../../../cli/commands/tls.js';
import { eps, ing, path as ipath, svc } from './fixtures.js';

const withStatus = (i: Ingress, ips: string[]): Ingress => ({ ...i, status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } } });

test('status: served Ingresses get the address once; unserved ones lose exactly ours; right ones cost nothing', (t) => {
  const want = [{ ip: '192.0.2.1' }];
  const rule = [{ host: 'a.test', http: { paths: [ipath('/', 'Prefix', 's', 80)] } }];
  const fresh = ing('fresh', rule);
  const right = withStatus(ing('right', rule), ['192.0.2.1']);
  const stale = withStatus(ing('stale', rule), ['192.0.2.9']);
  const moved = withStatus(ing('moved', rule, { className: 'other' }), ['192.0.2.1']);
  const foreign = withStatus(ing('foreign', rule, { className: 'other' }), ['198.51.100.7']);
  const gone = { ...withStatus(ing('gone', rule), []), metadata: { ...ing('gone', rule).metadata, deletionTimestamp: '2024-01-01T00:00:00Z' } };
  const served = new Set(['default/fresh', 'default/right', 'default/stale', 'default/gone']);
  const writes = planStatusWrites([fresh, right, stale, moved, foreign, gone], served, want);
  t.deepEqual(writes, [
    { namespace: 'default', name: 'fresh', ingress: [{ ip: '192.0.2.1' }] },
    { namespace: 'default', name: 'stale', ingress: [{ ip: '192.0.2.1' }] },
    { namespace: 'default', name: 'moved', ingress: [] },
  ]);
});

test('Event reasons name the problem', (t) => {
  t.is(problemReason('Conflict', 'x'), 'Conflict');
  t.is(problemReason('Invalid', 'x'), 'InvalidRule');
  t.is(problemReason('TLS', 'TLS secret default/x: secret not found; serving the default certificate'), 'TLSSecretNotFound');
  t.is(problemReason('TLS', 'TLS secret default/x: secret is of type "Opaque"'), 'InvalidTLSSecret');
});

test('a status-only update does not rebuild; spec, annotations and deletion do', (t) => {
  const a = ing('a', [{ host: 'a.test', http: { paths: [ipath('/', 'Prefix', 's', 80)] } }]);
  t.false(ingressChangeMatters(a, withStatus({ ...a, metadata: { ...a.metadata, resourceVersion: '9' } }, ['192.0.2.1'])));
  t.true(ingressChangeMatters(a, { ...a, spec: { ...a.spec, rules: [] } }));
  t.true(ingressChangeMatters(a, { ...a, metadata: { ...a.metadata, annotations: { 'kubelite.io/ssl-redirect': 'false' } } }));
  t.true(ingressChangeMatters(a, { ...a, metadata: { ...a.metadata, deletionTimestamp: '2024-01-01T00:00:00Z' } }));
});

const cls = (name: string, created: string, isDefault: boolean): IngressClass => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name, creationTimestamp: created, annotations: isDefault ? { 'ingressclass.kubernetes.io/is-default-class': 'true' } : {} },
  spec: { controller: 'x.io/c' },
});

test('default IngressClass: newest default wins, then name; a class named by field or annotation is kept', (t) => {
  t.is(defaultIngressClassName([]), undefined);
  t.is(defaultIngressClassName([cls('a', '2024-01-01T00:00:00Z', false)]), undefined);
  t.is(defaultIngressClassName([cls('old', '2024-01-01T00:00:00Z', true), cls('new', '2024-02-01T00:00:00Z', true)]), 'new');
  t.is(defaultIngressClassName([cls('b', '2024-01-01T00:00:00Z', true), cls('a', '2024-01-01T00:00:00Z', true)]), 'a');
  const classes = [cls('kubelite', '2024-01-01T00:00:00Z', true)];
  const plain = ing('p', []);
  t.true(defaultIngressClass(plain, classes));
  t.is(plain.spec.ingressClassName, 'kubelite');
  const named = ing('n', [], { className: 'nginx' });
  t.false(defaultIngressClass(named, classes));
  t.is(named.spec.ingressClassName, 'nginx');
  const legacy = ing('l', [], { annotations: { 'kubernetes.io/ingress.class': 'nginx' } });
  t.false(defaultIngressClass(legacy, classes));
  t.is(legacy.spec.ingressClassName, undefined);
});

test('run dir: under the data dir when short and plain, else /run by instance', (t) => {
  t.is(ingressRunDir('/var/lib/kubelite', ''), '/var/lib/kubelite/ingress/run');
  t.is(ingressRunDir('/tmp/kubelite-t8-abc/', 't8'), '/tmp/kubelite-t8-abc/ingress/run');
  t.is(ingressRunDir('/data/with space', 't8'), '/run/kubelite/ingress-t8');
  t.is(ingressRunDir(`/${'x'.repeat(90)}`, ''), '/run/kubelite/ingress-default');
});

test('HAProxy preflight: version parsing, a missing binary names the package and --disable ingress', (t) => {
  t.deepEqual(parseHAProxyVersion('HAProxy version 2.6.12-1+deb12u1 2023/12/16 - https://haproxy.org/'), [2, 6]);
  t.deepEqual(parseHAProxyVersion('HA-Proxy version 1.8.19 2019/02/11'), [1, 8]);
  t.is(parseHAProxyVersion('nginx version: nginx/1.22.1'), undefined);
  t.is(findBinary('surely-not-installed-kl'), undefined);
  const err = t.throws(() => checkHAProxy('surely-not-installed-kl'));
  t.regex(err!.message, /apt-get install haproxy/);
  t.regex(err!.message, /--disable ingress/);
  // a program that prints no HAProxy version is refused too
  t.throws(() => checkHAProxy('/bin/true'), { message: /did not print an HAProxy version/ });
});

test('a start failure on a taken port names the flag to change', async (t) => {
  const net = await import('node:net');
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  t.teardown(() => s.close());
  const port = (s.address() as import('node:net').AddressInfo).port;
  const e = await explainStartFailure(new Error('haproxy exited at start (code 1)'), { address: '127.0.0.1', http: port, https: port + 1 });
  t.regex(e.message, new RegExp(`127\\.0\\.0\\.1:${port}: the address is in use.*--ingress-http-port.*--disable ingress`));
});

test('tabwrite aligns column blocks of consecutive lines as Go text/tabwriter does', (t) => {
  const text = 'Name:\tx\nLonger key:\ty\nplain line\n  a\tb\tc\n  aaaa\t\n    \tp \tq\n';
  t.is(tabwrite(text), ['Name:        x', 'Longer key:  y', 'plain line', '  a     b  c', '  aaaa  ', '        p   q', ''].join('\n'));
});

test('formatEndpoints: three at most, then how many more; only the named port', (t) => {
  const e: Endpoints = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'e' },
    subsets: [{ addresses: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((ip) => ({ ip })), ports: [{ name: 'http', port: 8080 }, { name: 'admin', port: 9000 }] }],
  };
  t.is(formatEndpoints(e, 'http'), '10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080 + 1 more...');
  t.is(formatEndpoints({ ...e, subsets: [] }, 'http'), '<none>');
  t.is(formatEndpoints(e, 'other'), '');
});

test('describeIngress prints kubectl\'s layout: rules with endpoints, TLS, annotations, events', (t) => {
  const i = ing('demo', [
    { host: 'demo.test', http: { paths: [ipath('/api', 'Prefix', 'api', 80), ipath('/', 'Prefix', 'web', 'http')] } },
  ], { tls: [{ hosts: ['demo.test'], secretName: 'demo-tls' }], annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', a: 'b' }, className: 'kubelite' });
  i.status = { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } };
  const services = new Map([['default/api', svc('api', [{ name: 'http', port: 80 }])], ['default/web', svc('web', [{ name: 'http', port: 80 }])]]);
  const endpoints = new Map([['default/api', eps('api', [{ ips: ['10.1.0.5'], ports: [{ name: 'http', port: 8080 }] }])]]);
  const lookup = { service: (ns: string, n: string) => services.get(`${ns}/${n}`), endpoints: (ns: string, n: string) => endpoints.get(`${ns}/${n}`) };
  const now = Date.parse('2024-01-01T00:01:00Z');
  const ev: Event = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'e', namespace: 'default' },
    involvedObject: { kind: 'Ingress', name: 'demo' },
    type: 'Warning',
    reason: 'TLSSecretNotFound',
    message: 'TLS secret default/demo-tls: secret not found',
    count: 2,
    firstTimestamp: '2024-01-01T00:00:00Z',
    lastTimestamp: '2024-01-01T00:00:30Z',
    source: { component: 'kubelite-ingress' },
  };
  const out = describeIngress(i, lookup, [ev], now);
  t.is(
    out,
    [
      'Name:             demo',
      'Labels:           <none>',
      'Namespace:        default',
      'Address:          192.0.2.1',
      'Ingress Class:    kubelite',
      'Default backend:  <default>',
      'TLS:',
      '  demo-tls terminates demo.test',
      'Rules:',
      '  Host        Path  Backends',
      '  ----        ----  --------',
      '  demo.test   ',
      '              /api   api:80 (10.1.0.5:8080)',
      '              /      web:http (<error: endpoints "web" not found>)',
      'Annotations:  a: b',
      'Events:',
      '  Type     Reason             Age                From              Message',
      '  ----     ------             ----               ----              -------',
      '  Warning  TLSSecretNotFound  30s (x2 over 60s)  kubelite-ingress  TLS secret default/demo-tls: secret not found',
      '',
    ].join('\n'),
  );
  const bare = describeIngress({ ...i, spec: { defaultBackend: { service: { name: 'api', port: { number: 80 } } } }, metadata: { name: 'd', namespace: 'default' } }, lookup, [], now);
  t.regex(bare, /Default backend:  api:80 \(10\.1\.0\.5:8080\)\n/);
  t.regex(bare, /\n  \*           \*     api:80 \(10\.1\.0\.5:8080\)\n/);
  t.regex(bare, /Events:       <none>\n$/);
});

test('the default certificate is made once, 0600 key, and reused while valid', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kl-defcert-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  let calls = 0;
  const gen = async () => (calls++, generateDefaultCert());
  const first = await loadOrCreateDefaultCert(dir, gen);
  t.true(first.created);
  t.is(fs.statSync(path.join(dir, 'default.key')).mode & 0o777, 0o600);
  t.is(new X509Certificate(first.pair.certPem).subject, 'CN=Kubelite Ingress Default Certificate');
  const again = await loadOrCreateDefaultCert(dir, gen);
  t.false(again.created);
  t.is(again.pair.certPem, first.pair.certPem);
  fs.writeFileSync(path.join(dir, 'default.key'), 'garbage');
  const repaired = await loadOrCreateDefaultCert(dir, gen);
  t.true(repaired.created, 'a broken pair is replaced');
  t.is(calls, 2);
});

test('tls create helpers: hosts checked and lower-cased, a Secret manifest like kubectl create secret tls', async (t) => {
  t.deepEqual(checkHosts(['Demo.Kubelite.Test', 'a.test,*.b.test', 'a.test']), ['demo.kubelite.test', 'a.test', '*.b.test']);
  t.throws(() => checkHosts(['bad_host']), { message: /--host "bad_host"/ });
  t.throws(() => checkHosts([]), { message: /at least one --host/ });
  const s = tlsSecretManifest('demo-tls', 'C', 'K', 'ns1');
  t.deepEqual(s, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'demo-tls', namespace: 'ns1' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'Qw==', 'tls.key': 'Sw==' } });
  t.throws(() => tlsSecretManifest('Bad Name', '', ''), { message: /--secret "Bad Name"/ });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kl-tlscreate-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const one = await createTls(['demo.kubelite.test'], dir, 30);
  t.true(one.caCreated);
  const two = await createTls(['other.test', '*.other.test'], dir, 30);
  t.false(two.caCreated, 'the CA is reused');
  const ca = new X509Certificate(fs.readFileSync(two.files.caCert));
  const leaf = new X509Certificate(fs.readFileSync(two.files.cert));
  t.true(leaf.verify(ca.publicKey));
  t.truthy(leaf.checkHost('x.other.test'));
  t.is(fs.statSync(two.files.key).mode & 0o777, 0o600);
  t.is(fs.statSync(two.files.caKey).mode & 0o777, 0o600);
});

test('an orphaned HAProxy of a run dir is stopped; another process with the recorded pid is not', async (t) => {
  const { spawn } = await import('node:child_process');
  const { orphanProxyPid, stopOrphanProxy } = await import('../../../src/ingress/cleanup.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kl-orphan-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const runDir = path.join(dir, 'run');
  fs.mkdirSync(runDir);
  // a stand-in: node under the name `haproxy`, with the run dir's config on its command line
  const fake = path.join(dir, 'haproxy');
  fs.symlinkSync(process.execPath, fake);
  const child = spawn(fake, ['-e', 'setInterval(() => {}, 1000)', path.join(runDir, 'haproxy.cfg')], { stdio: 'ignore' });
  t.teardown(() => child.kill('SIGKILL'));
  const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  t.teardown(() => other.kill('SIGKILL'));
  await new Promise((r) => setTimeout(r, 200));
  t.false(await stopOrphanProxy(runDir), 'no pid file: nothing to do');
  fs.writeFileSync(path.join(runDir, 'haproxy.pid'), `${other.pid}\n`);
  t.is(orphanProxyPid(runDir), undefined, 'a pid that is not our HAProxy is left alone');
  fs.writeFileSync(path.join(runDir, 'haproxy.pid'), `${child.pid}\n`);
  t.is(orphanProxyPid(runDir), child.pid);
  const exited = new Promise((r) => child.once('exit', r));
  t.true(await stopOrphanProxy(runDir));
  await exited;
  t.is(other.exitCode, null, 'the other process still runs');
});
