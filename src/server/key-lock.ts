// One writer at a time per object key inside this server. Optimistic concurrency alone lets a busy
// writer (a controller updating status in a loop) starve an unconditional patch forever: the patch
// reads, the other write commits first, the patch's compare-and-swap fails, again and again. With the
// read-modify-write of each registry write serialised per object, a patch that holds the key reads
// the newest state and nothing else in this process can commit to that object before it does.

export class KeyLock {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `fn` once every earlier holder of `key` has finished; holders of other keys run freely. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev ? prev.then(() => mine) : mine;
    this.tails.set(key, tail);
    try {
      if (prev) await prev;
      return await fn();
    } finally {
      release();
      // The last holder removes the entry, so idle keys cost nothing.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Keys with a holder or waiters (for tests). */
  get size(): number {
    return this.tails.size;
  }
}
