// Per-kind behaviour of the registry, as kube-apiserver's REST strategies hold it: what a new object's
// status starts as, what an update may not change, how a deletion waits (graceful Pods, Namespaces that
// empty themselves), which subresources a kind has. The registry runs the same steps for every kind and
// asks the kind's strategy at each; a kind with no special behaviour uses the default (all hooks absent).
// A new kind is a new file in strategies/ plus a line in strategies/index.ts.

import type { KObject, Scale, Status, StatusCause } from '../api/types.js';
import type { ResourceInfo } from '../api/resources.js';
import type { DeleteOptions, PatchType } from '../client/types.js';
import type { Store } from '../store/types.js';

/** What a strategy may use of the registry: the raw store for writes that bypass validation (bindings). */
export interface StrategyContext {
  store: Store;
  get(res: ResourceInfo, namespace: string | undefined, name: string): Promise<KObject>;
  delete(res: ResourceInfo, namespace: string | undefined, name: string, opts: DeleteOptions): Promise<KObject | Status>;
}

export interface RegistryStrategy {
  /**
   * PrepareForCreate, after defaulting: set the status a new object starts with. By default the status
   * of a kind with a status subresource is the server's, so a client's is dropped before this runs.
   */
  prepareForCreate?(obj: KObject): void;
  /** PrepareForUpdate, after defaulting: what the server keeps or sets on every update of the kind. */
  prepareForUpdate?(next: KObject, old: KObject): void;
  /** Keep the client's status on create (a Node registers with its status). */
  keepStatusOnCreate?: boolean;
  /** ValidateUpdate beyond the kind's validation rules: throw a StatusError to refuse (immutable fields). */
  validateUpdate?(next: KObject, old: KObject): void;
  /** Finalizers that hold a deletion besides metadata.finalizers (a Namespace's spec.finalizers). */
  pendingFinalizers?(obj: KObject): number;
  /** Whether an object whose last finalizer went can leave the store now (a running Pod waits for its node). */
  removableAfterFinalizers?(obj: KObject): boolean;
  /** Refuse a deletion (system namespaces): throw a StatusError. */
  checkDelete?(obj: KObject): void;
  /**
   * BeforeDelete: mark `next` (a copy of the stored object) for a graceful deletion and return true when
   * the object must stay in the store until someone completes it (the agent, the namespace controller).
   */
  beginGracefulDelete?(old: KObject, next: KObject, opts: DeleteOptions): boolean;
  /** Objects of this kind may still be created in a namespace being deleted (Events). */
  allowedInTerminatingNamespace?: boolean;
  /** The scale subresource (autoscaling/v1 Scale). */
  scale?: {
    toScale(obj: KObject): Scale;
    withReplicas(obj: KObject, replicas: number): KObject;
  };
  /** POST subresources that create something (pods/binding, pods/eviction). */
  createSubresource?: Record<string, (ctx: StrategyContext, namespace: string, name: string, body: KObject) => Promise<KObject | Status>>;

  // ---- kinds that bring their own rules (custom resources) or are stored in another version

  /** Defaulting in place of the built-in table's (a custom resource's schema defaults). */
  defaults?(obj: KObject): void;
  /** Validation in place of the built-in rules: causes (422) and unknown fields (per fieldValidation). */
  validate?(obj: KObject, old: KObject | undefined): { causes: StatusCause[]; unknownFields: string[] };
  /** Human-readable warnings for a write that succeeds (sent as `Warning` headers). */
  warnings?(obj: KObject, old: KObject | undefined): string[];
  /** Refuse a create (a custom resource whose definition is being deleted): throw a StatusError. */
  checkCreate?(obj: KObject): void;
  /** Patch types this kind takes (custom resources have no strategic merge patch); all when absent. */
  patchTypes?: readonly PatchType[];
  /**
   * The kind is stored in another version (autoscaling/v1 HPAs as v2, a CRD's non-storage versions):
   * every object crosses the store boundary through these.
   */
  conversion?: {
    toStorage(obj: KObject): KObject;
    fromStorage(obj: KObject): KObject;
  };
}
