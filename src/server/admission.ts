// Admission: the registry's extension points. Components that own a piece of an object's semantics
// (the Service IP/port allocators, the LoadBalancer pool) plug in here instead of the registry knowing
// about them, and a write that fails after admission undoes what admission reserved.

import type { KObject } from '../api/types.js';
import type { ResourceInfo } from '../api/resources.js';

export type AdmissionOp = 'create' | 'update' | 'delete';

export interface AdmissionContext {
  op: AdmissionOp;
  resource: ResourceInfo;
  subresource?: string;
  dryRun: boolean;
}

export interface AdmissionHook {
  /** Which resource this hook admits. */
  resource: ResourceInfo;
  /**
   * Before the write: may mutate `obj` (create/update) or throw a StatusError to reject.
   * Returns an undo function when it reserved something the failed write must give back.
   */
  admit?(ctx: AdmissionContext, obj: KObject, old: KObject | undefined): Promise<(() => void) | void> | (() => void) | void;
  /** After the write committed (obj is undefined for a completed delete). */
  committed?(ctx: AdmissionContext, obj: KObject | undefined, old: KObject | undefined): void;
}
