import test from 'ava';
import {
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isDomainPrefixedPath,
  isEnvVarName,
  isPercent,
  isQualifiedName,
  isValidCIDR,
  isValidIP,
  isValidIPv4,
  isValidLabelValue,
  isValidPortName,
  isWildcardDNS1123Subdomain,
  maskTrailingDash,
} from '../../../src/api/names.js';

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

test('isDNS1123Subdomain: accepts and refuses with Kubernetes\' message', (t) => {
  for (const ok of ['a', 'web', 'web-1', 'example.com', '1.2.3', 'a'.repeat(253)]) t.deepEqual(isDNS1123Subdomain(ok), [], ok);
  t.deepEqual(isDNS1123Subdomain('Web'), [SUBDOMAIN_MSG]);
  for (const bad of ['', '-a', 'a-', 'a..b', 'a_b', '.a', 'a.']) t.deepEqual(isDNS1123Subdomain(bad), [SUBDOMAIN_MSG], bad);
  t.deepEqual(isDNS1123Subdomain('a'.repeat(254)), ['must be no more than 253 characters']);
});

test('isDNS1123Label: 63 chars, no dots', (t) => {
  t.deepEqual(isDNS1123Label('my-name'), []);
  t.deepEqual(isDNS1123Label('123-abc'), []);
  t.deepEqual(isDNS1123Label('a'.repeat(63)), []);
  t.deepEqual(isDNS1123Label('a'.repeat(64)), ['must be no more than 63 characters']);
  t.deepEqual(isDNS1123Label('My_Name'), [LABEL_MSG]);
  t.deepEqual(isDNS1123Label('a.b'), ['must not contain dots']);
});

test('isDNS1035Label: must start with a letter', (t) => {
  t.deepEqual(isDNS1035Label('web'), []);
  t.deepEqual(isDNS1035Label('web-2'), []);
  const errs = isDNS1035Label('2web');
  t.is(errs.length, 1);
  t.true(errs[0].startsWith("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character"));
  t.true(errs[0].endsWith("regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"));
});

test('isQualifiedName: optional prefix and name part', (t) => {
  for (const ok of ['app', 'App.Name_1', 'example.com/name', 'app.kubernetes.io/name', 'a/b', 'x'.repeat(63)]) t.deepEqual(isQualifiedName(ok), [], ok);
  t.deepEqual(isQualifiedName(''), ['name part must be non-empty']);
  t.deepEqual(isQualifiedName('/name'), ['prefix part must be non-empty']);
  t.deepEqual(isQualifiedName('x'.repeat(64)), ['name part must be no more than 63 characters']);
  t.true(isQualifiedName('Bad.Prefix/name')[0].startsWith('prefix part a lowercase RFC 1123 subdomain'));
  t.true(isQualifiedName('bad key')[0].startsWith("name part must consist of alphanumeric characters, '-', '_' or '.'"));
  t.true(isQualifiedName('a/b/c')[0].startsWith('a qualified name must consist of'));
  t.true(isQualifiedName('a/b/c')[0].endsWith("with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"));
});

test('isValidLabelValue: empty allowed, 63 max', (t) => {
  for (const ok of ['', 'v1', 'my_value', '1.2.3', 'A-b']) t.deepEqual(isValidLabelValue(ok), [], ok);
  t.deepEqual(isValidLabelValue('x'.repeat(64)), ['must be no more than 63 characters']);
  t.true(isValidLabelValue('bad value')[0].startsWith('a valid label must be an empty string or consist of alphanumeric characters'));
  t.is(isValidLabelValue('-a').length, 1);
});

test('isValidPortName: IANA_SVC_NAME rules, each with its own message', (t) => {
  for (const ok of ['http', 'web-80', 'h2c', 'a']) t.deepEqual(isValidPortName(ok), [], ok);
  t.deepEqual(isValidPortName('http-metrics-port'), ['must be no more than 15 characters']);
  t.deepEqual(isValidPortName('Http'), ['must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)']);
  t.deepEqual(isValidPortName('8080'), ['must contain at least one letter (a-z)']);
  t.deepEqual(isValidPortName('a--b'), ['must not contain consecutive hyphens']);
  t.deepEqual(isValidPortName('-ab'), ['must not begin or end with a hyphen']);
});

test('IP and CIDR checks', (t) => {
  t.deepEqual(isValidIPv4('10.96.0.1'), []);
  t.deepEqual(isValidIPv4('256.1.1.1'), ['must be a valid IPv4 address']);
  t.deepEqual(isValidIPv4('010.0.0.1'), ['must be a valid IPv4 address']);
  t.deepEqual(isValidIPv4('::1'), ['must be a valid IPv4 address']);
  t.deepEqual(isValidIP('fd00::1'), []);
  t.deepEqual(isValidIP('10.0.0.1'), []);
  t.deepEqual(isValidIP('example.com'), ['must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']);
  t.deepEqual(isValidCIDR('10.244.0.0/16'), []);
  t.deepEqual(isValidCIDR('fd00::/64'), []);
  t.is(isValidCIDR('10.244.0.0/33').length, 1);
  t.is(isValidCIDR('10.244.0.0').length, 1);
});

test('isWildcardDNS1123Subdomain', (t) => {
  t.deepEqual(isWildcardDNS1123Subdomain('*.example.test'), []);
  t.true(isWildcardDNS1123Subdomain('*example.test')[0].startsWith("a wildcard DNS-1123 subdomain must start with '*.'"));
  t.is(isWildcardDNS1123Subdomain('a.*.test').length, 1);
});

test('isEnvVarName and isConfigMapKey', (t) => {
  for (const ok of ['PATH', 'my.env-name', '_x', 'MyEnvName1']) t.deepEqual(isEnvVarName(ok), [], ok);
  t.true(isEnvVarName('1BAD')[0].startsWith('a valid environment variable name must consist of alphabetic characters'));
  t.is(isEnvVarName('A=B').length, 1);
  t.deepEqual(isEnvVarName('..'), ["must not be '..'"]);
  for (const ok of ['key.name', 'KEY_NAME', 'tls.crt', '.dockerconfigjson']) t.deepEqual(isConfigMapKey(ok), [], ok);
  t.true(isConfigMapKey('bad key')[0].startsWith("a valid config key must consist of alphanumeric characters, '-', '_' or '.'"));
  t.deepEqual(isConfigMapKey('.'), ["must not be '.'"]);
  t.deepEqual(isConfigMapKey('..data'), ["must not start with '..'"]);
});

test('isPercent, isDomainPrefixedPath, maskTrailingDash', (t) => {
  t.deepEqual(isPercent('25%'), []);
  t.is(isPercent('25').length, 1);
  t.is(isPercent('a%').length, 1);
  t.deepEqual(isDomainPrefixedPath('kubelite.io/ingress-controller'), []);
  t.deepEqual(isDomainPrefixedPath('nginx'), ['must be a domain-prefixed path (such as "acme.io/foo")']);
  t.is(isDomainPrefixedPath('Bad_Domain/x').length, 1);
  t.is(maskTrailingDash('web-'), 'wea');
  t.is(maskTrailingDash('web'), 'web');
  t.deepEqual(isDNS1123Subdomain(maskTrailingDash('web-')), []);
});
