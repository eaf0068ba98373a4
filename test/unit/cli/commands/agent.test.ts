// `kubelite agent --server`: https URLs of an API, several tried in turn.

import test from 'ava';
import { parseServers } from '../../../../cli/commands/agent.js';

test('--server: one or more https://HOST:PORT, nothing else', (t) => {
  t.deepEqual(parseServers('https://10.0.0.1:6443'), ['https://10.0.0.1:6443']);
  t.deepEqual(parseServers('https://a:6443/, https://b:6443'), ['https://a:6443', 'https://b:6443']);
  for (const bad of ['http://a:6443', 'a:6443', 'https://a:6443/api', 'https://user@a:6443', '', 'https://a:6443?x=1']) t.throws(() => parseServers(bad), undefined, bad);
});
