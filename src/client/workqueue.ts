// client-go's rate-limited work queue: handlers enqueue only a key; a key is never processed by two
// workers at once; a key added while it is being processed runs once more afterwards; a failed key is
// retried with exponential back-off. This is what makes every controller level-triggered.

import type { LeveledLogger } from '../util/log.js';

type Logger = Pick<LeveledLogger, 'warn'>;

export interface WorkQueueOptions {
  name: string;
  workers?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  logger?: Logger;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirtyWhileProcessing = new Set<string>();
  /** Keys queued again while they ran, waiting for the next turn of the event loop. */
  private readonly rerun = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  private running = 0;
  private stopped = true;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly handler: (key: string) => Promise<void>,
    private readonly opts: WorkQueueOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
  }

  add(key: string): void {
    if (this.processing.has(key)) {
      this.dirtyWhileProcessing.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Adds the key after a delay; when it is already waiting, the earlier of the two times wins. */
  addAfter(key: string, delayMs: number): void {
    if (delayMs <= 0) return this.add(key);
    const due = Date.now() + delayMs;
    const existing = this.timers.get(key);
    if (existing) {
      if (existing.due <= due) return;
      clearTimeout(existing.timer);
    }
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    this.timers.set(key, { timer, due });
  }

  /** Forget a key's failure history (after a success). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  get length(): number {
    return this.queue.length + this.processing.size + this.rerun.size;
  }

  /** Resolves when nothing is queued or processing (tests and benchmarks). */
  idle(): Promise<void> {
    if (this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    const workers = this.opts.workers ?? 1;
    while (!this.stopped && this.running < workers && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      this.running++;
      void this.run(key);
    }
    if (this.length === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async run(key: string): Promise<void> {
    try {
      await this.handler(key);
      this.failures.delete(key);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const base = this.opts.baseDelayMs ?? 5;
      const delay = Math.min(base * 2 ** (n - 1), this.opts.maxDelayMs ?? 30_000);
      this.opts.logger?.warn({ err: errText(err), key, queue: this.opts.name, retryInMs: delay }, 'reconcile failed; will retry');
      this.addAfter(key, delay);
    } finally {
      this.processing.delete(key);
      this.running--;
      if (this.dirtyWhileProcessing.delete(key)) this.rerunSoon(key);
      this.pump();
    }
  }

  /**
   * A key queued again while it ran runs again in the next turn of the event loop, not in this chain of
   * promise callbacks: a handler that needs no I/O and queues its own key each time would otherwise run
   * forever before any timer fires or any socket is read (the whole process stops answering).
   */
  private rerunSoon(key: string): void {
    this.rerun.add(key);
    if (this.rerun.size > 1) return;
    setImmediate(() => {
      const keys = [...this.rerun];
      this.rerun.clear();
      for (const k of keys) this.add(k);
    });
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
