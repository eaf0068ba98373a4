// The pure parts of `kubelite cluster create`: the --api-port flag and a Node's readiness.

import test from 'ava';
import { nodeReady, parseApiPort } from '../../../src/cluster/create.js';

test('--api-port: PORT or ADDRESS:PORT, loopback by default', (t) => {
  t.deepEqual(parseApiPort('7443'), ['127.0.0.1', 7443]);
  t.deepEqual(parseApiPort('0.0.0.0:7443'), ['0.0.0.0', 7443]);
  for (const bad of ['', 'x', '70000', '1.2.3:80', '999.1.1.1:80', 'localhost:80', '0']) t.throws(() => parseApiPort(bad), { message: /--api-port/ }, bad);
});

test('a Node is Ready when its Ready condition is True', (t) => {
  t.true(nodeReady(JSON.stringify({ status: { conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }] } })));
  t.false(nodeReady(JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'False' }] } })));
  t.false(nodeReady('{}'));
  t.false(nodeReady('not json'));
});
