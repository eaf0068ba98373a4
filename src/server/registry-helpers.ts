// Small pure helpers of the registry's write path.

import crypto from 'node:crypto';
import type { KObject } from '../api/types.js';

const GENERATE_SUFFIX = 'bcdfghjklmnpqrstvwxz2456789';

export function specOf(obj: KObject): unknown {
  // Everything except metadata and status is "spec" for generation purposes (ConfigMap data included).
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return Object.keys(rest).length ? rest : undefined;
}

/** Empty labels/annotations/finalizers/ownerReferences are absent in Kubernetes (omitempty): `kubectl label x k-` leaves no `labels: {}`. */
export function dropEmptyMetadata(meta: KObject['metadata']): void {
  const m = meta as Record<string, unknown>;
  for (const k of ['labels', 'annotations', 'finalizers', 'ownerReferences']) {
    const v = m[k];
    if (v !== null && typeof v === 'object' && Object.keys(v).length === 0) delete m[k];
  }
}

export function stripRV(obj: KObject): KObject {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } };
}

export function randomSuffix(): string {
  const bytes = crypto.randomBytes(5);
  let s = '';
  for (const b of bytes) s += GENERATE_SUFFIX[b % GENERATE_SUFFIX.length];
  return s;
}


/** Removes `spec.template.spec.containers[0].imagee` from an object (unknown-field pruning). */
export function deletePath(obj: unknown, path: string): void {
  const parts = path.match(/[^.[\]]+/g) ?? [];
  let cur: unknown = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    if (cur === null || typeof cur !== 'object') return;
    cur = (cur as Record<string, unknown>)[parts[i]];
  }
  if (cur && typeof cur === 'object') delete (cur as Record<string, unknown>)[parts[parts.length - 1]];
}
