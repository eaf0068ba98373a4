// List ordering shared by strategic merge patch and server-side apply, following apimachinery's
// normalizeElementOrder: items named by the patch keep the patch's relative order, items only the
// server has keep theirs, and the two are interleaved by where they sit in the live list. An item
// the live list does not have cannot be placed relative to server-only items and goes first, which
// is why `kubectl patch` puts a new container before the existing ones.

import { deepEqual, getOwn, isObject } from './json.js';

/** Position of `item` in `list`: by merge-key value for maps, by value for primitives. */
export function indexIn(list: readonly unknown[], item: unknown, key: string | undefined): number {
  if (key === undefined) return list.findIndex((x) => deepEqual(x, item));
  if (!isObject(item)) return -1;
  const want = getOwn(item, key);
  return list.findIndex((x) => isObject(x) && deepEqual(getOwn(x, key), want));
}

/** Splits `merged` into the items present in `named` and the rest, each in `merged`'s order. */
export function partitionByPresence(merged: readonly unknown[], named: readonly unknown[], key: string | undefined): [unknown[], unknown[]] {
  const present: unknown[] = [];
  const absent: unknown[] = [];
  for (const item of merged) (indexIn(named, item, key) >= 0 ? present : absent).push(item);
  return [present, absent];
}

/** Stable sort by position in `order`; items `order` lacks stay at the end in their own order. */
export function sortByOrder(items: readonly unknown[], order: readonly unknown[], key: string | undefined): unknown[] {
  const ranked = items.map((item, i) => ({ item, i, at: indexIn(order, item, key) }));
  ranked.sort((a, b) => {
    if (a.at >= 0 && b.at >= 0) return a.at - b.at || a.i - b.i;
    if (a.at >= 0) return -1;
    if (b.at >= 0) return 1;
    return a.i - b.i;
  });
  return ranked.map((r) => r.item);
}

/**
 * Merges two sorted lists: `left` (server-only items) is woven into `right` (patch items), an item
 * of `left` going first only when both are in `serverOrder` and it sits earlier there.
 */
export function mergeSorted(left: readonly unknown[], right: readonly unknown[], serverOrder: readonly unknown[], key: string | undefined): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], key);
      const ri = indexIn(serverOrder, right[j], key);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

export function normalizeElementOrder(
  patchItems: readonly unknown[],
  serverOnly: readonly unknown[],
  patchOrder: readonly unknown[],
  serverOrder: readonly unknown[],
  key: string | undefined,
): unknown[] {
  return mergeSorted(sortByOrder(serverOnly, serverOrder, key), sortByOrder(patchItems, patchOrder, key), serverOrder, key);
}
