// Legacy discovery documents (/api, /apis, /api/v1, /apis/{g}/{v}) and /version: what kubectl reads
// before every command to learn kinds, verbs, short names and categories.

import { groupVersions, RESOURCES, type ResourceInfo } from '../api/resources.js';

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

export function apiGroupList(): object {
  const groups = new Map<string, { groupVersion: string; version: string }[]>();
  for (const gv of groupVersions()) {
    if (!gv.group) continue;
    const list = groups.get(gv.group) ?? [];
    list.push({ groupVersion: gv.apiVersion, version: gv.version });
    groups.set(gv.group, list);
  }
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups].map(([name, versions]) => ({ name, versions, preferredVersion: versions[0] })),
  };
}

export function apiGroup(group: string): object | undefined {
  const versions = groupVersions().filter((g) => g.group === group).map((g) => ({ groupVersion: g.apiVersion, version: g.version }));
  if (versions.length === 0) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions, preferredVersion: versions[0] };
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

export function apiResourceList(group: string, version: string): object | undefined {
  const resources = RESOURCES.filter((r) => r.group === group && r.version === version);
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
