// Which resource a stored key belongs to. Objects stored by a newer kubelite (a resource this build does
// not serve) still load and watch, described from the object itself.

import { RESOURCES, type ResourceInfo } from '../api/resources.js';
import type { KObject } from '../api/types.js';

const known = new Map(RESOURCES.map((r) => [`${r.group}/${r.plural}`, r] as const));

/** The served resource for `group/plural`, if any (cheap: no parsing). */
export function knownResource(group: string, plural: string): ResourceInfo | undefined {
  return known.get(`${group}/${plural}`);
}

export function resourceFor(group: string, plural: string, obj: KObject | undefined, namespaced: boolean): ResourceInfo {
  const found = knownResource(group, plural);
  if (found) return found;
  const apiVersion = String(obj?.apiVersion ?? '');
  const kind = String(obj?.kind ?? plural);
  return {
    group,
    version: apiVersion.includes('/') ? apiVersion.split('/')[1]! : apiVersion,
    apiVersion,
    kind,
    listKind: `${kind}List`,
    plural,
    singular: kind.toLowerCase(),
    namespaced,
    shortNames: [],
    categories: [],
    verbs: [],
    subresources: [],
    hasStatus: false,
  };
}
