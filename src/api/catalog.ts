// The set of resources one API server serves: the built-in table (resources.ts) plus what is added
// while it runs — each CustomResourceDefinition's versions, the metrics API. The REST router,
// discovery, OpenAPI and the namespace/garbage-collection machinery read it; owners add and remove
// their resources as a whole (`set(owner, resources)`), and listeners hear of every change so derived
// documents (discovery, OpenAPI) are rebuilt only when the set moves. Lookups are O(1) maps, so the
// built-in kinds' request path costs no more than it did with the static table.

import { RESOURCES, type ResourceInfo } from './resources.js';

export interface CatalogChange {
  added: ResourceInfo[];
  removed: ResourceInfo[];
  /** `group/version` (or `version` for the core group) of every group-version that changed. */
  groupVersions: string[];
}

export type CatalogListener = (change: CatalogChange) => void;

export interface GroupVersion {
  group: string;
  version: string;
  apiVersion: string;
}

/**
 * Kubernetes' version priority (apimachinery's CompareKubeAwareVersionStrings): GA before beta before
 * alpha, higher major first, then higher minor; anything that is not `vN[(alpha|beta)M]` after all of
 * them, alphabetically. Negative when `a` comes first.
 */
export function compareKubeVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return undefined;
    return { major: Number(m[1]), stage: m[2] === 'alpha' ? 0 : m[2] === 'beta' ? 1 : 2, minor: m[3] ? Number(m[3]) : 0 };
  };
  const pa = parse(a);
  const pb = parse(b);
  if (!pa && !pb) return a < b ? -1 : a > b ? 1 : 0;
  if (!pa) return 1;
  if (!pb) return -1;
  if (pa.stage !== pb.stage) return pb.stage - pa.stage;
  if (pa.major !== pb.major) return pb.major - pa.major;
  return pb.minor - pa.minor;
}

const pluralKey = (group: string, version: string, plural: string) => `${group}\u0000${version}\u0000${plural}`;
const kindKey = (apiVersion: string, kind: string) => `${apiVersion}\u0000${kind}`;

export class ResourceCatalog {
  private readonly builtins: readonly ResourceInfo[];
  private readonly builtinSet: ReadonlySet<ResourceInfo>;
  private readonly owned = new Map<string, ResourceInfo[]>();
  private readonly listeners = new Set<CatalogListener>();
  private byPluralMap = new Map<string, ResourceInfo>();
  private byKindMap = new Map<string, ResourceInfo>();
  private everything: readonly ResourceInfo[] = [];
  private gvs: GroupVersion[] | undefined;
  /** Bumped on every change: a cheap cache key for derived documents. */
  generation = 0;

  constructor(builtins: readonly ResourceInfo[] = RESOURCES) {
    this.builtins = builtins;
    this.builtinSet = new Set(builtins);
    this.rebuild();
  }

  /** Every served resource: built-ins first (in table order), then added ones (by owner, as added). */
  all(): readonly ResourceInfo[] {
    return this.everything;
  }

  isBuiltin(res: ResourceInfo): boolean {
    return this.builtinSet.has(res);
  }

  byPlural(group: string, version: string, plural: string): ResourceInfo | undefined {
    return this.byPluralMap.get(pluralKey(group, version, plural));
  }

  byKind(apiVersion: string, kind: string): ResourceInfo | undefined {
    return this.byKindMap.get(kindKey(apiVersion, kind));
  }

  /** Every served version of one group/resource (`example.com`, `crontabs`), preferred first. */
  versionsOf(group: string, plural: string): ResourceInfo[] {
    return this.everything.filter((r) => r.group === group && r.plural === plural).sort((a, b) => compareKubeVersions(a.version, b.version));
  }

  /** Kind lookup by anything a user types (`ct`, `crontab`, `crontabs.stable.example.com`); built-ins win. */
  lookup(typed: string): ResourceInfo | undefined {
    const lower = typed.toLowerCase();
    const [name, ...groupParts] = lower.split('.');
    const group = groupParts.join('.');
    const matches = this.everything.filter(
      (x) => (group === '' || x.group === group) && (x.plural === name || x.singular === name || x.kind.toLowerCase() === name || x.shortNames.includes(name)),
    );
    if (matches.length <= 1) return matches[0];
    // The preferred version of the first group that matches.
    const first = matches[0];
    return matches.filter((m) => m.group === first.group && m.plural === first.plural).sort((a, b) => compareKubeVersions(a.version, b.version))[0];
  }

  /** Group-versions in discovery order: built-ins as the table lists them, then added groups with their versions by priority. */
  groupVersions(): GroupVersion[] {
    if (!this.gvs) {
      const seen = new Map<string, GroupVersion>();
      for (const res of this.builtins) if (!seen.has(res.apiVersion)) seen.set(res.apiVersion, { group: res.group, version: res.version, apiVersion: res.apiVersion });
      const added = new Map<string, Set<string>>();
      for (const list of this.owned.values()) {
        for (const r of list) {
          if (seen.has(r.apiVersion)) continue;
          const versions = added.get(r.group) ?? new Set<string>();
          versions.add(r.version);
          added.set(r.group, versions);
        }
      }
      const out = [...seen.values()];
      for (const [group, versions] of added) {
        // A group shared with built-ins (a CRD in a built-in group) keeps the built-ins' order first.
        for (const version of [...versions].sort(compareKubeVersions)) out.push({ group, version, apiVersion: group ? `${group}/${version}` : version });
      }
      this.gvs = out;
    }
    return this.gvs;
  }

  /** Versions of one group in preference order (empty for a group nobody serves). */
  groupVersionsOf(group: string): GroupVersion[] {
    const all = this.groupVersions().filter((g) => g.group === group);
    // Built-in groups keep their table order; a group only added resources sort by priority.
    if (this.builtins.some((r) => r.group === group)) return all;
    return all.sort((a, b) => compareKubeVersions(a.version, b.version));
  }

  /** The resources `owner` contributes (a CRD name, `metrics`). */
  ownedBy(owner: string): readonly ResourceInfo[] {
    return this.owned.get(owner) ?? [];
  }

  /**
   * Replaces what `owner` serves. A resource whose group/version/plural or apiVersion/kind is already
   * served by someone else is not added (the built-ins always win); the ones refused are returned.
   */
  set(owner: string, resources: readonly ResourceInfo[]): ResourceInfo[] {
    const before = this.owned.get(owner) ?? [];
    const refused: ResourceInfo[] = [];
    const accepted: ResourceInfo[] = [];
    for (const r of resources) {
      const p = this.byPluralMap.get(pluralKey(r.group, r.version, r.plural));
      const k = this.byKindMap.get(kindKey(r.apiVersion, r.kind));
      const taken = (x: ResourceInfo | undefined) => x !== undefined && !before.includes(x);
      if (taken(p) || taken(k) || accepted.some((a) => a.apiVersion === r.apiVersion && (a.plural === r.plural || a.kind === r.kind))) refused.push(r);
      else accepted.push(r);
    }
    if (accepted.length === 0) this.owned.delete(owner);
    else this.owned.set(owner, accepted);
    const removed = before.filter((r) => !accepted.includes(r));
    const added = accepted.filter((r) => !before.includes(r));
    if (removed.length || added.length) this.changed(added, removed);
    return refused;
  }

  /** Stops serving everything `owner` added. */
  delete(owner: string): void {
    const before = this.owned.get(owner);
    if (!before) return;
    this.owned.delete(owner);
    this.changed([], before);
  }

  /** Calls `fn` after every change; returns the unsubscribe function. */
  onChange(fn: CatalogListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(added: ResourceInfo[], removed: ResourceInfo[]): void {
    this.rebuild();
    this.generation++;
    const groupVersions = [...new Set([...added, ...removed].map((r) => r.apiVersion))];
    for (const fn of [...this.listeners]) {
      try {
        fn({ added, removed, groupVersions });
      } catch {
        // A listener's failure must not stop the others or the change itself.
      }
    }
  }

  private rebuild(): void {
    const all = [...this.builtins];
    for (const list of this.owned.values()) all.push(...list);
    const byPlural = new Map<string, ResourceInfo>();
    const byKind = new Map<string, ResourceInfo>();
    for (const r of all) {
      const pk = pluralKey(r.group, r.version, r.plural);
      if (!byPlural.has(pk)) byPlural.set(pk, r);
      const kk = kindKey(r.apiVersion, r.kind);
      if (!byKind.has(kk)) byKind.set(kk, r);
    }
    this.everything = all;
    this.byPluralMap = byPlural;
    this.byKindMap = byKind;
    this.gvs = undefined;
  }
}
