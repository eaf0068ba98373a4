// The in-memory index both backends keep: one JSON string per object, grouped by resource and
// namespace, with list order (namespace, then name, by code unit) rebuilt lazily after an add or a
// delete. The LevelDB store keeps it as its state; the etcd store as its watch cache.

import type { ResourceInfo } from '../api/resources.js';
import type { EventRecord } from './event-ring.js';
import { resourceKey } from './keys.js';

export interface IndexEntry {
  /** The stored JSON (the etcd store keeps it without metadata.resourceVersion: `rv` is the truth). */
  json: string;
  rv: number;
}

interface NamespaceBucket {
  entries: Map<string, IndexEntry>;
  /** Names in list order; rebuilt lazily after an add or delete. */
  sorted: string[] | null;
}

interface ResourceIndex {
  info: ResourceInfo;
  namespaces: Map<string, NamespaceBucket>;
  sortedNamespaces: string[] | null;
  size: number;
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class ObjectIndex {
  private readonly byResource = new Map<string, ResourceIndex>();

  lookup(resKey: string, namespace: string, name: string): IndexEntry | undefined {
    return this.byResource.get(resKey)?.namespaces.get(namespace)?.entries.get(name);
  }

  put(info: ResourceInfo, resKey: string, namespace: string, name: string, entry: IndexEntry): void {
    let idx = this.byResource.get(resKey);
    if (!idx) {
      idx = { info, namespaces: new Map(), sortedNamespaces: null, size: 0 };
      this.byResource.set(resKey, idx);
    }
    let bucket = idx.namespaces.get(namespace);
    if (!bucket) {
      bucket = { entries: new Map(), sorted: null };
      idx.namespaces.set(namespace, bucket);
      idx.sortedNamespaces = null;
    }
    if (!bucket.entries.has(name)) {
      bucket.sorted = null;
      idx.size++;
    }
    bucket.entries.set(name, entry);
  }

  remove(resKey: string, namespace: string, name: string): void {
    const idx = this.byResource.get(resKey);
    const bucket = idx?.namespaces.get(namespace);
    if (!idx || !bucket?.entries.delete(name)) return;
    idx.size--;
    bucket.sorted = null;
    if (bucket.entries.size === 0) {
      idx.namespaces.delete(namespace);
      idx.sortedNamespaces = null;
    }
  }

  clear(): void {
    this.byResource.clear();
  }

  /** Entries of a resource in list order (one namespace, or all when `namespace` is undefined). */
  list(resource: ResourceInfo, namespace: string | undefined): IndexEntry[] {
    const idx = this.byResource.get(resourceKey(resource));
    if (!idx) return [];
    const out: IndexEntry[] = [];
    const namespaces = namespace === undefined ? (idx.sortedNamespaces ??= [...idx.namespaces.keys()].sort(byCodeUnit)) : [namespace];
    for (const ns of namespaces) {
      const bucket = idx.namespaces.get(ns);
      if (!bucket) continue;
      for (const name of (bucket.sorted ??= [...bucket.entries.keys()].sort(byCodeUnit))) out.push(bucket.entries.get(name)!);
    }
    return out;
  }

  count(resource?: ResourceInfo): number {
    if (resource) return this.byResource.get(resourceKey(resource))?.size ?? 0;
    let n = 0;
    for (const idx of this.byResource.values()) n += idx.size;
    return n;
  }

  /** Synthetic ADDED records for every current object (of one resource / namespace), in rv order. */
  snapshot(resource: ResourceInfo | undefined, namespace: string | undefined): EventRecord[] {
    const out: EventRecord[] = [];
    const indexes = resource ? [this.byResource.get(resourceKey(resource))].filter((x) => x !== undefined) : [...this.byResource.values()];
    for (const idx of indexes) {
      const resKey = resourceKey(idx.info);
      for (const [ns, bucket] of idx.namespaces) {
        if (namespace !== undefined && ns !== namespace) continue;
        for (const e of bucket.entries.values()) {
          out.push({ type: 'ADDED', resource: resource ?? idx.info, resKey, namespace: ns, rv: e.rv, json: e.json });
        }
      }
    }
    return out.sort((a, b) => a.rv - b.rv);
  }
}
