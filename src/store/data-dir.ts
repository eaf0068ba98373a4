// Deciding whether a directory may be used as the store, and explaining why not. Pure: the adapter
// (level-store.ts) gathers the facts. The rule is to refuse rather than guess: kubelite never deletes,
// overwrites or "repairs" a directory it did not create.

import { META_FORMAT_KEY, STORE_FORMAT } from './keys.js';

export type StoreOpenProblem = 'not-a-directory' | 'foreign' | 'foreign-leveldb' | 'format' | 'locked' | 'corrupt' | 'io';

export class StoreOpenError extends Error {
  constructor(readonly problem: StoreOpenProblem, readonly path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreOpenError';
  }
}

export type DirContents = { kind: 'missing' } | { kind: 'not-a-directory' } | { kind: 'entries'; names: string[] };

/** Files LevelDB leaves behind even when it never got to store anything (e.g. a crash while creating). */
const LEVELDB_LITTER = new Set(['LOCK', 'LOG', 'LOG.old']);

const ADVICE = 'kubelite never deletes or repairs data it did not write: move the directory away or choose another --data-dir';

/** 'create': make a new store here; 'open': an existing LevelDB to check further. */
export function judgeDataDir(path: string, contents: DirContents): 'create' | 'open' | StoreOpenError {
  if (contents.kind === 'missing') return 'create';
  if (contents.kind === 'not-a-directory') {
    return new StoreOpenError('not-a-directory', path, `data dir ${path} exists but is not a directory; ${ADVICE}`);
  }
  if (contents.names.includes('CURRENT')) return 'open';
  if (contents.names.every((n) => LEVELDB_LITTER.has(n))) return 'create';
  const shown = contents.names.slice().sort().slice(0, 5).join(', ') + (contents.names.length > 5 ? ', ...' : '');
  return new StoreOpenError('foreign', path, `data dir ${path} is not a kubelite store: it is not empty and holds no LevelDB (found: ${shown}); ${ADVICE}`);
}

/**
 * After LevelDB opened: 'ok' for our store, 'initialize' for a brand-new (or never-written) one;
 * anything else is someone else's database.
 */
export function judgeMeta(path: string, format: string | undefined, hasAnyKey: boolean): 'ok' | 'initialize' | StoreOpenError {
  if (format === STORE_FORMAT) return 'ok';
  if (format === undefined) {
    if (!hasAnyKey) return 'initialize';
    return new StoreOpenError('foreign-leveldb', path, `data dir ${path} holds a LevelDB that is not a kubelite store (no "${META_FORMAT_KEY}" key); ${ADVICE}`);
  }
  return new StoreOpenError(
    'format',
    path,
    `data dir ${path} has store format ${JSON.stringify(format)} but this kubelite reads ${JSON.stringify(STORE_FORMAT)}: run the kubelite version that wrote it, or move the directory away or choose another --data-dir`,
  );
}

function codeOf(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

/** Turns abstract-level's "Database failed to open" (the real reason is in `cause`) into advice. */
export function explainOpenFailure(path: string, err: unknown): StoreOpenError {
  const cause = (err as { cause?: unknown } | null)?.cause ?? err;
  const code = codeOf(cause) ?? codeOf(err);
  const detail = (cause as Error | null)?.message ?? String(cause);
  if (code === 'LEVEL_LOCKED') {
    return new StoreOpenError('locked', path, `data dir ${path} is locked: is another kubelite server running? (${detail})`, { cause: err });
  }
  if (code === 'LEVEL_CORRUPTION') {
    return new StoreOpenError('corrupt', path, `data dir ${path} holds a corrupt LevelDB (${detail}); kubelite does not repair it: restore a backup or move it away`, { cause: err });
  }
  return new StoreOpenError('io', path, `data dir ${path} could not be opened: ${detail} (if its files are damaged, restore a backup or move it away)`, { cause: err });
}
