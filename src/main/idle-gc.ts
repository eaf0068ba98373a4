// Gives memory back after bursts. V8 keeps the heap pages a burst of requests grew (a `kubectl apply`
// of hundreds of objects, a benchmark) long after the garbage in them is dead; a long-running server
// that is idle again should not carry that. When the API has been quiet for a while after enough
// work, one full (compacting) collection returns the pages. Needs `--expose-gc` (bin/kubelite passes
// it); without it this does nothing.

const QUIET_MS = 5_000;
const MIN_REQUESTS = 500;

export class IdleGC {
  private requests = 0;
  private last = Date.now();
  private readonly timer?: NodeJS.Timeout;
  private readonly gc = (globalThis as { gc?: () => void }).gc;

  constructor() {
    if (!this.gc) return;
    this.timer = setInterval(() => this.check(), QUIET_MS);
    this.timer.unref();
  }

  /** Count one request (cheap: called on every API request). */
  touch(): void {
    this.requests++;
    this.last = Date.now();
  }

  private check(): void {
    if (this.requests < MIN_REQUESTS || Date.now() - this.last < QUIET_MS) return;
    this.requests = 0;
    this.gc?.();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
