// The store without a disk: same decisions as LevelStore (both are a CoreStore), for unit tests of
// controllers and for servers started without a data dir.

import { CoreStore, type CoreStoreOptions, type PersistWrite } from './core-store.js';

export class MemoryStore extends CoreStore {
  constructor(opts: CoreStoreOptions = {}) {
    super(opts);
  }

  async open(): Promise<void> {
    this.beginOpen();
    this.finishOpen([], 0);
  }

  protected async persist(_writes: PersistWrite[], _rv: number): Promise<void> {
    // Nothing to make durable.
  }

  protected async closeBackend(): Promise<void> {}

  protected describe(): string {
    return 'the in-memory store';
  }
}
