// The proxy watchdog's decisions (src/netfilter/watchdog.ts): when a changed fingerprint is someone
// else's doing, what goes into it, which link/route changes touch our plumbing; and the class driving
// the proxier's fullResync from both triggers.

import test from 'ava';
import { expectedDigest, iptablesFingerprint, judgeAgainstExpected, judgeFingerprint, kernelDigest, ProxyWatchdog, rulesFingerprint, touchesProxyPlumbing } from '../../../src/netfilter/watchdog.js';
import type { ChainNames, Table } from '../../../src/netfilter/names.js';
import { hostNames } from '../../../src/config.js';
import { buildProxyModel } from '../../../src/netfilter/model.js';
import { jumpRules, renderRules } from '../../../src/netfilter/render.js';
import { NetlinkMonitor } from '../../../src/host/netlink.js';

const idle = (started: number) => ({ started, running: false });

test('judgeFingerprint: a baseline first, then keep or repair; never a verdict across one of our syncs', (t) => {
  t.deepEqual(judgeFingerprint(undefined, idle(3), idle(3), 'a'), { action: 'baseline', baseline: { generation: 3, fingerprint: 'a' } });
  const base = { generation: 3, fingerprint: 'a' };
  t.deepEqual(judgeFingerprint(base, idle(3), idle(3), 'a'), { action: 'keep' });
  t.deepEqual(judgeFingerprint(base, idle(3), idle(3), 'b'), { action: 'repair' }, 'changed while we wrote nothing');
  t.deepEqual(judgeFingerprint(base, idle(4), idle(4), 'b'), { action: 'baseline', baseline: { generation: 4, fingerprint: 'b' } }, 'we synced since: the new state is ours');
  t.deepEqual(judgeFingerprint(base, idle(3), idle(4), 'b'), { action: 'unsure' }, 'a sync started during the read');
  t.deepEqual(judgeFingerprint(base, { started: 3, running: true }, idle(3), 'b'), { action: 'unsure' }, 'a sync was running');
});

const SAVE_NAT = `*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:KUBELITE-T1-SERVICES - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A PREROUTING -m comment --comment "kubelite service portals" -j KUBELITE-T1-SERVICES
-A OUTPUT -m comment --comment "kubelite service portals" -j KUBELITE-T1-SERVICES
-A DOCKER -i docker0 -j RETURN
-A KUBELITE-T1-SERVICES -d 10.201.1.5/32 -p tcp -m tcp --dport 80 -j KL-T1-SVC-ABC
COMMIT
`;
const owned = (c: string) => c.startsWith('KUBELITE-T1-') || c.startsWith('KL-T1-');

test('judgeAgainstExpected: equal keeps, different repairs (unless it is what a repair could not change), never across a sync', (t) => {
  const fp = { kernel: 'k', expected: 'e' };
  t.is(judgeAgainstExpected(idle(2), idle(2), { kernel: 'e', expected: 'e' }, undefined), 'keep');
  t.is(judgeAgainstExpected(idle(2), idle(2), fp, undefined), 'repair');
  t.is(judgeAgainstExpected(idle(2), idle(2), fp, 'k'), 'keep', 'accepted after a repair');
  t.is(judgeAgainstExpected(idle(2), idle(3), fp, undefined), 'unsure');
  t.is(judgeAgainstExpected({ started: 2, running: true }, idle(2), fp, undefined), 'unsure');
});

test('the digest of what the proxier wrote equals the digest of the same rules read back with iptables-save', (t) => {
  const names = hostNames({ instance: 'wd' });
  const cfg = { names, podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12', nodeIPs: ['192.0.2.2'] };
  const model = buildProxyModel(
    [{ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name: 'web' }, spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }],
    [{ apiVersion: 'v1', kind: 'Endpoints', metadata: { namespace: 'default', name: 'web' }, subsets: [{ addresses: [{ ip: '10.244.0.5' }, { ip: '10.244.0.6' }, { ip: '10.244.0.7' }], ports: [{ name: 'http', port: 8080 }] }] }],
    { serviceCIDR: cfg.serviceCIDR },
  );
  const rendered = renderRules(model, cfg);
  const cn = rendered.chains;
  // A read-back: Docker's chains beside ours, the host chains with our jumps, and probabilities as the kernel prints them.
  const dump = (table: Table, dockerUser: boolean) => {
    const lines = [`*${table}`, ...(table === 'nat' ? [':PREROUTING ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':DOCKER - [0:0]'] : [':INPUT ACCEPT [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]', ...(dockerUser ? [':DOCKER-USER - [0:0]'] : [])])];
    for (const chain of rendered.tables[table].keys()) lines.push(`:${chain} - [0:0]`);
    if (table === 'nat') lines.push('-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER');
    for (const j of jumpRules(cn, { dockerUser })) if (j.table === table) lines.push(j.line);
    for (const rules of rendered.tables[table].values()) for (const r of rules) lines.push(r.replace(/--probability 0\.3333333333/, '--probability 0.33333333349'));
    lines.push('COMMIT');
    return lines.join('\n') + '\n';
  };
  for (const dockerUser of [false, true]) {
    const dumps = [dump('nat', dockerUser), dump('filter', dockerUser)];
    const k = kernelDigest(dumps, cn.isOwned);
    t.is(k.dockerUser, dockerUser);
    t.is(k.digest, expectedDigest(rendered.tables, cn, dockerUser), `in sync (DOCKER-USER ${dockerUser})`);
    const withoutJump = [dumps[0].replace(/^-A OUTPUT .*kubelite service portals.*\n/m, ''), dumps[1]];
    t.not(kernelDigest(withoutJump, cn.isOwned).digest, k.digest, 'a jump deleted');
    const withoutRule = [dumps[0].replace(new RegExp(`^-A ${cn.services} .*\\n`, 'm'), ''), dumps[1]];
    t.not(kernelDigest(withoutRule, cn.isOwned).digest, k.digest, 'a rule deleted');
  }
});

test('rulesFingerprint: our chains and the jumps into them count; Docker\'s and others\' rules do not', (t) => {
  const fp = rulesFingerprint([SAVE_NAT], owned);
  t.is(rulesFingerprint([SAVE_NAT.replace('-A DOCKER -i docker0 -j RETURN\n', '-A DOCKER -i docker1 -j RETURN\n-A DOCKER -j ACCEPT\n')], owned), fp, 'Docker churn');
  t.not(rulesFingerprint([SAVE_NAT.replace('-A OUTPUT -m comment --comment "kubelite service portals" -j KUBELITE-T1-SERVICES\n', '')], owned), fp, 'OUTPUT jump deleted');
  t.not(rulesFingerprint([SAVE_NAT.replace(/-A KUBELITE-T1-SERVICES .*\n/, '')], owned), fp, 'a service rule deleted');
  t.not(rulesFingerprint([SAVE_NAT.replace(':KUBELITE-T1-SERVICES - [0:0]\n', ':KUBELITE-T1-SERVICES - [0:0]\n:KL-T1-SVC-OLD - [0:0]\n')], owned), fp, 'an extra chain of ours');
});

test('touchesProxyPlumbing: our device deleted or down, our routes deleted or re-routed; not other devices', (t) => {
  const routes = ['10.201.1.0/24', '10.202.1.0/24'];
  const dev = 'klsvc-t1';
  t.true(touchesProxyPlumbing({ kind: 'link', deleted: true, name: dev, index: 5, up: true }, dev, routes));
  t.true(touchesProxyPlumbing({ kind: 'link', deleted: false, name: dev, index: 5, up: false }, dev, routes));
  t.false(touchesProxyPlumbing({ kind: 'link', deleted: false, name: dev, index: 5, up: true }, dev, routes));
  t.false(touchesProxyPlumbing({ kind: 'link', deleted: true, name: 'veth1', index: 9, up: true }, dev, routes));
  t.true(touchesProxyPlumbing({ kind: 'route', deleted: true, dst: '10.201.1.0/24', dev, family: 4 }, dev, routes));
  t.false(touchesProxyPlumbing({ kind: 'route', deleted: false, dst: '10.201.1.0/24', dev, family: 4 }, dev, routes), 'our own route added');
  t.true(touchesProxyPlumbing({ kind: 'route', deleted: false, dst: '10.201.1.0/24', dev: 'eth0', family: 4 }, dev, routes), 'our range routed elsewhere');
  t.true(touchesProxyPlumbing({ kind: 'route', deleted: false, dst: '10.201.1.128/25', dev: 'eth0', family: 4 }, dev, routes), 'a more specific route inside it');
  t.false(touchesProxyPlumbing({ kind: 'route', deleted: true, dst: '10.9.0.0/16', dev: 'eth0', family: 4 }, dev, routes));
  t.false(touchesProxyPlumbing({ kind: 'route', deleted: true, dst: 'fe80::/64', dev, family: 6 }, dev, routes));
});

test('the watchdog asks for a full resync when the fingerprint changes while the proxier is idle, and on a netlink event', async (t) => {
  t.timeout(60_000);
  let rules = SAVE_NAT;
  let resyncs = 0;
  const waiters: (() => void)[] = [];
  const state = { started: 1, running: false };
  const proxier = {
    syncState: state,
    async fullResync() {
      resyncs++;
      rules = SAVE_NAT; // the repair
      state.started++;
      for (const w of waiters.splice(0)) w();
    },
  };
  const nextResync = () => new Promise<void>((r) => waiters.push(r));
  let checked: (() => void) | undefined;
  const save = async (table: string) => {
    if (table === 'filter') checked?.();
    return table === 'nat' ? rules : '';
  };
  // Resolves after `n` more fingerprint reads have completed.
  const checks = async (n: number) => {
    for (let i = 0; i < n; i++) await new Promise<void>((r) => (checked = r));
  };
  const script = "setTimeout(() => console.log('Deleted 10.201.1.0/24 dev klsvc-t1 scope link'), 300); setInterval(() => {}, 1000);";
  const netlink = new NetlinkMonitor(undefined, [process.execPath, ['-e', script]]);
  const w = new ProxyWatchdog({ proxier, device: 'klsvc-t1', routes: ['10.201.1.0/24'], fingerprint: iptablesFingerprint(save, { isOwned: owned } as ChainNames), netlink, minIntervalMs: 10, firstCheckMs: 10, maxShare: 1 });
  t.teardown(() => w.stop());
  const first = nextResync();
  w.start();
  await first;
  t.is(resyncs, 1, 'the netlink event (route deleted) started one resync');
  await checks(3);
  t.is(resyncs, 1, 'an unchanged fingerprint starts nothing');
  const second = nextResync();
  rules = SAVE_NAT.replace(/-A OUTPUT .*\n/, '');
  await second;
  t.is(resyncs, 2, 'the deleted jump was noticed');
  state.started++; // a sync of ours that changes the rules: not a repair
  rules = SAVE_NAT.replace(/-A KUBELITE-T1-SERVICES .*\n/, '');
  await checks(3);
  t.is(resyncs, 2);
});
