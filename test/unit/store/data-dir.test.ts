// The pure rules for accepting a store directory and explaining a refusal.

import test from 'ava';
import { explainOpenFailure, judgeDataDir, judgeMeta, StoreOpenError } from '../../../src/store/data-dir.js';
import { STORE_FORMAT } from '../../../src/store/keys.js';

test('judgeDataDir: missing or empty dirs (or LevelDB litter only) are created; CURRENT means open', (t) => {
  t.is(judgeDataDir('/d', { kind: 'missing' }), 'create');
  t.is(judgeDataDir('/d', { kind: 'entries', names: [] }), 'create');
  t.is(judgeDataDir('/d', { kind: 'entries', names: ['LOCK', 'LOG'] }), 'create');
  t.is(judgeDataDir('/d', { kind: 'entries', names: ['CURRENT', 'LOCK', 'LOG', 'MANIFEST-000002', '000003.log'] }), 'open');
});

test('judgeDataDir: anything else is refused, naming the path and a few entries', (t) => {
  const err = judgeDataDir('/srv/x', { kind: 'entries', names: ['g', 'f', 'e', 'd', 'c', 'b', 'a'] });
  t.true(err instanceof StoreOpenError);
  t.is((err as StoreOpenError).problem, 'foreign');
  t.regex((err as Error).message, /^data dir \/srv\/x is not a kubelite store: .*\(found: a, b, c, d, e, \.\.\.\)/);
  const file = judgeDataDir('/srv/y', { kind: 'not-a-directory' });
  t.is((file as StoreOpenError).problem, 'not-a-directory');
});

test('judgeMeta: ours, brand new, foreign, or another format', (t) => {
  t.is(judgeMeta('/d', STORE_FORMAT, true), 'ok');
  t.is(judgeMeta('/d', undefined, false), 'initialize');
  t.is((judgeMeta('/d', undefined, true) as StoreOpenError).problem, 'foreign-leveldb');
  t.is((judgeMeta('/d', 'kubelite-store/2', true) as StoreOpenError).problem, 'format');
});

test('explainOpenFailure reads the cause abstract-level wraps', (t) => {
  const wrap = (code: string, message: string) => Object.assign(new Error('Database failed to open'), { code: 'LEVEL_DATABASE_NOT_OPEN', cause: Object.assign(new Error(message), { code }) });
  const locked = explainOpenFailure('/d', wrap('LEVEL_LOCKED', 'IO error: lock /d/LOCK: Resource temporarily unavailable'));
  t.is(locked.problem, 'locked');
  t.is(locked.message, 'data dir /d is locked: is another kubelite server running? (IO error: lock /d/LOCK: Resource temporarily unavailable)');
  t.is(explainOpenFailure('/d', wrap('LEVEL_CORRUPTION', 'Corruption: bad block')).problem, 'corrupt');
  const io = explainOpenFailure('/d', wrap('LEVEL_IO_ERROR', 'IO error: /d/MANIFEST-000009: No such file or directory'));
  t.is(io.problem, 'io');
  t.regex(io.message, /^data dir \/d could not be opened: IO error: .*No such file/);
});
