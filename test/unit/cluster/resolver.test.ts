// Host resolver settings for a cluster's Service names: resolvectl argument lists and the printed snippet.

import test from 'ava';
import { resolvedApply, resolvedRevert, resolverSnippet } from '../../../src/cluster/resolver.js';

const d = { cluster: 't1', bridge: 'klc-t1', server: '10.64.128.10', domain: 'cluster.local' };

test('systemd-resolved: per link, routing domain only', (t) => {
  t.deepEqual(resolvedApply(d), [
    ['dns', 'klc-t1', '10.64.128.10'],
    ['domain', 'klc-t1', '~svc.cluster.local'],
  ]);
  t.deepEqual(resolvedRevert(d), [['revert', 'klc-t1']]);
});

test('the snippet names the server and a dnsmasq line', (t) => {
  const s = resolverSnippet(d);
  t.regex(s, /^server=\/svc\.cluster\.local\/10\.64\.128\.10$/m);
  t.regex(s, /dig @10\.64\.128\.10 my-service\.default\.svc\.cluster\.local/);
});

test('nothing odd reaches resolvectl', (t) => {
  t.throws(() => resolvedApply({ ...d, domain: 'x;reboot' }), { message: /not a DNS name/ });
  t.throws(() => resolvedApply({ ...d, server: '10.0.0.1 8.8.8.8' }), { message: /not an IPv4 address/ });
  t.throws(() => resolvedRevert({ bridge: '-eth0 --help' }));
});
