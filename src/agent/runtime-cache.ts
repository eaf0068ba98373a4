// The agent's picture of what Docker runs for it, indexed by container id and by Pod (ns/name):
// filled by a relist, kept current by the events stream, read by every pod sync without a round trip.

import type { ObservedContainer } from './types.js';
import { keyFor } from '../api/keys.js';

export class RuntimeCache {
  private readonly byId = new Map<string, ObservedContainer>();
  private readonly byPod = new Map<string, Set<string>>();
  /** A counter of changes: when each id (present or deleted) was last written. */
  private generation = 0;
  private readonly writtenAt = new Map<string, number>();

  /**
   * The point a list is taken from: call before asking Docker for the list, pass to replaceAll. What
   * an event or a sync writes after it is newer than the list, and the list must not undo it.
   */
  mark(): number {
    return this.generation;
  }

  get(id: string): ObservedContainer | undefined {
    return this.byId.get(id);
  }

  set(c: ObservedContainer): void {
    const old = this.byId.get(c.id);
    if (old) this.unindex(old);
    this.byId.set(c.id, c);
    this.writtenAt.set(c.id, ++this.generation);
    const key = keyFor(c.podNamespace, c.podName);
    let ids = this.byPod.get(key);
    if (!ids) this.byPod.set(key, (ids = new Set()));
    ids.add(c.id);
  }

  delete(id: string): ObservedContainer | undefined {
    // a tombstone even for an id never seen: a list taken before a destroy must not bring it back
    this.writtenAt.set(id, ++this.generation);
    const old = this.byId.get(id);
    if (!old) return undefined;
    this.byId.delete(id);
    this.unindex(old);
    return old;
  }

  private unindex(c: ObservedContainer): void {
    const key = keyFor(c.podNamespace, c.podName);
    const ids = this.byPod.get(key);
    if (!ids) return;
    ids.delete(c.id);
    if (ids.size === 0) this.byPod.delete(key);
  }

  forPod(key: string): ObservedContainer[] {
    const ids = this.byPod.get(key);
    if (!ids) return [];
    const out: ObservedContainer[] = [];
    for (const id of ids) {
      const c = this.byId.get(id);
      if (c) out.push(c);
    }
    return out;
  }

  podKeys(): string[] {
    return [...this.byPod.keys()];
  }

  all(): ObservedContainer[] {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }

  /**
   * Swaps in a fresh list (from `docker ps -a`). Entries whose state did not change keep the details
   * an inspect gave them; returns the ids that need an inspect and the Pods whose containers changed.
   * With `since` (a mark() taken before the list was asked for), ids written after it (an event, a
   * sync's create or removal) keep what they have: the list is older than that, as an informer's
   * relist never undoes a newer watch event.
   */
  replaceAll(list: ObservedContainer[], since = Infinity): { needInspect: string[]; changedPods: Set<string> } {
    const needInspect: string[] = [];
    const changedPods = new Set<string>();
    const seen = new Set<string>();
    const newer = (id: string) => (this.writtenAt.get(id) ?? -1) > since;
    for (const c of list) {
      seen.add(c.id);
      if (newer(c.id)) continue;
      const old = this.byId.get(c.id);
      if (old && old.state === c.state && old.inspected) continue;
      this.set(old && old.state === c.state ? { ...old, ...c, inspected: old.inspected } : c);
      needInspect.push(c.id);
      changedPods.add(keyFor(c.podNamespace, c.podName));
    }
    for (const id of [...this.byId.keys()]) {
      if (seen.has(id) || newer(id)) continue;
      const old = this.delete(id)!;
      changedPods.add(keyFor(old.podNamespace, old.podName));
    }
    // What the list has settled needs no stamp any more (tombstones included).
    const settled = Number.isFinite(since) ? since : this.generation;
    for (const [id, at] of this.writtenAt) if (at <= settled && !this.byId.has(id)) this.writtenAt.delete(id);
    return { needInspect, changedPods };
  }
}
