// The node Lease an agent renews (kube-node-lease, owned by its Node) and the registration wait.

import test from 'ava';
import type { Node } from '../../../src/api/types.js';
import { microTime, nodeLease, registerNode } from '../../../src/agent/node-lease.js';
import { StatusError } from '../../../src/api/errors.js';

const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', uid: 'u1', labels: { a: 'b' } }, spec: {} };
const log = { warn: () => undefined, info: () => undefined, debug: () => undefined };

test('the Lease: holder, duration, MicroTime renewTime, owned by the Node', (t) => {
  t.is(microTime(Date.parse('2026-01-01T00:00:00.123Z')), '2026-01-01T00:00:00.123000Z');
  const l = nodeLease(node, 4, Date.parse('2026-01-01T00:00:00.123Z'));
  t.deepEqual(l.metadata, { name: 'n1', namespace: 'kube-node-lease', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'u1' }] });
  t.deepEqual(l.spec, { holderIdentity: 'n1', leaseDurationSeconds: 4, renewTime: '2026-01-01T00:00:00.123000Z' });
  const again = nodeLease(node, 4, Date.parse('2026-01-01T00:00:01Z'), { ...l, metadata: { ...l.metadata, resourceVersion: '7' } });
  t.is(again.metadata.resourceVersion, '7', 'a renewal updates the stored Lease');
});

function fakeClient(states: Node[], createErr?: Error) {
  let i = 0;
  return {
    created: [] as Node[],
    async get() {
      if (i === 0 && createErr === undefined) {
        i++;
        throw new StatusError({ code: 404, reason: 'NotFound', message: 'nope' });
      }
      return states[Math.min(i++ - 1, states.length - 1)];
    },
    async create(_r: unknown, obj: Node) {
      this.created.push(obj);
      return states[0];
    },
    async update(_r: unknown, obj: Node) {
      return obj;
    },
  };
}

test('registration creates the Node without a pod CIDR and waits for the one the server assigns', async (t) => {
  const c = fakeClient([node, node, { ...node, spec: { podCIDR: '10.64.3.0/24' } }]);
  const got = await registerNode(c as never, { ...node, spec: {} }, { log });
  t.is(got.spec?.podCIDR, '10.64.3.0/24');
  t.is(c.created.length, 1);
  t.is(c.created[0].status, undefined);
});

test('registration fails with the server\'s reason when the pod CIDR is exhausted', async (t) => {
  const c = fakeClient([{ ...node, metadata: { ...node.metadata, annotations: { 'kubelite.io/pod-cidr-error': 'the pod CIDR 10.64.0.0/22 is exhausted' } } }]);
  await t.throwsAsync(registerNode(c as never, node, { log }), { message: /node n1 has no pod CIDR: the pod CIDR 10\.64\.0\.0\/22 is exhausted/ });
});
