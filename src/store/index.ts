// Picks the backend: LevelDB under the data dir, or memory when there is none (tests, throwaway servers).

import fs from 'node:fs';
import path from 'node:path';
import type { Store } from './types.js';
import { LevelStore } from './level-store.js';
import { MemoryStore } from './memory-store.js';
import { EtcdStore } from './etcd-store.js';
import { parseEtcdURL } from './etcd-config.js';
import { InstrumentedStore } from './metrics.js';
import { StoreOpenError } from './data-dir.js';
import { isStatusError } from '../api/errors.js';
import type { EtcdStoreConfig } from '../config.js';
import type { Logger } from '../util/log.js';

export { LevelStore, type LevelStoreOptions } from './level-store.js';
export { MemoryStore } from './memory-store.js';
export { StoreOpenError, type StoreOpenProblem } from './data-dir.js';
export { DEFAULT_EVENT_LOG_SIZE, EMPTY_STORE_RV } from './core-store.js';
export { EtcdStore, type EtcdStoreOptions } from './etcd-store.js';
export { InstrumentedStore } from './metrics.js';

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

function readPem(flag: string, file: string | undefined): Buffer | undefined {
  if (!file) return undefined;
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new Error(`${flag} ${file}: ${(err as Error).message}`);
  }
}

/** The etcd store `kubelite server --store etcd://...` asks for (not opened yet). Throws on bad flags. */
export function etcdStore(cfg: EtcdStoreConfig, logger?: Logger): EtcdStore {
  const { hosts } = parseEtcdURL(cfg.url, cfg);
  const ca = readPem('--etcd-cafile', cfg.caFile);
  const cert = readPem('--etcd-certfile', cfg.certFile);
  const key = readPem('--etcd-keyfile', cfg.keyFile);
  return new EtcdStore({ hosts, prefix: cfg.prefix, tls: ca || cert ? { ca, cert, key } : undefined, compactionIntervalMs: cfg.compactionIntervalSeconds * 1000, logger });
}

/** The server's store, instrumented for /metrics, not opened yet: etcd when configured, else LevelDB under the data dir. */
export function serverStore(opts: { dataDir?: string; etcd?: EtcdStoreConfig }, logger?: Logger): InstrumentedStore {
  if (opts.etcd) return new InstrumentedStore(etcdStore(opts.etcd, logger), 'etcd');
  if (opts.dataDir === undefined) return new InstrumentedStore(new MemoryStore(), 'memory');
  return new InstrumentedStore(new LevelStore({ path: storePath(opts.dataDir) }), 'leveldb');
}

/**
 * Opens a store whose backend may not be up yet (etcd): each failure to reach it is logged with the
 * endpoints and retried with back-off (0.5 s doubling to 10 s) until it opens or `stopped()` says to
 * give up. A store that is not ours (StoreOpenError) or any other error fails at once.
 */
export async function openWithRetry(store: Store, logger: Logger, stopped: () => boolean = () => false): Promise<void> {
  for (let delay = 500, attempt = 1; ; attempt++, delay = Math.min(delay * 2, 10_000)) {
    try {
      await store.open();
      if (attempt > 1) logger.info({ attempt }, 'store connected');
      return;
    } catch (err) {
      if (err instanceof StoreOpenError || !isStatusError(err) || (err.code !== 503 && err.code !== 504)) throw err;
      if (stopped()) throw err;
      logger.warn({ attempt, retryInMs: delay }, `${err.message}; retrying in ${(delay / 1000).toFixed(1)} s`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
