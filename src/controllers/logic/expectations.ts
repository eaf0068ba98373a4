// Kubernetes' ControllerExpectations: after a controller creates or deletes pods, its informer cache
// lags behind; until the watch has shown those changes, a new sync would see the old count and act
// twice. A controller records what it expects, the event handlers tick it off, and a sync of that key
// waits (or a TTL expires, in case a watch event was lost). In-memory, clock passed in.

export const EXPECTATIONS_TTL_MS = 5 * 60 * 1000;

interface Record_ {
  adds: number;
  deletions: Set<string>;
  at: number;
}

export class Expectations {
  private readonly records = new Map<string, Record_>();

  constructor(private readonly ttlMs = EXPECTATIONS_TTL_MS) {}

  /** Before creating `adds` pods and deleting the pods with the given keys for controller `key`. */
  expect(key: string, adds: number, deletedPodKeys: readonly string[], now: Date): void {
    this.records.set(key, { adds, deletions: new Set(deletedPodKeys), at: now.getTime() });
  }

  /** A pod of this controller appeared in the cache (or its create failed and will not appear). */
  creationObserved(key: string): void {
    const r = this.records.get(key);
    if (r && r.adds > 0) r.adds--;
  }

  /** A pod of this controller left the cache or got a deletionTimestamp (or its delete failed). */
  deletionObserved(key: string, podKey: string): void {
    this.records.get(key)?.deletions.delete(podKey);
  }

  /** True when the controller may sync: nothing pending, or the record is older than the TTL. */
  satisfied(key: string, now: Date): boolean {
    const r = this.records.get(key);
    if (!r) return true;
    if (r.adds <= 0 && r.deletions.size === 0) return true;
    return now.getTime() - r.at > this.ttlMs;
  }

  /** Forget a controller (it was deleted). */
  forget(key: string): void {
    this.records.delete(key);
  }
}
