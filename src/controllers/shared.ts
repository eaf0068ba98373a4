// Small helpers every controller loop shares: cache indexes, error classification and bounded
// parallelism for API writes.

import type { KObject } from '../api/types.js';
import { isStatusError } from '../api/errors.js';
import type { Informer } from '../client/informer.js';
import { controllerRef } from './logic/index.js';

/** Index of a shared informer by namespace (controllers look at one namespace at a time). */
export const NAMESPACE_INDEX = 'controllers:namespace';
/** Index by the uid of the controlling owner (pods of a ReplicaSet, ReplicaSets of a Deployment). */
export const CONTROLLER_INDEX = 'controllers:controller-uid';

export function indexByNamespace<T extends KObject>(inf: Informer<T>): Informer<T> {
  return inf.addIndex(NAMESPACE_INDEX, (o) => [o.metadata.namespace ?? '']);
}

export function indexByController<T extends KObject>(inf: Informer<T>): Informer<T> {
  return inf.addIndex(CONTROLLER_INDEX, (o) => {
    const ref = controllerRef(o);
    return ref ? [ref.uid] : [];
  });
}

export function errorMessage(err: unknown): string {
  if (isStatusError(err)) return err.status.message ?? String(err);
  return err instanceof Error ? err.message : String(err);
}

export function isNotFound(err: unknown): boolean {
  return isStatusError(err, 'NotFound');
}

export function isConflict(err: unknown): boolean {
  return isStatusError(err, 'Conflict');
}

export function isAlreadyExists(err: unknown): boolean {
  return isStatusError(err, 'AlreadyExists');
}

/** The registry's refusal to create objects in a namespace being deleted (not worth an Event). */
export function isNamespaceTerminating(err: unknown): boolean {
  return isStatusError(err, 'Forbidden') && /because it is being terminated/.test(errorMessage(err));
}

/** Runs fn over items with at most `limit` in flight; resolves with each outcome in order. */
export async function boundedAll<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const out: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = { status: 'fulfilled', value: await fn(items[i]) };
      } catch (reason) {
        out[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Kubernetes' slowStartBatch: calls fn `count` times in batches of 1, 2, 4, ... and stops after the
 * first batch with a failure, so a create that fails for every pod (quota, bad template) costs one
 * call instead of hundreds. Returns how many succeeded and the first error.
 */
export async function slowStartBatch(count: number, initialBatch: number, fn: () => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatch); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    let error: unknown;
    for (const r of results) {
      if (r.status === 'fulfilled') successes++;
      else error ??= r.reason;
    }
    if (error !== undefined) return { successes, error };
    remaining -= batch;
  }
  return { successes };
}
