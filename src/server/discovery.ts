// Legacy discovery documents (/api, /apis, /api/v1, /apis/{g}/{v}) and /version: what kubectl reads
// before every command to learn kinds, verbs, short names and categories.

import type { ResourceInfo } from '../api/resources.js';
import type { ResourceCatalog } from '../api/catalog.js';
import { builtinCatalog } from './paths.js';

/** kubectl on these machines dispatches to the kubectl build matching the server's minor version. */
export const KUBE_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-kubelite' };

export function versionInfo(kubeliteVersion: string): Record<string, string> {
  return {
    ...KUBE_VERSION,
    gitCommit: `kubelite-${kubeliteVersion}`,
    gitTreeState: 'clean',
    buildDate: '2026-11-25T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'kubelite',
    platform: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

export function apiVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

/** Documents derived from a catalog, rebuilt only when the catalog changes (its generation moves). */
const cache = new WeakMap<ResourceCatalog, { generation: number; docs: Map<string, object | undefined> }>();

function cached(catalog: ResourceCatalog, key: string, build: () => object | undefined): object | undefined {
  let entry = cache.get(catalog);
  if (!entry || entry.generation !== catalog.generation) cache.set(catalog, (entry = { generation: catalog.generation, docs: new Map() }));
  if (!entry.docs.has(key)) entry.docs.set(key, build());
  return entry.docs.get(key);
}

export function apiGroupList(catalog: ResourceCatalog = builtinCatalog()): object {
  return cached(catalog, 'apis', () => {
    const groups = new Map<string, { groupVersion: string; version: string }[]>();
    for (const gv of catalog.groupVersions()) {
      if (!gv.group || groups.has(gv.group)) continue;
      groups.set(gv.group, catalog.groupVersionsOf(gv.group).map((g) => ({ groupVersion: g.apiVersion, version: g.version })));
    }
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups].map(([name, versions]) => ({ name, versions, preferredVersion: versions[0] })),
    };
  })!;
}

export function apiGroup(group: string, catalog: ResourceCatalog = builtinCatalog()): object | undefined {
  return cached(catalog, `group/${group}`, () => {
    const versions = catalog.groupVersionsOf(group).map((g) => ({ groupVersion: g.apiVersion, version: g.version }));
    if (versions.length === 0) return undefined;
    return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions, preferredVersion: versions[0] };
  });
}

const SUBRESOURCE_DOCS: Record<string, (r: ResourceInfo) => object> = {
  status: (r) => ({ kind: r.kind, verbs: ['get', 'patch', 'update'] }),
  scale: () => ({ kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] }),
  log: () => ({ kind: 'Pod', verbs: ['get'] }),
  exec: () => ({ kind: 'PodExecOptions', verbs: ['create', 'get'] }),
  attach: () => ({ kind: 'PodAttachOptions', verbs: ['create', 'get'] }),
  portforward: () => ({ kind: 'PodPortForwardOptions', verbs: ['create', 'get'] }),
  binding: () => ({ kind: 'Binding', verbs: ['create'] }),
  eviction: () => ({ kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] }),
  finalize: (r) => ({ kind: r.kind, verbs: ['update'] }),
};

export function apiResourceList(group: string, version: string, catalog: ResourceCatalog = builtinCatalog()): object | undefined {
  return cached(catalog, `gv/${group}/${version}`, () => buildResourceList(catalog, group, version));
}

function buildResourceList(catalog: ResourceCatalog, group: string, version: string): object | undefined {
  const resources = catalog.all().filter((r) => r.group === group && r.version === version);
  if (resources.length === 0) return undefined;
  const out: object[] = [];
  for (const r of resources) {
    out.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length ? { categories: r.categories } : {}),
    });
    for (const sub of r.subresources) {
      const doc = SUBRESOURCE_DOCS[sub];
      if (doc) out.push({ name: `${r.plural}/${sub}`, singularName: '', namespaced: r.namespaced, ...doc(r) });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources: out };
}

