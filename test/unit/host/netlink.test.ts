// Parsing `ip -o monitor link route` lines (src/host/netlink.ts), and the shared monitor's lifecycle
// with a stand-in for `ip`.

import test from 'ava';
import { NetlinkMonitor, parseMonitorLine, type NetlinkEvent } from '../../../src/host/netlink.js';

test('link lines: new, changed (down), deleted, enslaved to a bridge, veth peers', (t) => {
  t.deepEqual(parseMonitorLine('1037: klsvc-t18: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UNKNOWN group default \\    link/ether 7a:55:98:b6:60:d1 brd ff:ff:ff:ff:ff:ff'), { kind: 'link', deleted: false, index: 1037, name: 'klsvc-t18', up: true });
  t.deepEqual(parseMonitorLine('1037: klsvc-t18: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default'), { kind: 'link', deleted: false, index: 1037, name: 'klsvc-t18', up: false });
  t.deepEqual(parseMonitorLine('Deleted 12: kl0-t18: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN'), { kind: 'link', deleted: true, index: 12, name: 'kl0-t18', up: true });
  t.deepEqual(parseMonitorLine('1044: veth9c1f2a1@if1043: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master kl0-t18 state UP group default'), { kind: 'link', deleted: false, index: 1044, name: 'veth9c1f2a1', up: true, master: 'kl0-t18' });
  t.deepEqual(parseMonitorLine('[LINK]Deleted 12: kl0: <BROADCAST> mtu 1500'), { kind: 'link', deleted: true, index: 12, name: 'kl0', up: false }, 'an older ip prefixes the object type');
});

test('route lines: IPv4 and IPv6, deleted or not, host routes get a /32; local/multicast/broadcast ones are skipped', (t) => {
  t.deepEqual(parseMonitorLine('10.201.18.0/24 dev klsvc-t18 scope link '), { kind: 'route', deleted: false, dst: '10.201.18.0/24', dev: 'klsvc-t18', family: 4 });
  t.deepEqual(parseMonitorLine('Deleted 10.201.18.0/24 dev klsvc-t18 scope link '), { kind: 'route', deleted: true, dst: '10.201.18.0/24', dev: 'klsvc-t18', family: 4 });
  t.deepEqual(parseMonitorLine('10.0.0.7 via 192.0.2.1 dev eth0'), { kind: 'route', deleted: false, dst: '10.0.0.7/32', dev: 'eth0', family: 4 });
  t.deepEqual(parseMonitorLine('Deleted fe80::/64 dev kl0 proto kernel metric 256 pref medium'), { kind: 'route', deleted: true, dst: 'fe80::/64', dev: 'kl0', family: 6 });
  t.deepEqual(parseMonitorLine('default via 192.0.2.1 dev eth0'), { kind: 'route', deleted: false, dst: '0.0.0.0/0', dev: 'eth0', family: 4 });
  t.is(parseMonitorLine('local 10.202.18.2 dev klsvc-t18 table local proto kernel scope host src 10.202.18.2'), undefined);
  t.is(parseMonitorLine('Deleted multicast ff00::/8 dev kl0 table local proto kernel metric 256 pref medium'), undefined);
  t.is(parseMonitorLine('broadcast 10.200.18.255 dev kl0 table local'), undefined);
  t.is(parseMonitorLine(''), undefined);
  t.is(parseMonitorLine('some notice from ip'), undefined);
});

test('the monitor runs one child for all subscribers, delivers parsed events and stops with the last one', async (t) => {
  // A stand-in for `ip -o monitor`: prints two lines and waits.
  const script = "console.log('Deleted 7: kl0-t99: <BROADCAST> mtu 1500'); console.log('Deleted 10.201.99.0/24 dev klsvc-t99 scope link'); setInterval(() => {}, 1000);";
  const mon = new NetlinkMonitor(undefined, [process.execPath, ['-e', script]]);
  const a: NetlinkEvent[] = [];
  const b: NetlinkEvent[] = [];
  const offA = mon.subscribe((e) => a.push(e));
  const offB = mon.subscribe((e) => b.push(e));
  for (let i = 0; i < 200 && a.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  t.deepEqual(a.map((e) => e.kind), ['link', 'route']);
  t.deepEqual(b, a);
  t.true(mon.running);
  offA();
  t.true(mon.running, 'still one subscriber');
  offB();
  t.false(mon.running);
});
