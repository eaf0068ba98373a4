// Cluster names: validation, the names of everything a cluster puts on the host, and that they can never
// be the host kubelite's (instance networks are `kubelite` / `kubelite-<1-6 alnum>`).

import test from 'ava';
import { checkClusterName, clusterNames, parseNodeName } from '../../../src/cluster/names.js';

test('names derived from a cluster name', (t) => {
  const n = clusterNames('t1');
  t.is(n.network, 'kubelite-t1-net');
  t.is(n.bridge, 'klc-t1');
  t.is(n.context, 'kubelite-t1');
  t.is(n.node('server', 0), 'kubelite-t1-server-0');
  t.is(n.node('agent', 3), 'kubelite-t1-agent-3');
  t.is(n.volume(n.node('server', 0)), 'kubelite-t1-server-0-docker');
});

test('bridge names fit Linux\'s 15 bytes; long names get a hash, distinct per name', (t) => {
  t.is(clusterNames('abcdefghijk').bridge, 'klc-abcdefghijk');
  const a = clusterNames('production-east-1').bridge;
  const b = clusterNames('production-east-2').bridge;
  t.true(a.length <= 15 && b.length <= 15);
  t.regex(a, /^klc-[0-9a-f]{11}$/);
  t.not(a, b);
});

test('a cluster network can never be a host instance\'s network', (t) => {
  for (const name of ['a', 't27', 'kubelite', 'x1y2z3']) t.notRegex(clusterNames(name).network, /^kubelite(-[a-z0-9]{1,6})?$/);
});

test('bad names are refused with the rule', (t) => {
  for (const bad of ['', 'A', 'a_b', '-a', 'a-', 'a.b', 'x'.repeat(33), 'a b', '../x']) {
    t.throws(() => checkClusterName(bad), { message: /must be 1-32 characters/ }, bad);
  }
  t.is(checkClusterName('a-1'), 'a-1');
  t.throws(() => clusterNames('ok').node('server', -1));
});

test('node container names parse back', (t) => {
  t.deepEqual(parseNodeName('/kubelite-my-c-server-0'), { cluster: 'my-c', role: 'server', index: 0 });
  t.deepEqual(parseNodeName('kubelite-x-agent-12'), { cluster: 'x', role: 'agent', index: 12 });
  t.is(parseNodeName('kubelite-t5'), undefined);
  t.is(parseNodeName('k8s-t5_default_web_app_1234'), undefined);
});
