import test from 'ava';
import type { Pod, PodSpec } from '../../../src/api/types.js';
import { parseResolvConf, podResolvConf } from '../../../src/dns/resolv.js';
import { parseUpstream } from '../../../src/dns/forward.js';

const host = `# generated
nameserver 192.0.2.53
nameserver 192.0.2.54
search corp.example lab.example
options timeout:2 attempts:3
`;
const cfg = { clusterDNS: '10.96.0.10', domain: 'cluster.local', hostResolvConf: host };

function pod(spec: Partial<PodSpec>, ns = 'shop'): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: ns }, spec: { containers: [{ name: 'c', image: 'i' }], ...spec } };
}

test('ClusterFirst (the default): cluster DNS, cluster search path then the host one, ndots:5', (t) => {
  const expected = 'nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\noptions ndots:5\n';
  t.is(podResolvConf(pod({}), cfg), expected);
  t.is(podResolvConf(pod({ dnsPolicy: 'ClusterFirst' }), cfg), expected);
});

test('ClusterFirst on the host network falls back to Default; ClusterFirstWithHostNet does not', (t) => {
  t.is(podResolvConf(pod({ hostNetwork: true }), cfg), 'nameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch corp.example lab.example\noptions timeout:2 attempts:3\n');
  t.true(podResolvConf(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), cfg).startsWith('nameserver 10.96.0.10\n'));
});

test('Default: the host resolv.conf; loopback stubs replaced by cluster DNS for Pods in their own netns', (t) => {
  t.is(podResolvConf(pod({ dnsPolicy: 'Default' }), cfg), 'nameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch corp.example lab.example\noptions timeout:2 attempts:3\n');
  const stub = { ...cfg, hostResolvConf: 'nameserver 127.0.0.53\nsearch x.example\noptions edns0\n' };
  t.is(podResolvConf(pod({ dnsPolicy: 'Default' }), stub), 'nameserver 10.96.0.10\nsearch x.example\noptions edns0\n');
  t.is(podResolvConf(pod({ dnsPolicy: 'Default', hostNetwork: true }), stub), 'nameserver 127.0.0.53\nsearch x.example\noptions edns0\n');
});

test('None: only dnsConfig', (t) => {
  t.is(podResolvConf(pod({ dnsPolicy: 'None' }), cfg), '');
  t.is(
    podResolvConf(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['203.0.113.53'], searches: ['a.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } }), cfg),
    'nameserver 203.0.113.53\nsearch a.example\noptions ndots:2 edns0\n',
  );
});

test('dnsConfig merges: nameservers appended (max 3, deduplicated), searches appended, options replaced by name', (t) => {
  const out = podResolvConf(
    pod({
      dnsConfig: {
        nameservers: ['10.96.0.10', '192.0.2.1', '192.0.2.2', '192.0.2.3'],
        searches: ['my.dns.search.suffix', 'shop.svc.cluster.local'],
        options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
      },
    }),
    cfg,
  );
  t.is(
    out,
    'nameserver 10.96.0.10\nnameserver 192.0.2.1\nnameserver 192.0.2.2\n' +
      'search shop.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example my.dns.search.suffix\n' +
      'options ndots:2 edns0\n',
  );
});

test('search list limits: 32 domains and 2048 characters', (t) => {
  const many = Array.from({ length: 40 }, (_, i) => `d${i}.example`);
  const out = podResolvConf(pod({ dnsPolicy: 'None', dnsConfig: { searches: many } }), cfg);
  t.is(out.trim().split(' ').length - 1, 32);
  const long = Array.from({ length: 20 }, (_, i) => `${String(i).padStart(2, '0')}${'x'.repeat(60)}.${'y'.repeat(60)}.example`);
  const out2 = podResolvConf(pod({ dnsPolicy: 'None', dnsConfig: { searches: long } }), cfg);
  t.true(out2.length - 'search \n'.length <= 2048);
  t.true(out2.split(' ').length < 20);
});

test('nothing hostile reaches the file: bad nameservers, searches and options are dropped', (t) => {
  const out = podResolvConf(
    pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['203.0.113.53\nnameserver 6.6.6.6', 'not-an-ip'], searches: ['ok.example', 'bad domain', 'x\noptions'], options: [{ name: 'nd ots' }, { name: 'ok', value: '1 2' }, { name: 'rotate' }] } }),
    cfg,
  );
  t.is(out, 'search ok.example\noptions rotate\n');
});

test('parseResolvConf: comments, last search wins, options merged, scoped IPv6', (t) => {
  const c = parseResolvConf('; c\nnameserver 10.0.0.1 # x\nnameserver fe80::1%eth0\nsearch a.example\ndomain b.example\noptions ndots:1\noptions ndots:3 rotate\nbogus line\n');
  t.deepEqual(c, { nameservers: ['10.0.0.1', 'fe80::1'], searches: ['b.example'], options: [{ name: 'ndots', value: '3' }, { name: 'rotate' }] });
});

test('parseUpstream accepts ip, ip:port and [v6]:port, rejects names and bad ports', (t) => {
  t.deepEqual(parseUpstream('127.0.0.1'), { host: '127.0.0.1', port: 53, family: 4 });
  t.deepEqual(parseUpstream('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353, family: 4 });
  t.deepEqual(parseUpstream('[::1]:5353'), { host: '::1', port: 5353, family: 6 });
  t.deepEqual(parseUpstream('::1'), { host: '::1', port: 53, family: 6 });
  t.throws(() => parseUpstream('dns.google'));
  t.throws(() => parseUpstream('127.0.0.1:0'));
  t.throws(() => parseUpstream('127.0.0.1:70000'));
});
