// Cluster kubeconfigs: rendering, merging into a user's kubeconfig and out again, the server address a
// CI job gets from its Host header, and when a tls-server-name is needed.

import test from 'ava';
import YAML from 'yaml';
import { checkServerURL, mergeKubeconfig, removeFromKubeconfig, renderClusterKubeconfig, serverFromHost, tlsServerNameFor } from '../../../src/cluster/kubeconfig.js';

const k = { name: 'kubelite-t1', server: 'https://10.233.255.2:6443', caPem: '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n', token: 'tok-0123456789abcdef' };

test('a cluster kubeconfig: context, cluster and user named after it', (t) => {
  const d = YAML.parse(renderClusterKubeconfig(k));
  t.is(d['current-context'], 'kubelite-t1');
  t.deepEqual(d.contexts, [{ name: 'kubelite-t1', context: { cluster: 'kubelite-t1', user: 'kubelite-t1-admin', namespace: 'default' } }]);
  t.is(d.clusters[0].cluster.server, 'https://10.233.255.2:6443');
  t.is(Buffer.from(d.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), k.caPem);
  t.is(d.clusters[0].cluster['tls-server-name'], undefined);
  t.is(YAML.parse(renderClusterKubeconfig({ ...k, tlsServerName: 'kubernetes' })).clusters[0].cluster['tls-server-name'], 'kubernetes');
  t.deepEqual(d.users, [{ name: 'kubelite-t1-admin', user: { token: 'tok-0123456789abcdef' } }]);
});

test('merge keeps the user\'s entries, replaces ours, and the removal undoes it', (t) => {
  const mine = YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'prod', cluster: { server: 'https://prod:6443' } }, { name: 'kubelite-t1', cluster: { server: 'https://old:6443' } }],
    users: [{ name: 'prod-admin', user: { token: 'p' } }],
    contexts: [{ name: 'prod', context: { cluster: 'prod', user: 'prod-admin' } }],
    'current-context': 'prod',
  });
  const merged = YAML.parse(mergeKubeconfig(mine, k, { setCurrent: true }));
  t.deepEqual(merged.clusters.map((c: { name: string }) => c.name), ['prod', 'kubelite-t1']);
  t.is(merged.clusters[1].cluster.server, 'https://10.233.255.2:6443');
  t.is(merged['current-context'], 'kubelite-t1');
  const kept = YAML.parse(mergeKubeconfig(mine, k, { setCurrent: false }));
  t.is(kept['current-context'], 'prod');

  const removed = YAML.parse(removeFromKubeconfig(YAML.stringify(merged), 'kubelite-t1')!);
  t.deepEqual(removed.clusters.map((c: { name: string }) => c.name), ['prod']);
  t.deepEqual(removed.users.map((c: { name: string }) => c.name), ['prod-admin']);
  t.is(removed['current-context'], undefined);
  t.is(removeFromKubeconfig(mine.replace(/kubelite-t1/g, 'other'), 'kubelite-t1'), undefined, 'nothing of ours: untouched');
});

test('merge into nothing, and into something that is not a kubeconfig', (t) => {
  t.is(YAML.parse(mergeKubeconfig(undefined, k, { setCurrent: true })).contexts.length, 1);
  t.throws(() => mergeKubeconfig('- a\n- b\n', k, { setCurrent: true, what: '/root/.kube/config' }), { message: '/root/.kube/config is not a kubeconfig (expected a mapping)' });
  t.throws(() => mergeKubeconfig('clusters: 3\n', k, { setCurrent: true }), { message: /clusters is not a list/ });
});

test('the server address a client used, from its Host header', (t) => {
  t.is(serverFromHost('kubelite:6443'), 'https://kubelite:6443');
  t.is(serverFromHost('10.233.255.2:6443'), 'https://10.233.255.2:6443');
  t.is(serverFromHost('[::1]:6443'), 'https://[::1]:6443');
  t.is(serverFromHost('Docker'), 'https://docker');
  for (const bad of [undefined, '', 'a b:1', 'x:99999', 'evil.com/path', 'a:1:2', 'user@host']) t.is(serverFromHost(bad), undefined, String(bad));
});

test('a server URL given by a client', (t) => {
  t.is(checkServerURL('https://kubelite:6443'), 'https://kubelite:6443');
  t.is(checkServerURL('https://kubelite:6443/'), 'https://kubelite:6443');
  for (const bad of ['http://kubelite:6443', 'https://u:p@kubelite', 'https://k/x', 'https://k?x=1', 'nope']) t.throws(() => checkServerURL(bad), undefined, bad);
});

test('tls-server-name only when the certificate does not name the host', (t) => {
  const sans = { dnsNames: ['localhost', 'kubernetes', 'kubelite-t1-server-0'], ipAddresses: ['127.0.0.1', '10.233.255.2'] };
  t.is(tlsServerNameFor('https://10.233.255.2:6443', sans), undefined);
  t.is(tlsServerNameFor('https://KUBELITE-T1-SERVER-0:6443', sans), undefined);
  t.is(tlsServerNameFor('https://docker:6443', sans), 'kubernetes');
  t.is(tlsServerNameFor('https://10.0.0.9:6443', sans), 'kubernetes');
});
