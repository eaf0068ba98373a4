// The one key every cache, work queue and index uses for an object: client-go's MetaNamespaceKeyFunc,
// `namespace/name` for namespaced objects and `name` for cluster-scoped ones.

export interface Named {
  metadata: { namespace?: string; name?: string };
}

export function objectKey(obj: Named): string {
  return keyFor(obj.metadata.namespace, obj.metadata.name ?? '');
}

export function keyFor(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** The inverse of objectKey: `ns/name` -> { namespace: 'ns', name }, `name` -> { name }. */
export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
