// Whether a freshly computed status differs from the stored one, so controllers skip no-op writes.
// A zero count equals an absent one: Kubernetes omits zero counts on the wire (omitempty), and other
// writers of these objects may do the same.

import { canonicalJSON } from './deployment-util.js';

function normalize(s: object | undefined): unknown {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s ?? {})) if (v !== 0) out[k] = v;
  return out;
}

export function statusEqual(a: object | undefined, b: object | undefined): boolean {
  return canonicalJSON(normalize(a)) === canonicalJSON(normalize(b));
}
