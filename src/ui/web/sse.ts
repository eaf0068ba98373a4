// A Server-Sent Events parser for a fetch() body (fetch, not EventSource: it tells a 401 from a
// network failure, and the page owns its reconnect back-off). Pure: bytes in, `data` payloads out.

export class SseParser {
  private buf = '';
  private data: string[] = [];

  /** Feeds decoded text; returns the payloads of the events it completed. */
  push(text: string): string[] {
    this.buf += text;
    const out: string[] = [];
    for (;;) {
      const nl = this.buf.indexOf('\n');
      if (nl < 0) break;
      let line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (this.data.length) out.push(this.data.join('\n'));
        this.data = [];
      } else if (line.startsWith('data:')) {
        this.data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
      }
      // comments (":") and other fields (event:, id:, retry:) are not used by this stream
    }
    return out;
  }
}
