// A one-way gate that code waits on: opened once (or failed once, with the reason), and awaiting it
// afterwards answers at once. The server's components use one to start as soon as a milestone of
// another component is reached, not only once that component's whole start is done.

export class Latch {
  readonly promise: Promise<void>;
  private settle!: { open: () => void; fail: (err: Error) => void };
  private state: 'waiting' | 'open' | 'failed' = 'waiting';

  constructor() {
    this.promise = new Promise<void>((open, fail) => (this.settle = { open, fail }));
    // Nobody may be waiting when it fails: that is no unhandled rejection.
    this.promise.catch(() => undefined);
  }

  get settled(): boolean {
    return this.state !== 'waiting';
  }

  open(): void {
    if (this.state !== 'waiting') return;
    this.state = 'open';
    this.settle.open();
  }

  fail(err: Error): void {
    if (this.state !== 'waiting') return;
    this.state = 'failed';
    this.settle.fail(err);
  }
}
