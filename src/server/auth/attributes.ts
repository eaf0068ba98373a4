// What a request asks to do, in the terms RBAC decides on: Kubernetes' RequestInfoFactory
// (apiserver/pkg/endpoints/request/requestinfo.go). Resource requests get a verb (get, list, watch,
// create, update, patch, delete, deletecollection), an API group, resource, subresource, name and
// namespace; everything else (discovery, /version, /openapi, /metrics) is a path and an HTTP verb.
// Parsed from the URL alone, without the resource table, so kinds added later are covered too.

export interface ResourceAttrs {
  resourceRequest: true;
  verb: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  name: string;
  namespace: string;
}

export interface NonResourceAttrs {
  resourceRequest: false;
  verb: string;
  path: string;
}

export type Attributes = ResourceAttrs | NonResourceAttrs;

/** Subresources of a Namespace itself (`/api/v1/namespaces/NAME/status`), not resources inside it. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
/** Streaming subresources that kubectl opens as a WebSocket GET: authorised as the create they are. */
const CONNECT_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

const VERB_OF_METHOD: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

function isTrue(v: unknown): boolean {
  return v === 'true' || v === '1';
}

/** `metadata.name=x` among a field selector's terms (an exact match, as RequiresExactMatch finds it). */
function nameFromFieldSelector(sel: unknown): string {
  if (typeof sel !== 'string') return '';
  for (const term of sel.split(',')) {
    const m = /^\s*metadata\.name\s*==?\s*(.+?)\s*$/.exec(term);
    if (m && !m[1].includes('/') && !m[1].includes('%') && m[1] !== '.' && m[1] !== '..') return m[1];
  }
  return '';
}

function segments(path: string): string[] | undefined {
  const out: string[] = [];
  for (const s of path.split('/')) {
    if (!s) continue;
    try {
      out.push(decodeURIComponent(s));
    } catch {
      return undefined;
    }
  }
  return out;
}

/**
 * The attributes of one HTTP request. `query` carries `watch` and `fieldSelector` (a list whose field
 * selector pins one name is authorised as a request for that name, as Kubernetes does).
 */
export function requestAttributes(method: string, path: string, query: Record<string, unknown> = {}): Attributes {
  const nonResource: NonResourceAttrs = { resourceRequest: false, verb: method.toLowerCase(), path };
  const parts = segments(path);
  if (!parts || parts.length < 3) return nonResource;
  let rest: string[];
  let apiGroup = '';
  if (parts[0] === 'api') rest = parts.slice(1);
  else if (parts[0] === 'apis') {
    if (parts.length < 4) return nonResource;
    apiGroup = parts[1];
    rest = parts.slice(2);
  } else return nonResource;
  const apiVersion = rest[0];
  rest = rest.slice(1);

  let verb = VERB_OF_METHOD[method.toUpperCase()] ?? method.toLowerCase();
  if (rest[0] === 'watch') {
    verb = 'watch';
    rest = rest.slice(1);
    if (rest.length === 0) return nonResource;
  }
  let namespace = '';
  if (rest[0] === 'namespaces') {
    if (rest.length > 1) {
      namespace = rest[1];
      if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2])) rest = rest.slice(2);
    }
  }
  const resource = rest[0] ?? '';
  let name = rest[1] ?? '';
  const subresource = rest.length >= 3 ? rest[2] : '';

  if (!name && verb === 'get') {
    verb = isTrue(query.watch) ? 'watch' : 'list';
    name = nameFromFieldSelector(query.fieldSelector);
  } else if (!name && verb === 'watch') {
    name = nameFromFieldSelector(query.fieldSelector);
  }
  if (!name && verb === 'delete') verb = 'deletecollection';
  if (verb === 'get' && resource === 'pods' && CONNECT_SUBRESOURCES.has(subresource)) verb = 'create';
  return { resourceRequest: true, verb, apiGroup, apiVersion, resource, subresource, name, namespace };
}
