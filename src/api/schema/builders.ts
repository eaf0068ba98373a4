// Compact builders for structural JSON Schemas in the shape of Kubernetes' OpenAPI v3 documents
// (component schemas referenced by `#/components/schemas/<name>`, list-type extensions on arrays),
// so one definition serves both ajv validation and kubectl's OpenAPI download.

export type Schema = Record<string, unknown>;

export const REF_PREFIX = '#/components/schemas/';

export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
export const CORE = 'io.k8s.api.core.v1.';
export const APPS = 'io.k8s.api.apps.v1.';
export const NET = 'io.k8s.api.networking.v1.';
export const DISCOVERY = 'io.k8s.api.discovery.v1.';
export const COORDINATION = 'io.k8s.api.coordination.v1.';
export const RBAC = 'io.k8s.api.rbac.v1.';
export const AUTHZ = 'io.k8s.api.authorization.v1.';
export const AUTHN = 'io.k8s.api.authentication.v1.';
export const BATCH = 'io.k8s.api.batch.v1.';
export const STORAGE = 'io.k8s.api.storage.v1.';
export const POLICY = 'io.k8s.api.policy.v1.';
export const SCHEDULING = 'io.k8s.api.scheduling.v1.';
export const AUTOSCALING_V2 = 'io.k8s.api.autoscaling.v2.';
export const AUTOSCALING_V1 = 'io.k8s.api.autoscaling.v1.';
export const APIEXTENSIONS = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.';

function withDesc<T extends Schema>(s: T, description?: string): T {
  return description ? { description, ...s } : s;
}

export function str(description?: string): Schema {
  return withDesc({ type: 'string' }, description);
}

export function int(description?: string): Schema {
  return withDesc({ type: 'integer', format: 'int32' }, description);
}

export function int64(description?: string): Schema {
  return withDesc({ type: 'integer', format: 'int64' }, description);
}

export function num(description?: string): Schema {
  return withDesc({ type: 'number', format: 'double' }, description);
}

export function bool(description?: string): Schema {
  return withDesc({ type: 'boolean' }, description);
}

/** metav1.Time / MicroTime: RFC 3339 strings. */
export function time(description?: string): Schema {
  return withDesc({ type: 'string', format: 'date-time' }, description);
}

/** base64 data, as Secret.data values travel. */
export function bytes(description?: string): Schema {
  return withDesc({ type: 'string', format: 'byte' }, description);
}

export function enumOf(values: readonly string[], description?: string): Schema {
  return withDesc({ type: 'string', enum: [...values] }, description);
}

export function intOrString(description?: string): Schema {
  return withDesc({ 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] }, description);
}

/** resource.Quantity: "500m", "1Gi", or a bare number as YAML users write `cpu: 1` or `cpu: 0.5`. */
export function quantity(description?: string): Schema {
  return withDesc({ anyOf: [{ type: 'number' }, { type: 'string' }] }, description);
}

/** A subtree we store but do not interpret: any object, unknown fields kept. */
export function freeForm(description?: string): Schema {
  return withDesc({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, description);
}

export function map(values: Schema, description?: string): Schema {
  return withDesc({ type: 'object', additionalProperties: values }, description);
}

export function strMap(description?: string): Schema {
  return map({ type: 'string' }, description);
}

export function ref(name: string, description?: string): Schema {
  // Kubernetes wraps a described $ref in allOf, since draft-07 ignores siblings of $ref.
  return description ? { description, allOf: [{ $ref: REF_PREFIX + name }] } : { $ref: REF_PREFIX + name };
}

export interface ObjOpts {
  required?: string[];
  description?: string;
  gvk?: { group: string; version: string; kind: string };
}

export function obj(properties: Record<string, Schema>, opts: ObjOpts = {}): Schema {
  const s: Schema = {};
  if (opts.description) s.description = opts.description;
  s.type = 'object';
  s.properties = properties;
  if (opts.required?.length) s.required = opts.required;
  if (opts.gvk) s['x-kubernetes-group-version-kind'] = [opts.gvk];
  return s;
}

export type ListOpts =
  | { type: 'atomic'; description?: string }
  | { type: 'set'; strategy?: 'merge'; description?: string }
  | { type: 'map'; keys: string[]; mergeKey?: string; strategy?: 'merge' | 'merge,retainKeys'; description?: string };

/** An array with Kubernetes' list semantics: atomic (replaced whole), set, or map keyed by fields. */
export function arr(items: Schema, opts: ListOpts = { type: 'atomic' }): Schema {
  const s: Schema = {};
  if (opts.description) s.description = opts.description;
  s.type = 'array';
  s.items = items;
  s['x-kubernetes-list-type'] = opts.type;
  if (opts.type === 'map') {
    s['x-kubernetes-list-map-keys'] = opts.keys;
    if (opts.mergeKey) {
      s['x-kubernetes-patch-merge-key'] = opts.mergeKey;
      s['x-kubernetes-patch-strategy'] = opts.strategy ?? 'merge';
    }
  } else if (opts.type === 'set' && opts.strategy) {
    s['x-kubernetes-patch-strategy'] = opts.strategy;
  }
  return s;
}

export const strs = (description?: string): Schema => arr(str(), { type: 'atomic', description });

/** A list merged by `key` in strategic merge patch, and keyed by it in server-side apply. */
export function keyedList(items: Schema, key: string, description?: string, strategy?: 'merge,retainKeys'): Schema {
  return arr(items, { type: 'map', keys: [key], mergeKey: key, strategy: strategy ?? 'merge', description });
}

/** The standard top-level fields of a served kind. */
export function root(
  gvk: { group: string; version: string; kind: string },
  description: string,
  fields: Record<string, Schema>,
  required: string[] = [],
): Schema {
  return obj(
    {
      apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
      kind: str('Kind is a string value representing the REST resource this object represents.'),
      metadata: ref(`${META}ObjectMeta`, "Standard object's metadata."),
      ...fields,
    },
    { description, required, gvk },
  );
}
