// The page's SSE parser: events split anywhere across chunks.

import test from 'ava';
import { SseParser } from '../../../src/ui/web/sse.js';

test('events across chunk boundaries, comments and CRLF', (t) => {
  const p = new SseParser();
  const text = ': hello\n\ndata: {"t":"ping"}\n\ndata: {"a":\ndata: 1}\r\n\r\ndata:x\n\n';
  const out: string[] = [];
  for (let i = 0; i < text.length; i += 3) out.push(...p.push(text.slice(i, i + 3)));
  t.deepEqual(out, ['{"t":"ping"}', '{"a":\n1}', 'x']);
});
