// Docker's multiplexed stream (logs and exec without a TTY): frames of an 8-byte header — stream
// (0 stdin, 1 stdout, 2 stderr), three zero bytes, a big-endian length — then the payload. Chunks from
// the socket cut frames anywhere, so the demuxer keeps what it has not finished. Pure.

export interface Frame {
  stream: 0 | 1 | 2;
  data: Buffer;
}

export class FrameDemuxer {
  private buf: Buffer = Buffer.alloc(0);

  /** Feeds bytes; returns every frame completed by them, in order. */
  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Frame[] = [];
    let off = 0;
    while (this.buf.length - off >= 8) {
      const type = this.buf[off];
      const len = this.buf.readUInt32BE(off + 4);
      if (this.buf.length - off - 8 < len) break;
      const stream = type === 2 ? 2 : type === 0 ? 0 : 1;
      if (len > 0) out.push({ stream, data: this.buf.subarray(off + 8, off + 8 + len) });
      off += 8 + len;
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
    return out;
  }

  /** Bytes of an unfinished frame still held. */
  get pending(): number {
    return this.buf.length;
  }
}

/** One frame as Docker writes it (tests, and stdin of attach). */
export function encodeFrame(stream: 0 | 1 | 2, data: Buffer | string): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}
