// Kubernetes REST paths -> what they address. One parser for every route so the URL rules
// (legacy /api/v1 vs /apis/group/version, namespaced vs cluster paths, subresources, the old
// /watch/ prefix) live in one place.

import type { ResourceInfo } from '../api/resources.js';
import { ResourceCatalog } from '../api/catalog.js';
import { errors } from '../api/errors.js';

export interface ResourcePath {
  group: string;
  version: string;
  resource: ResourceInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** `/api/v1/watch/...` (deprecated form of ?watch=true) */
  watchPrefix: boolean;
}

export type ParsedPath =
  | { kind: 'resource'; path: ResourcePath }
  | { kind: 'groupVersion'; group: string; version: string }
  | { kind: 'unknownResource'; group: string; version: string; plural: string }
  | { kind: 'other' };

let builtins: ResourceCatalog | undefined;

/** The built-in resources only, for callers without a server's catalog (a node's kubelet endpoint). */
export function builtinCatalog(): ResourceCatalog {
  return (builtins ??= new ResourceCatalog());
}

/** A path segment decoded, or a 400 for malformed percent-encoding or bad UTF-8 (`%zz`, `%ff`). */
function decodeSegment(seg: string): string {
  try {
    return decodeURIComponent(seg);
  } catch {
    throw errors.badRequest(`the request path is not valid: malformed percent-encoding or UTF-8 in ${JSON.stringify(seg.slice(0, 100))}`);
  }
}

export function parsePath(pathname: string, resources: Pick<ResourceCatalog, 'byPlural'> = builtinCatalog()): ParsedPath {
  const byPlural = (g: string, v: string, p: string) => resources.byPlural(g, v, p);
  const segs = pathname.split('/').filter(Boolean).map(decodeSegment);
  // `.` and `..` (also as %2e%2e) address nothing: a namespace or name can never be one, and a path
  // that tries to climb must not fall through to a list of the namespace "..".
  if (segs.some((s) => s === '.' || s === '..')) return { kind: 'other' };
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 2) {
    group = '';
    version = segs[1];
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 3) {
    group = segs[1];
    version = segs[2];
    rest = segs.slice(3);
  } else return { kind: 'other' };
  if (rest.length === 0) return { kind: 'groupVersion', group, version };

  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  // namespaces/{ns}/{plural}/... addresses a namespaced resource; namespaces[/{name}[/{sub}]] the Namespace itself.
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const inner = byPlural(group, version, rest[2]);
    if (inner?.namespaced) {
      namespace = rest[1];
      rest = rest.slice(2);
    } else if (rest.length > 3 || !byPlural(group, version, 'namespaces')) {
      return { kind: 'unknownResource', group, version, plural: rest[2] };
    }
  }
  const resource = byPlural(group, version, rest[0]);
  if (!resource || (namespace === undefined && rest.length > 3)) return { kind: 'unknownResource', group, version, plural: rest[0] };
  if (rest.length > 3) return { kind: 'unknownResource', group, version, plural: rest.join('/') };
  return { kind: 'resource', path: { group, version, resource, namespace, name: rest[1], subresource: rest[2], watchPrefix } };
}
