// `--store etcd://HOST:PORT[,HOST:PORT...]` and the key layout under `--etcd-prefix`. Pure.
//
// Layout (P is the prefix, default /kubelite):
//   P/meta/format    "kubelite-etcd/1": written once, when kubelite takes an empty prefix
//   P/meta/rev       rewritten by every write transaction: its mod_revision is the newest revision of
//                    any write under P, so a read can wait until the watch cache has seen it
//   P/meta/compact   compaction bookkeeping shared by every server (kube-apiserver's compact_rev_key)
//   P/o/<group>/<plural>/<namespace>/<name>   one object, JSON without metadata.resourceVersion
//                    (the key's mod_revision is the resourceVersion, as in Kubernetes)

import { objectKey, parseObjectKey, type ParsedObjectKey } from './keys.js';

export const ETCD_STORE_FORMAT = 'kubelite-etcd/1';
export const DEFAULT_ETCD_PREFIX = '/kubelite';

export interface EtcdEndpoints {
  /** `http://host:port` or `https://host:port`, one per member, in the order given. */
  hosts: string[];
}

export interface EtcdTLSFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** True when `--store` names etcd rather than a LevelDB data dir. */
export function isEtcdStoreURL(store: string): boolean {
  return /^etcd:\/\//i.test(store);
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;

/**
 * `etcd://127.0.0.1:2379,10.0.0.2:2379` -> hosts. TLS (https) when any TLS file is given, as
 * kube-apiserver's `--etcd-cafile/--etcd-certfile/--etcd-keyfile` imply. Throws an Error that says
 * what is wrong with the value.
 */
export function parseEtcdURL(store: string, tls: EtcdTLSFiles = {}): EtcdEndpoints {
  if (!isEtcdStoreURL(store)) throw new Error(`--store ${JSON.stringify(store)}: expected etcd://HOST:PORT[,HOST:PORT...]`);
  const rest = store.slice('etcd://'.length).replace(/\/+$/, '');
  if (!rest) throw new Error(`--store ${JSON.stringify(store)}: no etcd endpoint given (expected etcd://HOST:PORT[,HOST:PORT...])`);
  const scheme = tls.caFile || tls.certFile || tls.keyFile ? 'https' : 'http';
  if (!!tls.certFile !== !!tls.keyFile) throw new Error('--etcd-certfile and --etcd-keyfile go together: give both or neither');
  const hosts: string[] = [];
  for (const raw of rest.split(',')) {
    const hp = raw.trim();
    const m = HOST_PORT.exec(hp);
    const port = m ? Number(m[3]) : NaN;
    if (!m || port < 1 || port > 65535) throw new Error(`--store: etcd endpoint ${JSON.stringify(hp)} is not HOST:PORT (e.g. 127.0.0.1:2379)`);
    const url = `${scheme}://${hp}`;
    if (!hosts.includes(url)) hosts.push(url);
  }
  return { hosts };
}

/** `/kubelite`, `kubelite/`, `/a/b` -> `/kubelite`, `/kubelite`, `/a/b`. Throws on an unusable prefix. */
export function normalizePrefix(prefix: string): string {
  const p = '/' + prefix.replace(/^\/+/, '').replace(/\/+$/, '');
  if (p === '/') throw new Error('--etcd-prefix may not be "/": kubelite needs a prefix of its own (default /kubelite)');
  if (/[\s\0]/.test(p) || p.includes('//')) throw new Error(`--etcd-prefix ${JSON.stringify(prefix)}: no spaces, NULs or empty segments`);
  return p;
}

/** Every key kubelite keeps under one prefix. */
export class EtcdKeys {
  readonly root: string;
  readonly format: string;
  readonly rev: string;
  readonly compact: string;
  readonly objects: string;

  constructor(prefix: string) {
    const p = normalizePrefix(prefix);
    this.root = `${p}/`;
    this.format = `${p}/meta/format`;
    this.rev = `${p}/meta/rev`;
    this.compact = `${p}/meta/compact`;
    this.objects = `${p}/o/`;
  }

  object(resKey: string, namespace: string, name: string): string {
    return this.root + objectKey(resKey, namespace, name);
  }

  /** The object coordinates of a key under `objects`, or undefined for anything else. */
  parseObject(key: string): ParsedObjectKey | undefined {
    if (!key.startsWith(this.objects)) return undefined;
    return parseObjectKey(key.slice(this.root.length));
  }
}

/** The range end that makes `[key, rangeEnd(key))` every key starting with `key` (etcd's prefix range). */
export function prefixRangeEnd(key: Buffer): Buffer {
  const end = Buffer.from(key);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
