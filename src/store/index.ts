// Picks the backend: LevelDB under the data dir, or memory when there is none (tests, throwaway servers).

import path from 'node:path';
import type { Store } from './types.js';
import { LevelStore } from './level-store.js';
import { MemoryStore } from './memory-store.js';

export { LevelStore, type LevelStoreOptions } from './level-store.js';
export { MemoryStore } from './memory-store.js';
export { StoreOpenError, type StoreOpenProblem } from './data-dir.js';
export { DEFAULT_EVENT_LOG_SIZE, EMPTY_STORE_RV } from './core-store.js';

/** The store directory inside a data dir: leaves room beside it for certificates, kubeconfigs, etc. */
export function storePath(dataDir: string): string {
  return path.join(dataDir, 'store');
}

/** An opened store: LevelDB at `<dataDir>/store`, or in memory when no data dir is given. */
export async function openStore(dataDir: string | undefined, opts: { eventLogSize?: number } = {}): Promise<Store> {
  const store = dataDir === undefined ? new MemoryStore(opts) : new LevelStore({ ...opts, path: storePath(dataDir) });
  await store.open();
  return store;
}
