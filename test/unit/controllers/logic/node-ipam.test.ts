// Node pod CIDRs: shares of the cluster's pod CIDR, the first kept for the server's own node, never reused while held.

import test from 'ava';
import type { Node } from '../../../../src/api/types.js';
import { heldShares, planNodeCIDR, shareAt, shareCount, shareIndex, type NodeCIDRConfig } from '../../../../src/controllers/logic/node-ipam.js';

const node = (name: string, podCIDR?: string): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: podCIDR ? { podCIDR } : {} });
const cfg: NodeCIDRConfig = { clusterCIDR: '10.244.0.0/16', maskSize: 24, firstShareFor: 'server' };

test('shares: count, address, index', (t) => {
  t.is(shareCount(cfg), 256);
  t.is(shareAt(cfg, 0), '10.244.0.0/24');
  t.is(shareAt(cfg, 5), '10.244.5.0/24');
  t.is(shareIndex(cfg, '10.244.5.0/24'), 5);
  t.is(shareIndex(cfg, '10.244.5.0/25'), undefined, 'another prefix length is no share');
  t.is(shareIndex(cfg, '10.244.5.1/24'), undefined, 'unaligned');
  t.is(shareIndex(cfg, '10.245.0.0/24'), undefined, 'outside');
  t.is(shareIndex(cfg, 'junk'), undefined);
  // a cluster CIDR no bigger than a share is one share, itself (the tests' /24 slots)
  const small = { clusterCIDR: '10.200.7.0/24', maskSize: 24 };
  t.is(shareCount(small), 1);
  t.is(shareAt(small, 0), '10.200.7.0/24');
  t.is(shareCount({ clusterCIDR: '10.64.0.0/17', maskSize: 24 }), 128);
});

test('the server\'s own node gets the first share; others the lowest free one after it', (t) => {
  t.deepEqual(planNodeCIDR(node('server'), new Map(), cfg), { op: 'assign', cidr: '10.244.0.0/24', index: 0 });
  t.deepEqual(planNodeCIDR(node('a'), new Map(), cfg), { op: 'assign', cidr: '10.244.1.0/24', index: 1 }, 'the first share waits for the server\'s node');
  t.deepEqual(planNodeCIDR(node('b'), new Map([[0, 'server'], [1, 'a']]), cfg), { op: 'assign', cidr: '10.244.2.0/24', index: 2 });
  t.deepEqual(planNodeCIDR(node('c'), new Map([[0, 'server'], [2, 'b']]), cfg), { op: 'assign', cidr: '10.244.1.0/24', index: 1 }, 'a freed share is used again');
  t.deepEqual(planNodeCIDR(node('a'), new Map(), { ...cfg, firstShareFor: undefined }), { op: 'assign', cidr: '10.244.0.0/24', index: 0 }, 'no agent on the server: the first share is anyone\'s');
  t.deepEqual(planNodeCIDR(node('a', '10.1.0.0/24'), new Map(), cfg), { op: 'none' }, 'a podCIDR once set stays');
});

test('exhausted: the reason names the range and what to do', (t) => {
  const small: NodeCIDRConfig = { clusterCIDR: '10.64.0.0/22', maskSize: 24, firstShareFor: 'server' };
  const held = new Map([[0, 'server'], [1, 'a'], [2, 'b'], [3, 'c']]);
  const d = planNodeCIDR(node('d'), held, small);
  t.is(d.op, 'exhausted');
  t.regex((d as { message: string }).message, /10\.64\.0\.0\/22 is exhausted: all 4 of its \/24 node shares are held.*kubectl delete node/);
  // only the server's reserved share left: still exhausted for others
  const d2 = planNodeCIDR(node('d'), new Map([[1, 'a'], [2, 'b'], [3, 'c']]), small);
  t.regex((d2 as { message: string }).message, /kept for the server's own node/);
});

test('held shares from the Nodes: the first holder of a share wins, foreign CIDRs are ignored', (t) => {
  const held = heldShares([node('s', '10.244.0.0/24'), node('a', '10.244.3.0/24'), node('x', '192.168.0.0/24'), node('dup', '10.244.3.0/24'), node('none')], cfg);
  t.deepEqual([...held], [[0, 's'], [3, 'a']]);
});
