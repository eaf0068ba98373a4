// RFC 7386 JSON merge patch (`application/merge-patch+json`): what kubectl sends for kinds it has
// no strategy for, and for `kubectl scale` / `kubectl patch --type merge`.

import { clone, getOwn, isObject, setOwn, type JsonObject } from './json.js';

/** Applies `patch` to `target` per RFC 7386. Pure: neither input is modified. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) delete out[key];
    else setOwn(out, key, applyMergePatch(getOwn(out, key), value));
  }
  return out;
}
