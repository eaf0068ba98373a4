// The agent's picture of what Docker runs for it, indexed by container id and by Pod (ns/name):
// filled by a relist, kept current by the events stream, read by every pod sync without a round trip.

import type { ObservedContainer } from './types.js';
import { keyFor } from '../api/keys.js';

export class RuntimeCache {
  private readonly byId = new Map<string, ObservedContainer>();
  private readonly byPod = new Map<string, Set<string>>();

  get(id: string): ObservedContainer | undefined {
    return this.byId.get(id);
  }

  set(c: ObservedContainer): void {
    const old = this.byId.get(c.id);
    if (old) this.unindex(old);
    this.byId.set(c.id, c);
    const key = keyFor(c.podNamespace, c.podName);
    let ids = this.byPod.get(key);
    if (!ids) this.byPod.set(key, (ids = new Set()));
    ids.add(c.id);
  }

  delete(id: string): ObservedContainer | undefined {
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
   */
  replaceAll(list: ObservedContainer[]): { needInspect: string[]; changedPods: Set<string> } {
    const needInspect: string[] = [];
    const changedPods = new Set<string>();
    const seen = new Set<string>();
    for (const c of list) {
      seen.add(c.id);
      const old = this.byId.get(c.id);
      if (old && old.state === c.state && old.inspected) continue;
      this.set(old && old.state === c.state ? { ...old, ...c, inspected: old.inspected } : c);
      needInspect.push(c.id);
      changedPods.add(keyFor(c.podNamespace, c.podName));
    }
    for (const id of [...this.byId.keys()]) {
      if (seen.has(id)) continue;
      const old = this.delete(id)!;
      changedPods.add(keyFor(old.podNamespace, old.podName));
    }
    return { needInspect, changedPods };
  }
}
