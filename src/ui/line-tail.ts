// The last N lines of a log stream in bounded memory, each line capped: a container that writes one
// 50 MB line must not make the server (or the page) hold 50 MB. Pure.

export interface TailResult {
  lines: string[];
  /** How many lines were cut to `maxLineBytes`. */
  cutLines: number;
}

export class LineTail {
  private readonly done: { text: string; cut: boolean }[] = [];
  private parts: Buffer[] = [];
  private kept = 0;
  private seen = 0;
  private cut = 0;

  constructor(
    private readonly maxLines = 100,
    private readonly maxLineBytes = 2048,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      this.keep(chunk.subarray(start, nl < 0 ? chunk.length : nl));
      if (nl < 0) return;
      this.finishLine();
      start = nl + 1;
    }
  }

  private keep(piece: Buffer): void {
    this.seen += piece.length;
    const room = this.maxLineBytes - this.kept;
    if (room <= 0 || piece.length === 0) return;
    const part = piece.length > room ? Buffer.from(piece.subarray(0, room)) : Buffer.from(piece);
    this.parts.push(part);
    this.kept += part.length;
  }

  private finishLine(): void {
    let text = Buffer.concat(this.parts).toString('utf8').replace(/\r$/, '');
    const cut = this.seen > this.maxLineBytes;
    if (cut) {
      text += ` … [line cut: ${this.seen - this.maxLineBytes} more bytes]`;
      this.cut++;
    }
    this.done.push({ text, cut });
    if (this.done.length > this.maxLines && this.done.shift()!.cut) this.cut--;
    this.parts = [];
    this.kept = 0;
    this.seen = 0;
  }

  /** The lines so far, plus an unterminated last line if there is one. */
  result(): TailResult {
    if (this.seen > 0) this.finishLine();
    return { lines: this.done.map((l) => l.text), cutLines: this.cut };
  }
}
