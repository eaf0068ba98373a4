// Secret helpers shared by server-side apply and the CLI's client-side apply. Pure.

import type { KObject } from './types.js';

/** A Secret with stringData folded into data (base64), as the API server stores it; other objects unchanged. */
export function foldStringData<T extends KObject>(obj: T): T {
  const { stringData, ...rest } = obj as T & { stringData?: unknown; data?: Record<string, unknown> };
  if (!stringData || typeof stringData !== 'object' || Array.isArray(stringData)) return obj;
  const data: Record<string, unknown> = { ...((rest as { data?: Record<string, unknown> }).data ?? {}) };
  for (const [k, v] of Object.entries(stringData)) data[k] = typeof v === 'string' ? Buffer.from(v, 'utf8').toString('base64') : v;
  return { ...rest, data } as unknown as T;
}
