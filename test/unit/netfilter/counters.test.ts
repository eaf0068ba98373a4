// Per-endpoint counters from `iptables-save -c -t nat`: parsed from what the renderer really writes
// (with counters added the way iptables-save -c prints them), never from another instance's or
// Docker's rules.

import test from 'ava';
import type { EndpointSubset, Service, ServiceSpec, Endpoints } from '../../../src/api/types.js';
import { hostNames } from '../../../src/config.js';
import { buildProxyModel } from '../../../src/netfilter/model.js';
import { renderRules } from '../../../src/netfilter/render.js';
import { EndpointCounterParser, parseEndpointCounters, readIptablesEndpointCounters } from '../../../src/netfilter/counters.js';

const names = hostNames({ instance: 'ctr' });
const other = hostNames({ instance: 'ctr2' });

function svc(ns: string, name: string, spec: ServiceSpec): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec };
}
function eps(ns: string, name: string, subsets: EndpointSubset[]): Endpoints {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { namespace: ns, name }, subsets };
}

/** The renderer's nat table as `iptables-save -c` would print it, each rule's counters from `count`. */
function savedWithCounters(instance: typeof names, count: (line: string, i: number) => [number, number]): string {
  const model = buildProxyModel(
    [
      svc('default', 'my-backend', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] }),
      svc('shop', 'dns', { clusterIP: '10.96.0.21', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { port: 5353, protocol: 'UDP' }] }),
    ],
    [
      eps('default', 'my-backend', [{ addresses: [{ ip: '10.244.0.5' }, { ip: '10.244.0.6' }, { ip: '10.244.0.7' }], ports: [{ name: 'http', port: 8080 }] }]),
      eps('shop', 'dns', [{ addresses: [{ ip: '10.244.0.9' }], ports: [{ name: 'dns', port: 1053, protocol: 'UDP' }, { port: 5353, protocol: 'UDP' }] }]),
    ],
  );
  const text = renderRules(model, { names: instance, podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12', nodeIPs: ['192.0.2.2'] }).toRestore();
  let i = 0;
  const nat = text.split('*filter')[0];
  return nat
    .split('\n')
    .map((l) => {
      if (l.startsWith('-A ')) {
        const [p, b] = count(l, i++);
        return `[${p}:${b}] ${l}`;
      }
      return l;
    })
    .join('\n');
}

test('every endpoint of every service port, with the DNAT rule counters', (t) => {
  const text = savedWithCounters(names, (l) => (/-j DNAT --to-destination 10\.244\.0\.(\d+)/.test(l) ? [Number(/10\.244\.0\.(\d+)/.exec(l.split('DNAT')[1])![1]) * 10, 600] : [999, 99999]));
  const got = parseEndpointCounters(text, names).sort((a, b) => (a.endpoint + a.port < b.endpoint + b.port ? -1 : 1));
  t.deepEqual(got, [
    { namespace: 'default', service: 'my-backend', port: 'http', protocol: 'TCP', endpoint: '10.244.0.5:8080', packets: 50, bytes: 600 },
    { namespace: 'default', service: 'my-backend', port: 'http', protocol: 'TCP', endpoint: '10.244.0.6:8080', packets: 60, bytes: 600 },
    { namespace: 'default', service: 'my-backend', port: 'http', protocol: 'TCP', endpoint: '10.244.0.7:8080', packets: 70, bytes: 600 },
    { namespace: 'shop', service: 'dns', port: 'dns', protocol: 'UDP', endpoint: '10.244.0.9:1053', packets: 90, bytes: 600 },
    { namespace: 'shop', service: 'dns', port: '', protocol: 'UDP', endpoint: '10.244.0.9:5353', packets: 90, bytes: 600 },
  ]);
});

test("another instance's chains, Docker's DNAT and the hairpin rule are not counted", (t) => {
  const mine = savedWithCounters(names, () => [1, 60]);
  const theirs = savedWithCounters(other, () => [7, 420]);
  const docker = '[5:300] -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80';
  const got = parseEndpointCounters(`${theirs}\n${docker}\n${mine}`, names);
  t.is(got.length, 5);
  t.true(got.every((c) => c.packets === 1 && c.bytes === 60));
});

test('counters beyond 2^32 and lines that do not parse', (t) => {
  const big = 2 ** 40;
  const text = savedWithCounters(names, () => [big, big * 60]);
  const broken = '[1:2] -A KL-CTR-SEP-AAAAAAAAAAAAAAAA -p tcp -m comment --comment "unterminated -j DNAT';
  const got = parseEndpointCounters(`${text}\n${broken}\ngarbage\n`, names);
  t.is(got.length, 5);
  t.is(got[0].packets, big);
  t.is(got[0].bytes, big * 60);
});

test('the adapter runs iptables-save -c -t nat with an argument array and reports a failure', async (t) => {
  const calls: string[][] = [];
  const text = savedWithCounters(names, () => [3, 180]);
  const ok = await readIptablesEndpointCounters(names, { exec: async (cmd, args) => (calls.push([cmd, ...args]), { code: 0, stdout: text, stderr: '' }) });
  t.deepEqual(calls, [['iptables-save', '-c', '-t', 'nat']]);
  t.is(ok.length, 5);
  await t.throwsAsync(readIptablesEndpointCounters(names, { exec: async () => ({ code: 4, stdout: '', stderr: 'iptables-save: permission denied' }) }), { message: /exit 4.*permission denied/ });
});

test('the streaming parser gives the same answer whatever the chunks', (t) => {
  const text = savedWithCounters(names, (_l, i) => [i, i * 60]);
  const whole = parseEndpointCounters(text, names);
  const p = new EndpointCounterParser(names);
  for (let i = 0; i < text.length; i += 7) p.push(text.slice(i, i + 7));
  t.deepEqual(p.end(), whole);
  t.is(whole.length, 5);
});
