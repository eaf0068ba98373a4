// The registry: Kubernetes' API semantics over the plain store. Every write from any client — kubectl,
// our CLI, controllers, the agent — goes through here, so defaulting, validation, admission,
// generation, the spec/status split, graceful deletion and finalizers behave the same for all.
// It implements ApiClient so in-process components use it exactly as remote ones use REST.

import crypto from 'node:crypto';
import type { KList, KObject, Namespace, Scale, Status, StatusCause, WatchEvent } from '../api/types.js';
import { ResourceCatalog } from '../api/catalog.js';
import { R, qualifiedPlural, type ResourceInfo } from '../api/resources.js';
import { errors, isStatusError, StatusError } from '../api/errors.js';
import type { Store } from '../store/types.js';
import { PATCH_CONTENT_TYPES, type ApiClient, type DeleteOptions, type ListOptions, type PatchType, type Watch, type WatchHandlers, type WatchOptions, type WriteOpts } from '../client/types.js';
import { applyDefaults, prepareUpdate, typeCauses, unknownFieldsError, unknownFieldWarnings, validateObject } from '../api/validation/index.js';
import { parseFieldSelector, parseLabelSelector } from '../api/selectors.js';
import { applyPatch, serverSideApply } from '../api/patch/index.js';
import { AdmissionChain, type AdmissionContext, type AdmissionHook, type AdmissionOp } from './admission.js';
import { clone, deepEqual } from '../util/equal.js';
import { deletePath, dropEmptyMetadata, randomSuffix, specOf, stripRV } from './registry-helpers.js';
import { rfc3339 } from '../util/time.js';
import { strategyFor, SYSTEM_NAMESPACES } from './strategies/index.js';
import type { RegistryStrategy, StrategyContext } from './strategy.js';
import { KeyLock } from './key-lock.js';

export { SYSTEM_NAMESPACES };

export interface RegistryWriteOpts extends WriteOpts {
  dryRun?: boolean;
  /** Filled with human-readable warnings (unknown fields under fieldValidation=Warn); sent as `Warning` headers. */
  warnings?: string[];
}

export interface RegistryDeleteOpts extends DeleteOptions {
  dryRun?: boolean;
}

const PATCH_RETRIES = 5;
/** An unconditional patch keeps retrying lost races this long (only a livelocked object gets near it). */
const UNCONDITIONAL_PATCH_DEADLINE_MS = 30_000;

/** The 409 of a compare-and-swap that lost a race (not a precondition, not an apply conflict). */
function isStaleWrite(err: unknown): boolean {
  return isStatusError(err, 'Conflict') && /the object has been modified/.test(err.message);
}

/** A watch event from the registry may carry its encoded stream line under this key (see store-event.ts). */
export const WATCH_LINE = Symbol('kubelite.watchLine');

export type SubresourceCreator = (namespace: string, name: string, body: KObject) => Promise<KObject | Status>;

/** A resource served from memory instead of the store (metrics.k8s.io): read-only. */
export interface VirtualResource {
  get(namespace: string | undefined, name: string): Promise<KObject>;
  list(opts: ListOptions): Promise<KList>;
}

export class Registry implements ApiClient {
  private readonly admission = new AdmissionChain();
  /** Strategies of resources served while the server runs (custom resources), by resource object. */
  private readonly ownStrategies = new Map<ResourceInfo, RegistryStrategy>();
  private readonly virtuals = new Map<string, VirtualResource>();
  /** Serialises the read-modify-write of each object's registry writes (see key-lock.ts). */
  private readonly locks = new KeyLock();
  private readonly subresourceHandlers = new Map<string, SubresourceCreator>();

  /** `resources`: what this server serves (built-ins plus what CRDs and the metrics API add). */
  constructor(
    readonly store: Store,
    readonly resources: ResourceCatalog = new ResourceCatalog(),
  ) {}

  /** Gives a resource served at run time its registry behaviour (until clearStrategy). */
  setStrategy(res: ResourceInfo, strategy: RegistryStrategy): void {
    this.ownStrategies.set(res, strategy);
  }

  clearStrategy(res: ResourceInfo): void {
    this.ownStrategies.delete(res);
  }

  /** Serves `res` from `provider` (get and list only) instead of the store. */
  serveVirtual(res: ResourceInfo, provider: VirtualResource): void {
    this.virtuals.set(`${res.group}/${res.plural}`, provider);
  }

  private strategyOf(res: ResourceInfo): RegistryStrategy {
    return this.ownStrategies.get(res) ?? strategyFor(res);
  }

  private virtualOf(res: ResourceInfo): VirtualResource | undefined {
    return this.virtuals.size ? this.virtuals.get(`${res.group}/${res.plural}`) : undefined;
  }

  /** A stored object as `res` shows it (another version of the same kind). */
  private fromStore<O extends KObject | undefined>(res: ResourceInfo, obj: O): O {
    const conv = obj && this.strategyOf(res).conversion;
    return conv ? (conv.fromStorage(obj) as O) : obj;
  }

  private toStore(res: ResourceInfo, obj: KObject): KObject {
    const conv = this.strategyOf(res).conversion;
    return conv ? conv.toStorage(obj) : obj;
  }

  addAdmission(hook: AdmissionHook): void {
    this.admission.add(hook);
  }

  // ---------------------------------------------------------------- reads

  async get<T extends KObject = KObject>(res: ResourceInfo, namespace: string | undefined, name: string, subresource?: string): Promise<T> {
    const virtual = this.virtualOf(res);
    if (virtual) {
      if (subresource) throw errors.methodNotAllowed(`GET is not supported on ${res.plural}/${subresource}`);
      return (await virtual.get(res.namespaced ? namespace : undefined, name)) as T;
    }
    const obj = await this.mustGet(res, namespace, name);
    if (subresource === 'scale') return this.toScale(res, obj) as unknown as T;
    if (subresource && subresource !== 'status') throw errors.methodNotAllowed(`GET is not supported on ${res.plural}/${subresource}`);
    return obj as T;
  }

  async list<T extends KObject = KObject>(res: ResourceInfo, opts: ListOptions = {}): Promise<KList<T>> {
    const virtual = this.virtualOf(res);
    if (virtual) return (await virtual.list({ ...opts, namespace: res.namespaced ? opts.namespace : undefined })) as KList<T>;
    const match = this.matcher(res, opts);
    const { items, resourceVersion } = await this.store.list(res, res.namespaced ? opts.namespace : undefined);
    const selected = match ? items.filter(match) : items;
    return {
      apiVersion: res.apiVersion,
      kind: res.listKind,
      metadata: { resourceVersion },
      items: (this.strategyOf(res).conversion ? selected.map((o) => this.fromStore(res, o)) : selected) as T[],
    };
  }

  /** Throws the 400 a list or watch with these selectors would fail with (a watch checks before it streams). */
  checkListOptions(res: ResourceInfo, opts: ListOptions): void {
    this.matcher(res, opts);
  }

  watch<T extends KObject = KObject>(res: ResourceInfo, opts: WatchOptions, handlers: WatchHandlers<T>): Watch {
    let match: ((o: KObject) => boolean) | undefined;
    const conv = this.strategyOf(res).conversion;
    try {
      if (this.virtualOf(res)) throw errors.methodNotAllowed(`watch is not supported on ${qualifiedPlural(res)}`);
      match = this.matcher(res, opts);
    } catch (err) {
      queueMicrotask(() => handlers.onClose?.(err as Error));
      return { stop() {} };
    }
    const rv = opts.resourceVersion;
    const initial = rv === undefined || rv === '' || rv === '0';
    let stopped = false;
    try {
      const sub = this.store.watch(
        { resource: res, namespace: res.namespaced ? opts.namespace : undefined, fromResourceVersion: initial ? undefined : rv, initial },
        (ev) => {
          if (stopped) return;
          const now = !match || match(ev.object);
          let type: WatchEvent['type'] | undefined;
          if (ev.type === 'ADDED') type = now ? 'ADDED' : undefined;
          else if (ev.type === 'DELETED') type = now ? 'DELETED' : undefined;
          else {
            // A filtered watch sees an object that stops matching as deleted and one that starts as added.
            const before = !match || (ev.oldObject ? match(ev.oldObject) : false);
            type = now && before ? 'MODIFIED' : now ? 'ADDED' : before ? 'DELETED' : undefined;
          }
          if (!type) return;
          // Another version of the kind (autoscaling/v1 HPAs, a CRD's other versions): converted, never the shared line.
          if (conv) return handlers.onEvent({ type, object: conv.fromStorage(ev.object) as T });
          // The object is parsed only if the handler reads it: the HTTP watch sends the shared line instead.
          const out = { type } as WatchEvent<T>;
          Object.defineProperty(out, 'object', {
            get: () => ev.object as T,
            set: (v: T) => Object.defineProperty(out, 'object', { value: v, writable: true, enumerable: true, configurable: true }),
            enumerable: true,
            configurable: true,
          });
          if (ev.watchLine) Object.defineProperty(out, WATCH_LINE, { value: () => ev.watchLine!(type!), enumerable: false });
          handlers.onEvent(out);
        },
        // The store ended it (etcd's history was compacted under its cache: a 410 tells the client to re-list).
        (err) => {
          if (stopped) return;
          stopped = true;
          handlers.onClose?.(err);
        },
      );
      return {
        stop() {
          if (stopped) return;
          stopped = true;
          sub.stop();
          handlers.onClose?.();
        },
      };
    } catch (err) {
      queueMicrotask(() => handlers.onClose?.(err as Error));
      return { stop() {} };
    }
  }

  // ---------------------------------------------------------------- create

  async create<T extends KObject = KObject>(res: ResourceInfo, input: T, opts: RegistryWriteOpts = {}): Promise<T> {
    if (this.virtualOf(res)) throw errors.methodNotAllowed(`create is not supported on ${qualifiedPlural(res)}`);
    const obj = clone(input) as KObject;
    this.checkKind(res, obj);
    this.checkTypes(res, obj);
    obj.metadata ??= {};
    const meta = obj.metadata;
    if (res.namespaced) {
      meta.namespace ||= 'default';
      await this.checkNamespaceWritable(res, meta.namespace, meta.name ?? meta.generateName ?? '');
    } else delete meta.namespace;

    const strategy = this.strategyOf(res);
    strategy.checkCreate?.(obj);
    if (strategy.defaults) strategy.defaults(obj);
    else applyDefaults(res, obj);
    const generated = !meta.name && !!meta.generateName;
    if (generated) meta.name = meta.generateName + randomSuffix();
    const now = rfc3339();
    meta.uid = crypto.randomUUID();
    meta.creationTimestamp = now;
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.managedFields;
    delete (meta as Record<string, unknown>).selfLink;
    dropEmptyMetadata(meta);
    if ('spec' in obj) meta.generation = 1;
    else delete meta.generation;
    if (res.hasStatus && !strategy.keepStatusOnCreate) delete obj.status;
    strategy.prepareForCreate?.(obj);

    this.validate(res, obj, undefined, opts);
    if (strategy.warnings) opts.warnings?.push(...strategy.warnings(obj, undefined));
    const ctx: AdmissionContext = { op: 'create', resource: res, dryRun: !!opts.dryRun };
    const undo = await this.admission.admit(ctx, obj, undefined);
    if (opts.dryRun) {
      undo();
      return obj as T;
    }
    try {
      const created = this.fromStore(res, await this.createWithRetry(res, obj, generated));
      this.admission.committed(ctx, created, undefined);
      return created as T;
    } catch (err) {
      undo();
      throw err;
    }
  }

  private async createWithRetry(res: ResourceInfo, obj: KObject, generated: boolean): Promise<KObject> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.store.create(res, this.toStore(res, obj));
      } catch (err) {
        // A generated name that collided gets a fresh suffix, as Kubernetes retries generateName.
        if (!generated || attempt >= 8 || !isStatusError(err, 'AlreadyExists')) throw err;
        obj.metadata.name = obj.metadata.generateName + randomSuffix();
      }
    }
  }

  // ---------------------------------------------------------------- update

  async update<T extends KObject = KObject>(res: ResourceInfo, input: T, opts: RegistryWriteOpts = {}): Promise<T> {
    if (this.virtualOf(res)) throw errors.methodNotAllowed(`update is not supported on ${qualifiedPlural(res)}`);
    const obj = clone(input) as KObject;
    this.checkKind(res, obj);
    const name = obj.metadata?.name;
    if (!name) throw errors.invalid(res.kind, '', [{ field: 'metadata.name', reason: 'FieldValueRequired', message: 'Required value: name is required' }], res.group || undefined);
    const namespace = res.namespaced ? obj.metadata.namespace || 'default' : undefined;
    return this.locks.run(lockKey(res, namespace, name), async () => {
      const old = await this.mustGet(res, namespace, name);
      if (opts.subresource === 'scale') return (await this.writeScale(res, old, obj as unknown as Scale, opts)) as unknown as T;
      return (await this.replace(res, old, obj, opts)) as T;
    });
  }

  /** The shared tail of PUT, PATCH and subresource writes: `next` is the complete desired object. */
  private async replace(res: ResourceInfo, old: KObject, next: KObject, opts: RegistryWriteOpts): Promise<KObject> {
    // Every write is type-checked before anything reads it, status writes included: a status that is
    // not the kind's status shape is never stored.
    this.checkTypes(res, next);
    const oldMeta = old.metadata;
    const meta = (next.metadata ??= {});
    if (meta.resourceVersion && meta.resourceVersion !== oldMeta.resourceVersion) throw errors.staleResourceVersion(res, oldMeta.name!);
    if (meta.uid && meta.uid !== oldMeta.uid) {
      throw errors.conflict(res, oldMeta.name!, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${oldMeta.uid}`);
    }
    if (res.namespaced && meta.namespace && meta.namespace !== oldMeta.namespace) {
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (meta.name && meta.name !== oldMeta.name) throw errors.badRequest('the name of the object does not match the name on the URL');

    // System-managed metadata is never the client's to change.
    meta.name = oldMeta.name;
    if (res.namespaced) meta.namespace = oldMeta.namespace;
    meta.uid = oldMeta.uid;
    meta.creationTimestamp = oldMeta.creationTimestamp;
    meta.deletionTimestamp = oldMeta.deletionTimestamp;
    meta.deletionGracePeriodSeconds = oldMeta.deletionGracePeriodSeconds;
    meta.generation = oldMeta.generation;
    delete meta.managedFields;
    delete (meta as Record<string, unknown>).selfLink;
    if (meta.generateName === undefined && oldMeta.generateName) meta.generateName = oldMeta.generateName;
    for (const k of Object.keys(meta) as (keyof typeof meta)[]) if (meta[k] === undefined) delete meta[k];
    dropEmptyMetadata(meta);

    if (opts.subresource === 'status') {
      // Status writes change status only (and the object's finalizers/labels stay as they were).
      const status = next.status;
      next = clone(old);
      if (status === undefined) delete next.status;
      else next.status = status;
    } else if (res.hasStatus) {
      if (old.status === undefined) delete next.status;
      else next.status = clone(old.status);
    }

    const strategy = this.strategyOf(res);
    if (strategy.defaults) strategy.defaults(next);
    else applyDefaults(res, next);
    if (opts.subresource !== 'status') {
      if (!strategy.validate) prepareUpdate(res, next, old);
      strategy.prepareForUpdate?.(next, old);
      this.validate(res, next, old, opts);
      if (strategy.warnings) opts.warnings?.push(...strategy.warnings(next, old));
    }
    if (opts.subresource !== 'status') strategy.validateUpdate?.(next, old);
    if (specOf(next) !== undefined && !deepEqual(specOf(next), specOf(old))) meta.generation = (oldMeta.generation ?? 1) + 1;

    // A deletion that waited for finalizers completes when the last one is removed.
    const pending = (o: KObject) => (o.metadata.finalizers?.length ?? 0) + (strategy.pendingFinalizers?.(o) ?? 0);
    const finalizersDone = !!oldMeta.deletionTimestamp && pending(old) > 0 && pending(next) === 0;
    if (!finalizersDone && deepEqual(stripRV(next), stripRV(old))) return old; // no-op writes do not bump resourceVersion

    const ctx: AdmissionContext = { op: 'update', resource: res, subresource: opts.subresource, dryRun: !!opts.dryRun };
    const undo = await this.admission.admit(ctx, next, old);
    if (opts.dryRun) {
      undo();
      return next;
    }
    try {
      if (finalizersDone && (strategy.removableAfterFinalizers?.(old) ?? true)) {
        const deleted = this.fromStore(res, await this.store.delete(res, oldMeta.namespace, oldMeta.name!, { expectedResourceVersion: oldMeta.resourceVersion }));
        this.admission.committed({ ...ctx, op: 'delete' }, undefined, deleted);
        return deleted;
      }
      const updated = this.fromStore(res, await this.store.update(res, this.toStore(res, next), { expectedResourceVersion: oldMeta.resourceVersion }));
      this.admission.committed(ctx, updated, old);
      return updated;
    } catch (err) {
      undo();
      throw err;
    }
  }

  // ---------------------------------------------------------------- patch

  async patch<T extends KObject = KObject>(res: ResourceInfo, namespace: string | undefined, name: string, type: PatchType, patch: unknown, opts: RegistryWriteOpts = {}): Promise<T> {
    if (this.virtualOf(res)) throw errors.methodNotAllowed(`patch is not supported on ${qualifiedPlural(res)}`);
    const allowed = this.strategyOf(res).patchTypes;
    if (allowed && !allowed.includes(type) && !(type === 'strategic' && opts.subresource === 'scale')) {
      throw new StatusError({
        code: 415,
        reason: 'UnsupportedMediaType',
        message: `the body of the request was in an unknown format - accepted media types include: ${allowed.map((t) => PATCH_CONTENT_TYPES[t]).join(', ')}`,
      });
    }
    namespace = res.namespaced ? namespace || 'default' : undefined;
    // A patch that names no resourceVersion applies to whatever is current: a write that lands between
    // our read and our write only means reading again, so it is retried until it applies (as the API
    // server's GuaranteedUpdate does) and never surfaces as a 409. A named resourceVersion is a
    // precondition, and field-manager conflicts of server-side apply are real: those are answered.
    const explicitRV = typeof patch === 'object' && patch !== null && !Array.isArray(patch) && !!(patch as KObject).metadata?.resourceVersion;
    const deadline = Date.now() + UNCONDITIONAL_PATCH_DEADLINE_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.locks.run(lockKey(res, namespace, name), () => this.patchOnce(res, namespace, name, type, patch, opts))) as T;
      } catch (err) {
        if (!isStaleWrite(err) || opts.dryRun || explicitRV || Date.now() > deadline) throw err;
        // Past a few tries, let the other writers' group commit go first.
        if (attempt >= PATCH_RETRIES) await new Promise((r) => setTimeout(r, Math.min(attempt, 20)));
      }
    }
  }

  private async patchOnce(res: ResourceInfo, namespace: string | undefined, name: string, type: PatchType, patch: unknown, opts: RegistryWriteOpts): Promise<KObject> {
    if (type === 'apply') {
      if (opts.subresource) throw errors.methodNotAllowed(`server-side apply is not supported on ${res.plural}/${opts.subresource}`);
      const applied = patch as KObject;
      if (!applied || typeof applied !== 'object' || Array.isArray(applied)) throw errors.badRequest('the apply patch must be an object');
      this.checkKind(res, applied);
      if (applied.metadata?.name && applied.metadata.name !== name) throw errors.badRequest('the name of the object does not match the name on the URL');
      const live = this.fromStore(res, await this.store.get(res, namespace, name));
      const manager = opts.fieldManager;
      if (!manager) throw errors.badRequest('PATCH, application/apply-patch+yaml requires fieldManager to be set');
      const merged = serverSideApply(res, live, { ...applied, metadata: { ...applied.metadata, name, namespace } }, { fieldManager: manager, force: !!opts.force });
      if (!live) return this.create(res, merged, opts);
      return this.replace(res, live, merged, opts);
    }
    const old = await this.mustGet(res, namespace, name);
    if (opts.subresource === 'scale') {
      const scale = applyPatch(res, this.toScale(res, old) as unknown as KObject, type === 'strategic' ? 'merge' : type, patch) as unknown as Scale;
      return this.writeScale(res, old, scale, opts);
    }
    const patched = applyPatch(res, clone(old), type, patch) as KObject;
    if (!patched || typeof patched !== 'object' || !patched.metadata) throw errors.badRequest('the patch produced an object without metadata');
    // A patch that names a resourceVersion is a precondition; otherwise it applies to what we just read.
    const rv = patched.metadata.resourceVersion;
    if (rv !== old.metadata.resourceVersion) {
      if (rv) throw errors.staleResourceVersion(res, name);
      patched.metadata.resourceVersion = old.metadata.resourceVersion;
    }
    return this.replace(res, old, patched, opts);
  }

  // ---------------------------------------------------------------- delete

  async delete(res: ResourceInfo, namespace: string | undefined, name: string, opts: RegistryDeleteOpts = {}): Promise<KObject | Status> {
    if (this.virtualOf(res)) throw errors.methodNotAllowed(`delete is not supported on ${qualifiedPlural(res)}`);
    namespace = res.namespaced ? namespace || 'default' : undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.locks.run(lockKey(res, namespace, name), () => this.deleteOnce(res, namespace, name, opts));
      } catch (err) {
        // Someone wrote the object (a controller's status) between our read and our write: read again,
        // as the API server does — unless the caller pinned a resourceVersion.
        if (attempt < PATCH_RETRIES && isStatusError(err, 'Conflict') && !opts.preconditions?.resourceVersion && !/Precondition failed/.test(err.message)) continue;
        throw err;
      }
    }
  }

  private async deleteOnce(res: ResourceInfo, namespace: string | undefined, name: string, opts: RegistryDeleteOpts): Promise<KObject | Status> {
    const old = await this.mustGet(res, namespace, name);
    const meta = old.metadata;
    if (opts.preconditions?.uid && opts.preconditions.uid !== meta.uid) {
      throw errors.conflict(res, name, `Precondition failed: UID in precondition: ${opts.preconditions.uid}, UID in object meta: ${meta.uid}`);
    }
    if (opts.preconditions?.resourceVersion && opts.preconditions.resourceVersion !== meta.resourceVersion) {
      throw errors.conflict(res, name, `Precondition failed: ResourceVersion in precondition: ${opts.preconditions.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion}`);
    }
    const strategy = this.strategyOf(res);
    strategy.checkDelete?.(old);
    const ctx: AdmissionContext = { op: 'delete', resource: res, dryRun: !!opts.dryRun };

    const next = clone(old);
    const nmeta = next.metadata;
    const finalizers = new Set(nmeta.finalizers ?? []);
    const policy = opts.propagationPolicy ?? 'Background';
    if (policy === 'Orphan') finalizers.add('orphan');
    if (policy === 'Foreground') finalizers.add('foregroundDeletion');

    const graceful = strategy.beginGracefulDelete?.(old, next, opts) ?? false;
    if (graceful || finalizers.size > 0) {
      if (finalizers.size > 0) {
        nmeta.finalizers = [...finalizers];
        nmeta.deletionTimestamp ??= rfc3339();
        nmeta.deletionGracePeriodSeconds ??= 0;
      }
      if (deepEqual(next, old)) return old;
      if (opts.dryRun) return next;
      const updated = this.fromStore(res, await this.store.update(res, this.toStore(res, next), { expectedResourceVersion: meta.resourceVersion }));
      return updated;
    }

    if (opts.dryRun) return old;
    const deleted = this.fromStore(res, await this.store.delete(res, namespace, name, { expectedResourceVersion: meta.resourceVersion }));
    this.admission.committed(ctx, undefined, deleted);
    return deleted;
  }

  /** The agent (or a force delete) removes a Pod whose containers are gone. */
  async finishPodDeletion(namespace: string, name: string, uid?: string): Promise<void> {
    const pod = await this.store.get(R.pods, namespace, name);
    if (!pod || (uid && pod.metadata.uid !== uid)) return;
    if (pod.metadata.finalizers?.length) return;
    const deleted = await this.store.delete(R.pods, namespace, name, { expectedUid: pod.metadata.uid });
    this.admission.committed({ op: 'delete', resource: R.pods, dryRun: false }, undefined, deleted);
  }

  // ---------------------------------------------------------------- subresources

  /** Serves POST `<plural>/<subresource>` with a handler a component owns (nodes/stats, serviceaccounts/token). */
  addSubresourceHandler(res: ResourceInfo, subresource: string, handler: SubresourceCreator): void {
    this.subresourceHandlers.set(`${res.plural}.${res.group}/${subresource}`, handler);
  }

  async createSubresource(res: ResourceInfo, namespace: string | undefined, name: string, subresource: string, body: KObject): Promise<KObject | Status> {
    const own = this.subresourceHandlers.get(`${res.plural}.${res.group}/${subresource}`);
    if (own) return own((res.namespaced ? namespace : undefined) ?? 'default', name, body);
    const handler = this.strategyOf(res).createSubresource?.[subresource];
    if (!handler) throw errors.methodNotAllowed(`POST is not supported on ${res.plural}/${subresource}`);
    return handler(this.strategyContext, (res.namespaced ? namespace : undefined) ?? 'default', name, body);
  }

  private get strategyContext(): StrategyContext {
    return {
      store: this.store,
      get: (res, namespace, name) => this.mustGet(res, namespace, name),
      delete: (res, namespace, name, opts) => this.delete(res, namespace, name, opts),
    };
  }

  private async writeScale(res: ResourceInfo, old: KObject, scale: Scale, opts: RegistryWriteOpts): Promise<KObject> {
    const scaler = this.strategyOf(res).scale;
    if (!scaler) throw errors.methodNotAllowed(`${res.plural} have no scale subresource`);
    const replicas = scale?.spec?.replicas;
    if (!Number.isInteger(replicas) || (replicas as number) < 0) {
      throw errors.invalid('Scale', old.metadata.name!, [{ field: 'spec.replicas', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }], 'autoscaling');
    }
    if (scale.metadata?.resourceVersion && scale.metadata.resourceVersion !== old.metadata.resourceVersion) throw errors.staleResourceVersion(res, old.metadata.name!);
    const updated = await this.replace(res, old, scaler.withReplicas(old, replicas as number), { ...opts, subresource: undefined });
    return scaler.toScale(updated) as unknown as KObject;
  }

  // ---------------------------------------------------------------- helpers

  private toScale(res: ResourceInfo, obj: KObject): Scale {
    const scaler = this.strategyOf(res).scale;
    if (!scaler) throw errors.notFound(`${res.plural}/scale`, obj.metadata.name!);
    return scaler.toScale(obj);
  }

  private async mustGet(res: ResourceInfo, namespace: string | undefined, name: string): Promise<KObject> {
    const obj = await this.store.get(res, res.namespaced ? namespace || 'default' : undefined, name);
    if (!obj) throw errors.notFound(res, name);
    return this.fromStore(res, obj);
  }

  private checkKind(res: ResourceInfo, obj: KObject): void {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw errors.badRequest(`the body must be a ${res.kind} object`);
    obj.apiVersion ??= res.apiVersion;
    obj.kind ??= res.kind;
    if (obj.metadata !== undefined && obj.metadata !== null && (typeof obj.metadata !== 'object' || Array.isArray(obj.metadata))) {
      throw errors.invalid(res.kind, '', [{ field: 'metadata', reason: 'FieldValueTypeInvalid', message: `Invalid value: ${JSON.stringify(obj.metadata)?.slice(0, 60)}: must be of type object` }], res.group || undefined);
    }
    if (obj.kind !== res.kind || obj.apiVersion !== res.apiVersion) {
      throw errors.badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${res.apiVersion}) or the kind (${obj.kind}) is not ${res.kind}`);
    }
  }

  private async checkNamespaceWritable(res: ResourceInfo, namespace: string, name: string): Promise<void> {
    // As kube-apiserver's NamespaceLifecycle admission: this server's cache first, a fresh read only on a miss.
    const ns = ((await this.store.getCached?.(R.namespaces, undefined, namespace)) ?? (await this.store.get(R.namespaces, undefined, namespace))) as Namespace | undefined;
    if (!ns) throw errors.notFound(R.namespaces, namespace);
    if (ns.metadata.deletionTimestamp && !this.strategyOf(res).allowedInTerminatingNamespace) {
      throw errors.forbidden(res, name, `unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  /** Wrong JSON types and out-of-range integers, before defaulting and strategies read the object. */
  private checkTypes(res: ResourceInfo, obj: KObject): void {
    // Kinds with their own rules (custom resources) check types in their own validation.
    if (this.strategyOf(res).validate) return;
    const causes = typeCauses(res, obj);
    if (causes.length > 0) throw errors.invalid(res.kind, obj.metadata?.name ?? '', causes as StatusCause[], res.group || undefined);
  }

  private validate(res: ResourceInfo, obj: KObject, old: KObject | undefined, opts: RegistryWriteOpts): void {
    const own = this.strategyOf(res).validate;
    const { causes, unknownFields } = own ? own(obj, old) : validateObject(res, obj, old);
    if (unknownFields.length > 0) {
      const mode = opts.fieldValidation ?? 'Warn';
      if (mode === 'Strict') throw unknownFieldsError(res, unknownFields);
      if (mode === 'Warn') opts.warnings?.push(...unknownFieldWarnings(unknownFields));
      for (const f of unknownFields) deletePath(obj, f);
    }
    if (causes.length > 0) throw errors.invalid(res.kind, obj.metadata.name ?? '', causes as StatusCause[], res.group || undefined);
  }

  private matcher(res: ResourceInfo, opts: ListOptions): ((o: KObject) => boolean) | undefined {
    const label = opts.labelSelector ? parseLabelSelector(opts.labelSelector) : undefined;
    const field = opts.fieldSelector ? parseFieldSelector(res, opts.fieldSelector) : undefined;
    if (!label && !field) return undefined;
    return (o) => (!label || label(o.metadata.labels)) && (!field || field(o));
  }

  /** Creates the namespaces every cluster has; idempotent. */
  async bootstrapNamespaces(): Promise<void> {
    for (const name of SYSTEM_NAMESPACES) {
      if (await this.store.get(R.namespaces, undefined, name)) continue;
      await this.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
  }
}

export type { AdmissionOp };

function lockKey(res: ResourceInfo, namespace: string | undefined, name: string): string {
  return `${res.group}/${res.plural}/${namespace ?? ''}/${name}`;
}

export { StatusError, deletePath };
