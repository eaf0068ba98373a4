// The storage contract: etcd-shaped (one global, ever-increasing resourceVersion; compare-and-swap
// writes; a watchable change log), so a LevelDB backend today and an etcd backend later are
// interchangeable behind it. The store knows nothing of validation, defaulting or semantics: it keeps
// whole objects and orders changes. Everything above it talks to it only through this interface.

import type { KObject } from '../api/types.js';
import type { ResourceInfo } from '../api/resources.js';

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: StoreEventType;
  resource: ResourceInfo;
  /** The object after the change; for DELETED the last state, with the deletion's resourceVersion. */
  object: KObject;
  /** The object before the change (MODIFIED and DELETED). */
  oldObject?: KObject;
  /** Numeric form of object.metadata.resourceVersion. */
  rv: number;
  /** The event as a watch stream line (`{"type","object"}` JSON + newline), encoded once and shared by every watcher. */
  watchLine?(type: string): Buffer;
}

export interface WriteOptions {
  /**
   * Compare-and-swap: fail with 409 Conflict unless the stored object's resourceVersion equals this.
   * For update/delete. Omitted: unconditional.
   */
  expectedResourceVersion?: string;
  /** Fail with 409 Conflict unless the stored object's uid equals this (delete preconditions). */
  expectedUid?: string;
}

export type BatchOp =
  | { op: 'create'; resource: ResourceInfo; object: KObject }
  | { op: 'update'; resource: ResourceInfo; object: KObject; options?: WriteOptions }
  | { op: 'delete'; resource: ResourceInfo; namespace: string | undefined; name: string; options?: WriteOptions };

export interface WatchSubscription {
  stop(): void;
}

export interface StoreWatchOptions {
  /** Only events of this resource (all resources when omitted). */
  resource?: ResourceInfo;
  /** Only objects in this namespace. */
  namespace?: string;
  /**
   * Replay every change with rv > fromResourceVersion, then stream live ones.
   * If changes that old are no longer kept, watch() throws a StatusError with code 410 (Expired).
   * Omitted: with `initial` the current state is sent as ADDED events first; without it only live changes.
   */
  fromResourceVersion?: string;
  /** Send synthetic ADDED events for every current object (in rv order) before live changes. */
  initial?: boolean;
}

/** Whether a store can serve requests now (for /readyz and errors). */
export interface StoreHealth {
  ok: boolean;
  /** One line: what is wrong, or what the store is connected to. */
  message: string;
}

export interface Store {
  /** Opens (and, if needed, creates) the backing storage. Throws a clear Error for a corrupt/foreign dir. */
  open(): Promise<void>;
  close(): Promise<void>;

  /**
   * The newest resourceVersion this store has seen (as a decimal string). "0"-like for an empty store
   * is not used: starts at "1". For etcd: the watch cache's revision (writes by other servers arrive
   * through the watch), which is etcd's revision and so may skip numbers.
   */
  currentResourceVersion(): string;

  get(resource: ResourceInfo, namespace: string | undefined, name: string): Promise<KObject | undefined>;

  /**
   * A read from this server's cache without waiting for other servers' newest writes (etcd); for
   * admission checks that tolerate that, as kube-apiserver's admission reads its informers. Stores
   * whose get() is already served from memory omit it.
   */
  getCached?(resource: ResourceInfo, namespace: string | undefined, name: string): Promise<KObject | undefined>;

  /**
   * Every object of a resource (in one namespace, or all when namespace is omitted), sorted by
   * namespace then name, with the resourceVersion the list is consistent at.
   * Objects returned are copies: callers may mutate them.
   */
  list(resource: ResourceInfo, namespace?: string): Promise<{ items: KObject[]; resourceVersion: string }>;

  /** Number of stored objects of a resource (cheap; for metrics and benchmarks). */
  count(resource?: ResourceInfo): number;

  /** Stores a new object (metadata.resourceVersion is assigned). 409 AlreadyExists if the key exists. */
  create(resource: ResourceInfo, object: KObject): Promise<KObject>;

  /** Replaces an existing object (metadata.resourceVersion is assigned). 404 if missing; 409 on a failed precondition. */
  update(resource: ResourceInfo, object: KObject, options?: WriteOptions): Promise<KObject>;

  /** Removes an object and returns its last state with the deletion's resourceVersion. 404 if missing. */
  delete(resource: ResourceInfo, namespace: string | undefined, name: string, options?: WriteOptions): Promise<KObject>;

  /**
   * All operations succeed together or none is applied. LevelDB gives each op its own resourceVersion,
   * in order; etcd gives them all the transaction's revision (and refuses two ops on one object).
   */
  batch(ops: BatchOp[]): Promise<KObject[]>;

  /**
   * Calls `onEvent` synchronously, in resourceVersion order, for each change matching the options.
   * Delivery to one subscriber never blocks writers or other subscribers for long: a subscriber that
   * throws is stopped. Events of one batch (one etcd transaction) may share a resourceVersion.
   * `onClose` is called when the store itself ends the subscription (with a 410 StatusError when the
   * store had to re-read its backend and the subscriber must re-list); never after `stop()`.
   */
  watch(options: StoreWatchOptions, onEvent: (event: StoreEvent) => void, onClose?: (err?: Error) => void): WatchSubscription;

  /** Whether the backend answers now, for /readyz. Stores that cannot lose their backend may omit it. */
  health?(): StoreHealth;
}
