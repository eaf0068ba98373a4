// Where things live, in memory and on disk. One flat key per object so LevelDB's own ordering
// (`o/<group>/<plural>/<namespace>/<name>`) matches the API's list order, and the resource part is
// version-independent: an object written as apps/v1 is the same object read as apps/v2 later.

import type { KObject } from '../api/types.js';
import type { ResourceInfo } from '../api/resources.js';
import { errors } from '../api/errors.js';

export const OBJECT_PREFIX = 'o/';
/** The first key after every `o/...` key ('0' follows '/'), for a prefix scan. */
export const OBJECT_PREFIX_END = 'o0';
export const META_RV_KEY = 'm/rv';
export const META_FORMAT_KEY = 'm/format';
/** Bumped whenever the on-disk layout changes incompatibly. */
export const STORE_FORMAT = 'kubelite-store/1';

/** `apps/deployments`, `/pods`: identifies a resource regardless of version. */
export function resourceKey(res: Pick<ResourceInfo, 'group' | 'plural'>): string {
  return `${res.group}/${res.plural}`;
}

export function objectKey(resKey: string, namespace: string, name: string): string {
  return `${OBJECT_PREFIX}${resKey}/${namespace}/${name}`;
}

export interface ParsedObjectKey {
  group: string;
  plural: string;
  namespace: string;
  name: string;
}

export function parseObjectKey(key: string): ParsedObjectKey | undefined {
  if (!key.startsWith(OBJECT_PREFIX)) return undefined;
  const parts = key.slice(OBJECT_PREFIX.length).split('/');
  if (parts.length !== 4 || !parts[1] || !parts[3]) return undefined;
  const [group, plural, namespace, name] = parts as [string, string, string, string];
  return { group, plural, namespace, name };
}

// A '/' in a name would make two objects share a LevelDB key (ns "a", name "b/c" vs ns "a/b", name "c");
// validation upstream forbids it already, this keeps the store safe on its own.
function checkSegment(what: string, value: string, res: ResourceInfo): void {
  if (value.includes('/') || value === '.' || value === '..') {
    throw errors.badRequest(`${what} ${JSON.stringify(value)} of ${res.plural} may not contain '/' (store key)`);
  }
}

/** The namespace an object is keyed under: '' for cluster-scoped resources. */
export function keyNamespace(res: ResourceInfo, namespace: string | undefined): string {
  if (!res.namespaced) return '';
  if (!namespace) throw errors.badRequest(`a namespace is required for ${res.plural}`);
  checkSegment('namespace', namespace, res);
  return namespace;
}

export function keyName(res: ResourceInfo, name: string | undefined): string {
  if (!name) throw errors.badRequest(`metadata.name is required to store ${res.plural}`);
  checkSegment('name', name, res);
  return name;
}

export function objectCoordinates(res: ResourceInfo, obj: KObject): { namespace: string; name: string } {
  if (!obj || typeof obj !== 'object' || !obj.metadata || typeof obj.metadata !== 'object') {
    throw errors.badRequest(`cannot store ${res.plural}: object has no metadata`);
  }
  return { namespace: keyNamespace(res, obj.metadata.namespace), name: keyName(res, obj.metadata.name) };
}

/** Strictly a non-negative decimal integer, as resourceVersions are written by this store. */
export function parseResourceVersion(rv: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(rv)) return undefined;
  const n = Number(rv);
  return Number.isSafeInteger(n) ? n : undefined;
}
