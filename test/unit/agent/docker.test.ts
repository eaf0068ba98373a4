// Where a broken Docker events stream resumes (the `since` of the new request).

import test from 'ava';
import { resumeSince } from '../../../src/agent/docker.js';

test('the first stream asks for no past events', (t) => {
  t.is(resumeSince(undefined, undefined), undefined);
});

test('a resumed stream starts a microsecond before the last event it got', (t) => {
  // 2026-12-07T12:00:00.5Z in ns (as JSON.parse gives timeNano: a double, precise to 256 ns here)
  const nano = 1_796_644_800_500_000_000;
  const since = resumeSince(nano, Date.parse('2026-12-07T11:59:00Z'))!;
  t.regex(since, /^1796644800\.\d{9}$/);
  const [s, f] = since.split('.').map(Number);
  const back = s * 1e9 + f;
  t.true(back <= nano - 999 && back >= nano - 1300, `${since} is about 1 µs before the event`);
});

test('a stream that broke before any event resumes from a second before the first one was asked for', (t) => {
  t.is(resumeSince(undefined, 1_796_644_800_250), '1796644799.250000000');
  t.is(resumeSince(0, 1_796_644_800_000), '1796644799.000000000');
});
