// The watch history: the last N changes, kept as JSON strings (shared with the live index while an
// object is current) so 10,000 remembered events cost little more than the superseded versions.

import type { ResourceInfo } from '../api/resources.js';
import type { StoreEventType } from './types.js';

export interface EventRecord {
  type: StoreEventType;
  resource: ResourceInfo;
  resKey: string;
  namespace: string;
  rv: number;
  json: string;
  oldJson?: string;
  /** Set when `oldJson` does not carry its own resourceVersion (the etcd store keeps it out of values). */
  oldRv?: number;
}

export class EventRing {
  private readonly buf: (EventRecord | undefined)[];
  private start = 0;
  private length = 0;
  /** Every event with rv > floor is still held; a watch may resume from any rv >= floor. */
  private floorRv: number;

  constructor(readonly capacity: number, floorRv: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`event log size must be a positive integer, got ${capacity}`);
    this.buf = new Array(capacity);
    this.floorRv = floorRv;
  }

  get floor(): number {
    return this.floorRv;
  }

  /** Forget everything; used when the store is (re)loaded at `rv`. */
  reset(floorRv: number): void {
    this.buf.fill(undefined);
    this.start = 0;
    this.length = 0;
    this.floorRv = floorRv;
  }

  push(rec: EventRecord): void {
    if (this.length < this.capacity) {
      this.buf[(this.start + this.length) % this.capacity] = rec;
      this.length++;
      return;
    }
    const evicted = this.buf[this.start]!;
    this.floorRv = evicted.rv;
    this.buf[this.start] = rec;
    this.start = (this.start + 1) % this.capacity;
  }

  /** Records with rv > afterRv, oldest first (a snapshot). The caller checks `floor` first. */
  since(afterRv: number): EventRecord[] {
    // Binary search for the first record with rv > afterRv (records are in rv order).
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).rv > afterRv) hi = mid;
      else lo = mid + 1;
    }
    const out: EventRecord[] = [];
    for (let i = lo; i < this.length; i++) out.push(this.at(i));
    return out;
  }

  private at(i: number): EventRecord {
    return this.buf[(this.start + i) % this.capacity]!;
  }
}
