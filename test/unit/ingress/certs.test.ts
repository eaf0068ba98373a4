import { X509Certificate } from 'node:crypto';
import test from 'ava';
import { buildCertStore, generateCA, generateSelfSigned } from '../../../src/ingress/certs.js';
import { buildRouteTable } from '../../../src/ingress/routes.js';
import { validateKeyPair, validateTLSSecret } from '../../../src/ingress/tls-secret.js';
import { eps, ing, path, svc, tlsSecret } from './fixtures.js';

const ca = generateCA('kubelite test CA');
const pairA = ca.then((c) => generateSelfSigned({ commonName: 'a.test', dnsNames: ['a.test', '*.a.test'], ipAddresses: ['127.0.0.1'], ca: { cert: c.certPem, key: c.keyPem } }));
const pairB = generateSelfSigned({ commonName: 'b.test', dnsNames: ['b.test'], days: 2 });

test('generateCA makes a CA; generateSelfSigned signs with it and carries the SANs', async (t) => {
  const c = new X509Certificate((await ca).certPem);
  t.true(c.ca);
  const a = new X509Certificate((await pairA).certPem);
  t.false(a.ca);
  t.true(a.verify(c.publicKey), 'signed by the CA');
  t.is(a.issuer, c.subject);
  t.regex(a.subjectAltName ?? '', /DNS:a\.test, DNS:\*\.a\.test, IP Address:127\.0\.0\.1/);
  t.truthy(a.checkHost('x.a.test'));
  const b = new X509Certificate((await pairB).certPem);
  t.true(b.verify(b.publicKey), 'self-signed');
  const days = (Date.parse(b.validTo) - Date.parse(b.validFrom)) / 86_400_000;
  t.true(days > 1.9 && days < 2.1);
});

test('generateSelfSigned rejects an IP SAN that is not an address', async (t) => {
  await t.throwsAsync(generateSelfSigned({ commonName: 'x', dnsNames: [], ipAddresses: ['not-an-ip'] }), { message: /not an IP address/ });
});

test('a valid pair passes; a mismatched pair and garbage are rejected with a reason', async (t) => {
  const a = await pairA;
  const b = await pairB;
  const ok = validateKeyPair(a.certPem, a.keyPem);
  t.true(ok.ok);
  const mismatch = validateKeyPair(a.certPem, b.keyPem);
  t.false(mismatch.ok);
  t.regex(!mismatch.ok ? mismatch.reason : '', /key values mismatch/);
  const garbage = validateKeyPair('-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n', a.keyPem);
  t.false(garbage.ok);
  t.false(validateKeyPair('hello', 'world').ok);
});

test('validateTLSSecret: missing, wrong type, missing keys', async (t) => {
  const a = await pairA;
  t.deepEqual(validateTLSSecret(undefined), { ok: false, reason: 'secret not found' });
  const opaque = validateTLSSecret(tlsSecret('s', a.certPem, a.keyPem, 'default', 'Opaque'));
  t.regex(!opaque.ok ? opaque.reason : '', /type "Opaque", not kubernetes.io\/tls/);
  const empty = validateTLSSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'e' }, type: 'kubernetes.io/tls', data: {} });
  t.regex(!empty.ok ? empty.reason : '', /lacks tls.crt or tls.key/);
  t.true(validateTLSSecret(tlsSecret('s', a.certPem, a.keyPem)).ok);
});

test('route table certs: a bad Secret is a problem for its Ingress only; first Ingress keeps a name', async (t) => {
  const a = await pairA;
  const b = await pairB;
  const rule = (host: string) => ({ host, http: { paths: [path('/', 'Prefix', 's', 80)] } });
  const r = buildRouteTable({
    ingresses: [
      ing('good', [rule('a.test')], { created: '2024-01-01T00:00:00Z', tls: [{ hosts: ['a.test', 'x.a.test'], secretName: 'a' }] }),
      ing('bad', [rule('b.test')], { created: '2024-01-02T00:00:00Z', tls: [{ hosts: ['b.test'], secretName: 'mismatch' }] }),
      ing('late', [rule('c.test')], { created: '2024-01-03T00:00:00Z', tls: [{ hosts: ['a.test', 'c.test'], secretName: 'b' }] }),
    ],
    services: [svc('s', [{ port: 80 }])],
    endpoints: [eps('s', [{ ips: ['10.1.1.1'], ports: [{ port: 80 }] }])],
    secrets: [tlsSecret('a', a.certPem, a.keyPem), tlsSecret('mismatch', a.certPem, b.keyPem), tlsSecret('b', b.certPem, b.keyPem)],
    className: 'kubelite',
    isDefaultClass: true,
  });
  t.deepEqual(r.tlsProblems.map((p) => [p.ingress, p.secret]), [['default/bad', 'default/mismatch']]);
  t.deepEqual(r.table.certs.map((c) => [c.secret, c.hosts]), [
    ['default/a', ['a.test', 'x.a.test']],
    ['default/b', ['c.test']],
  ]);
  t.true(r.table.hosts.get('b.test')!.tls, 'still a TLS host: served with the default certificate');
  const store = buildCertStore(r.table, b);
  t.is(store.certs.length, 2);
  t.not(store.certs[0].id, store.certs[1].id);
  t.regex(store.defaultCert.id, /^[0-9a-f]{16}$/);
});
