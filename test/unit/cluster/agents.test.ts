// Agent nodes of a cluster: which indices new ones take.

import test from 'ava';
import { nextAgentIndices } from '../../../src/cluster/agents.js';

test('agent indices continue after the highest one in use', (t) => {
  t.deepEqual(nextAgentIndices([], 2), [0, 1]);
  t.deepEqual(nextAgentIndices([0, 3], 1), [4]);
  t.deepEqual(nextAgentIndices([1], 0), []);
});
