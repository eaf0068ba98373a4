// The one interface every component (controllers, scheduler, agent, proxier, DNS, ingress, CLI) uses to
// read and write the API. In the server process it is served by the registry directly (no HTTP); a
// remote agent or the CLI gets the same interface over REST (HttpClient). Errors are StatusErrors.

import type { KList, KObject, Status, WatchEvent } from '../api/types.js';
import type { ResourceInfo } from '../api/resources.js';

export interface ListOptions {
  /** Omit for all namespaces (or for cluster-scoped resources). */
  namespace?: string;
  /** Kubernetes label selector syntax: `app=web,tier in (a,b),!legacy` */
  labelSelector?: string;
  /** `metadata.name=x,status.phase!=Running` */
  fieldSelector?: string;
}

export interface WatchOptions extends ListOptions {
  /** Stream changes after this resourceVersion (from a list). Omit: ADDED for everything now, then changes. */
  resourceVersion?: string;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

export const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface WriteOpts {
  /** 'status' to write only status (controllers, agents); 'scale' for the Scale subresource. */
  subresource?: string;
  /** Field manager name (server-side apply / audit); default 'kubelite'. */
  fieldManager?: string;
  /** Server-side apply: take ownership of conflicting fields. */
  force?: boolean;
  /** 'Strict' | 'Warn' | 'Ignore' as in Kubernetes' fieldValidation. */
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
}

export interface Watch {
  stop(): void;
}

export interface WatchHandlers<T extends KObject> {
  onEvent(event: WatchEvent<T>): void;
  /** The watch ended: err is a StatusError 410 when the resourceVersion is too old (re-list), else a transport error or undefined after stop(). */
  onClose?(err?: Error): void;
}

export interface ApiClient {
  get<T extends KObject = KObject>(res: ResourceInfo, namespace: string | undefined, name: string, subresource?: string): Promise<T>;
  list<T extends KObject = KObject>(res: ResourceInfo, opts?: ListOptions): Promise<KList<T>>;
  create<T extends KObject = KObject>(res: ResourceInfo, obj: T, opts?: WriteOpts): Promise<T>;
  /** PUT. If obj.metadata.resourceVersion is set, a stale one fails with 409 Conflict. */
  update<T extends KObject = KObject>(res: ResourceInfo, obj: T, opts?: WriteOpts): Promise<T>;
  patch<T extends KObject = KObject>(res: ResourceInfo, namespace: string | undefined, name: string, type: PatchType, patch: unknown, opts?: WriteOpts): Promise<T>;
  delete(res: ResourceInfo, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<KObject | Status>;
  /** POST to a subresource that creates something (pods/binding, pods/eviction). */
  createSubresource(res: ResourceInfo, namespace: string | undefined, name: string, subresource: string, body: KObject): Promise<KObject | Status>;
  watch<T extends KObject = KObject>(res: ResourceInfo, opts: WatchOptions, handlers: WatchHandlers<T>): Watch;
}
