// The pod network's pure parts (src/agent/pod-network.ts, node-status.ts): what a rebuilt network takes
// back, and the Node's NetworkUnavailable condition.

import test from 'ava';
import { toReattach } from '../../../src/agent/pod-network.js';
import { networkCondition } from '../../../src/agent/node-status.js';
import { app, sandbox, T0 } from './fixtures.js';

test('toReattach: everything Docker lists on the network with its address, plus running sandboxes it lost track of', (t) => {
  const listed = sandbox({ id: 'a'.repeat(64), ip: '10.200.18.2', networkMode: 'kubelite-t18' });
  const unlisted = sandbox({ id: 'b'.repeat(64), ip: '10.200.18.3', networkMode: 'kubelite-t18' });
  const dead = sandbox({ id: 'c'.repeat(64), ip: '10.200.18.4', networkMode: 'kubelite-t18', state: 'exited' });
  const hostNet = sandbox({ id: 'd'.repeat(64), ip: '192.0.2.2', networkMode: 'host' });
  const joined = app('app', listed);
  const attached = { [listed.id]: { IPv4Address: '10.200.18.2/24' }, ['e'.repeat(64)]: { IPv4Address: '10.200.18.9/24' }, ['f'.repeat(64)]: {} };
  t.deepEqual(toReattach(attached, [listed, unlisted, dead, hostNet, joined], 'kubelite-t18'), [
    { id: listed.id, ip: '10.200.18.2' },
    { id: 'e'.repeat(64), ip: '10.200.18.9' },
    { id: unlisted.id, ip: '10.200.18.3' },
  ]);
  t.deepEqual(toReattach(undefined, [], 'kubelite-t18'), []);
});

test('networkCondition: False (PodBridgeUp) while whole, True with the reason while lost; the transition time moves only on a flip', (t) => {
  const up = networkCondition(undefined, { ok: true }, T0);
  t.like(up, { type: 'NetworkUnavailable', status: 'False', reason: 'PodBridgeUp' });
  const lost = networkCondition([up], { ok: false, reason: 'PodNetworkLost', message: 'the pod bridge kl0 was deleted: rebuilding the pod network' }, T0 + 5000);
  t.like(lost, { status: 'True', reason: 'PodNetworkLost', message: 'the pod bridge kl0 was deleted: rebuilding the pod network' });
  t.not(lost.lastTransitionTime, up.lastTransitionTime);
  const still = networkCondition([lost], { ok: false, reason: 'PodNetworkRepairFailed', message: 'x' }, T0 + 9000);
  t.is(still.lastTransitionTime, lost.lastTransitionTime);
});
