// What a CustomResourceDefinition serves, derived from the object alone (pure): one ResourceInfo per
// served version, the storage version, and the conditions the API server reads. Both the server
// (which serves the resources) and the controllers (which clean up, collect garbage and empty
// namespaces) derive from this, so they agree without talking to each other.

import type { Condition, CustomResourceDefinition, CustomResourceDefinitionNames } from '../types.js';
import type { ResourceInfo, Verb } from '../resources.js';

/** Held by every CRD until its custom objects are gone (as kube-apiserver's finalizer). */
export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

const ALL_VERBS: Verb[] = ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'];

export function crdCondition(crd: CustomResourceDefinition, type: string): Condition | undefined {
  return crd.status?.conditions?.find((c) => c.type === type);
}

export function conditionTrue(crd: CustomResourceDefinition, type: string): boolean {
  return crdCondition(crd, type)?.status === 'True';
}

/** Established and not yet being torn down past the point of serving. */
export function isEstablished(crd: CustomResourceDefinition): boolean {
  return conditionTrue(crd, 'Established');
}

export function storageVersion(crd: CustomResourceDefinition): string | undefined {
  return crd.spec?.versions?.find((v) => v.storage)?.name;
}

/** The names being served: the accepted ones once the CRD controller accepted them, else the spec's. */
export function servedNames(crd: CustomResourceDefinition): CustomResourceDefinitionNames {
  const accepted = crd.status?.acceptedNames;
  const names = accepted?.kind && accepted.plural ? accepted : crd.spec.names;
  return {
    plural: names.plural,
    singular: names.singular || names.kind.toLowerCase(),
    kind: names.kind,
    listKind: names.listKind || `${names.kind}List`,
    shortNames: names.shortNames ?? [],
    categories: names.categories ?? [],
  };
}

/** One ResourceInfo per version of the CRD (served ones only unless `all`). */
export function crdResources(crd: CustomResourceDefinition, opts: { all?: boolean } = {}): ResourceInfo[] {
  const names = servedNames(crd);
  const group = crd.spec.group;
  const out: ResourceInfo[] = [];
  for (const v of crd.spec.versions ?? []) {
    if (!v.served && !opts.all) continue;
    const subresources: string[] = [];
    if (v.subresources?.status) subresources.push('status');
    if (v.subresources?.scale) subresources.push('scale');
    out.push({
      group,
      version: v.name,
      apiVersion: `${group}/${v.name}`,
      kind: names.kind,
      listKind: names.listKind!,
      plural: names.plural,
      singular: names.singular!,
      namespaced: crd.spec.scope !== 'Cluster',
      shortNames: [...(names.shortNames ?? [])],
      categories: [...(names.categories ?? [])],
      verbs: [...ALL_VERBS],
      subresources,
      hasStatus: !!v.subresources?.status,
      crd: crd.metadata.name,
    });
  }
  return out;
}

/**
 * The resource through which the CRD's objects can be listed and deleted whatever is served: the
 * storage version (objects are stored once, under group/plural, whatever version wrote them).
 */
export function crdStorageResource(crd: CustomResourceDefinition): ResourceInfo | undefined {
  const storage = storageVersion(crd);
  return crdResources(crd, { all: true }).find((r) => r.version === storage);
}
