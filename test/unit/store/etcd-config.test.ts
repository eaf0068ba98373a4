// `--store etcd://...`, `--etcd-prefix` and the key layout: pure.

import test from 'ava';
import { EtcdKeys, isEtcdStoreURL, normalizePrefix, parseEtcdURL, prefixRangeEnd } from '../../../src/store/etcd-config.js';

test('etcd:// lists become member URLs; TLS files make them https', (t) => {
  t.true(isEtcdStoreURL('etcd://127.0.0.1:2379'));
  t.false(isEtcdStoreURL('/var/lib/kubelite'));
  t.deepEqual(parseEtcdURL('etcd://127.0.0.1:2379').hosts, ['http://127.0.0.1:2379']);
  t.deepEqual(parseEtcdURL('etcd://a.example:2379, 10.0.0.2:2379,a.example:2379/').hosts, ['http://a.example:2379', 'http://10.0.0.2:2379']);
  t.deepEqual(parseEtcdURL('etcd://[::1]:2379', { caFile: 'ca.pem' }).hosts, ['https://[::1]:2379']);
  t.deepEqual(parseEtcdURL('etcd://h:1', { certFile: 'c', keyFile: 'k' }).hosts, ['https://h:1']);
});

test('bad etcd:// values say what is wrong', (t) => {
  t.throws(() => parseEtcdURL('etcd://'), { message: /no etcd endpoint given/ });
  t.throws(() => parseEtcdURL('etcd://127.0.0.1'), { message: /"127.0.0.1" is not HOST:PORT/ });
  t.throws(() => parseEtcdURL('etcd://h:99999'), { message: /not HOST:PORT/ });
  t.throws(() => parseEtcdURL('etcd://h:1;rm -rf /:2'), { message: /not HOST:PORT/ });
  t.throws(() => parseEtcdURL('http://h:1'), { message: /expected etcd:\/\/HOST:PORT/ });
  t.throws(() => parseEtcdURL('etcd://h:1', { certFile: 'c' }), { message: /--etcd-certfile and --etcd-keyfile go together/ });
});

test('prefixes are normalized and "/" is refused', (t) => {
  t.is(normalizePrefix('/kubelite'), '/kubelite');
  t.is(normalizePrefix('kubelite/'), '/kubelite');
  t.is(normalizePrefix('/a/b/'), '/a/b');
  t.throws(() => normalizePrefix('/'), { message: /may not be "\/"/ });
  t.throws(() => normalizePrefix('/a//b'), { message: /empty segments/ });
  t.throws(() => normalizePrefix('/a b'), { message: /no spaces/ });
});

test('keys: objects under P/o/, metadata under P/meta/, and a prefix range that stops at the prefix', (t) => {
  const k = new EtcdKeys('/kubelite');
  t.is(k.object('apps/deployments', 'default', 'web'), '/kubelite/o/apps/deployments/default/web');
  t.is(k.object('/namespaces', '', 'kube-system'), '/kubelite/o//namespaces//kube-system');
  t.deepEqual(k.parseObject('/kubelite/o/apps/deployments/default/web'), { group: 'apps', plural: 'deployments', namespace: 'default', name: 'web' });
  t.is(k.parseObject('/kubelite/meta/rev'), undefined);
  t.is(k.parseObject('/kubelite2/o/apps/deployments/default/web'), undefined);
  t.is(k.rev, '/kubelite/meta/rev');
  t.is(prefixRangeEnd(Buffer.from(k.root)).toString(), '/kubelite0');
  t.deepEqual([...prefixRangeEnd(Buffer.from([0x61, 0xff]))], [0x62]);
  t.deepEqual([...prefixRangeEnd(Buffer.from([0xff]))], [0]);
});
