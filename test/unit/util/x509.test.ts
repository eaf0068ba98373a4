// The one certificate implementation (src/util/x509.ts) and its child-process variant.

import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import test from 'ava';
import { generateCA, generateCertificate } from '../../../src/util/x509.js';
import { generateCertificateIsolated } from '../../../src/util/x509-child.js';
import { inspectCertificate } from '../../../src/util/cert-info.js';

test('a CA signs a server certificate carrying its names; usage is serverAuth by default', async (t) => {
  const ca = await generateCA('unit CA, with "odd" characters');
  const caCert = new X509Certificate(ca.certPem);
  t.true(caCert.ca);
  t.regex(caCert.subject, /unit CA/);
  const leaf = await generateCertificate({ commonName: 'api', dnsNames: ['localhost', '*.example.test'], ipAddresses: ['127.0.0.1', '::1'], ca, days: 10 });
  const c = new X509Certificate(leaf.certPem);
  t.false(c.ca);
  t.true(c.verify(caCert.publicKey));
  t.is(c.issuer, caCert.subject);
  t.truthy(c.checkHost('x.example.test'));
  t.truthy(c.checkIP('::1'));
  t.deepEqual(c.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  const info = inspectCertificate(leaf.certPem, 5);
  t.deepEqual(info.dnsNames, ['localhost', '*.example.test']);
  t.true(info.fresh);
  t.false(inspectCertificate(leaf.certPem, 11).fresh, 'expires within 11 days');
});

test('usage both carries serverAuth and clientAuth; client only clientAuth', async (t) => {
  const both = new X509Certificate((await generateCertificate({ commonName: 'b', dnsNames: ['b.test'], usage: 'both' })).certPem);
  t.deepEqual([...(both.keyUsage ?? [])].sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  const client = new X509Certificate((await generateCertificate({ commonName: 'c', usage: 'client' })).certPem);
  t.deepEqual(client.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  t.is(client.subjectAltName, undefined, 'no SAN extension without names');
});

test('an RSA CA key (PKCS#1 PEM, as openssl writes it) signs too', async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsaKeyPem = privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();
  // a CA certificate for that key: self-signed through the same code needs an EC key, so let the
  // RSA key sign a leaf and check the signature against its public key
  const ecCA = await generateCA('ec');
  const leaf = await generateCertificate({ commonName: 'r', dnsNames: ['r.test'], ca: { certPem: ecCA.certPem, keyPem: rsaKeyPem } });
  const c = new X509Certificate(leaf.certPem);
  t.true(c.verify(publicKey), 'signed with the RSA key');
  t.false(c.verify(new X509Certificate(ecCA.certPem).publicKey));
});

test('an IP SAN that is not an address fails loudly', async (t) => {
  await t.throwsAsync(generateCertificate({ commonName: 'x', ipAddresses: ['10.0.0.300'] }), { message: /not an IP address/ });
});

test('the child-process variant returns the same kind of pair', async (t) => {
  const pair = await generateCertificateIsolated({ commonName: 'child', dnsNames: ['child.test'] });
  const c = new X509Certificate(pair.certPem);
  t.is(c.subject, 'CN=child');
  t.true(c.checkPrivateKey((await import('node:crypto')).createPrivateKey(pair.keyPem)));
});
