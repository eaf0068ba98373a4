// The last lines of a log in bounded memory: a huge line is cut, chunk boundaries do not matter.

import test from 'ava';
import { LineTail } from '../../../src/ui/line-tail.js';

test('keeps the last N lines', (t) => {
  const tail = new LineTail(3, 100);
  tail.push(Buffer.from('1\n2\n3\n4\n5\n'));
  t.deepEqual(tail.result(), { lines: ['3', '4', '5'], cutLines: 0 });
});

test('lines split across chunks, CRLF, and an unterminated last line', (t) => {
  const tail = new LineTail(10, 100);
  for (const c of ['hel', 'lo\r\nwor', 'ld\n', 'no newline']) tail.push(Buffer.from(c));
  t.deepEqual(tail.result().lines, ['hello', 'world', 'no newline']);
});

test('a huge line is cut and says so, without holding it', (t) => {
  const tail = new LineTail(5, 16);
  tail.push(Buffer.from('before\n'));
  const big = Buffer.alloc(1024 * 1024, 'x');
  for (let i = 0; i < 50; i++) tail.push(big);
  tail.push(Buffer.from('\nafter\n'));
  const r = tail.result();
  t.is(r.lines.length, 3);
  t.is(r.lines[1], `${'x'.repeat(16)} … [line cut: ${50 * 1024 * 1024 - 16} more bytes]`);
  t.deepEqual([r.lines[0], r.lines[2]], ['before', 'after']);
  t.is(r.cutLines, 1);
});

test('a cut line that scrolls out is no longer counted', (t) => {
  const tail = new LineTail(2, 4);
  tail.push(Buffer.from('0123456789\na\nb\n'));
  t.deepEqual(tail.result(), { lines: ['a', 'b'], cutLines: 0 });
});
