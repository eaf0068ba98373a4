// The RBAC objects as the authorizer reads them: shared informers over Roles, ClusterRoles,
// RoleBindings and ClusterRoleBindings, with bindings indexed by the subjects they name. A request
// costs a few map lookups for its user's keys, whatever the number of bindings in the cluster.

import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from '../../api/types.js';
import { R } from '../../api/resources.js';
import type { Informer, InformerFactory } from '../../client/informer.js';
import { subjectKey, type PolicySource } from './rbac.js';

const BY_SUBJECT = 'rbac-subject';

export class PolicyIndex implements PolicySource {
  readonly roles: Informer<Role>;
  readonly clusterRoles: Informer<ClusterRole>;
  readonly roleBindingsInf: Informer<RoleBinding>;
  readonly clusterRoleBindingsInf: Informer<ClusterRoleBinding>;

  constructor(informers: InformerFactory) {
    this.roles = informers.for<Role>(R.roles);
    this.clusterRoles = informers.for<ClusterRole>(R.clusterroles);
    this.roleBindingsInf = informers.for<RoleBinding>(R.rolebindings).addIndex(BY_SUBJECT, (b) => {
      const ns = b.metadata.namespace ?? '';
      return (b.subjects ?? []).map((s) => subjectKey(s, ns)).filter((k): k is string => !!k).map((k) => `${ns}|${k}`);
    });
    this.clusterRoleBindingsInf = informers.for<ClusterRoleBinding>(R.clusterrolebindings).addIndex(BY_SUBJECT, (b) =>
      (b.subjects ?? []).map((s) => subjectKey(s, '')).filter((k): k is string => !!k),
    );
  }

  async start(): Promise<void> {
    await Promise.all([this.roles.start(), this.clusterRoles.start(), this.roleBindingsInf.start(), this.clusterRoleBindingsInf.start()]);
  }

  get synced(): boolean {
    return this.roles.hasSynced && this.clusterRoles.hasSynced && this.roleBindingsInf.hasSynced && this.clusterRoleBindingsInf.hasSynced;
  }

  clusterRoleBindings(subjectKeys: string[]): readonly ClusterRoleBinding[] {
    return collect(subjectKeys.map((k) => this.clusterRoleBindingsInf.byIndex(BY_SUBJECT, k)));
  }

  roleBindings(namespace: string, subjectKeys: string[]): readonly RoleBinding[] {
    return collect(subjectKeys.map((k) => this.roleBindingsInf.byIndex(BY_SUBJECT, `${namespace}|${k}`)));
  }

  clusterRole(name: string): ClusterRole | undefined {
    return this.clusterRoles.get(undefined, name);
  }

  role(namespace: string, name: string): Role | undefined {
    return this.roles.get(namespace, name);
  }
}

/** The union of several index hits, each object once, in a stable order. */
function collect<T extends { metadata: { uid?: string; name?: string; namespace?: string } }>(lists: T[][]): T[] {
  const nonEmpty = lists.filter((l) => l.length > 0);
  if (nonEmpty.length <= 1) return nonEmpty[0] ?? [];
  const seen = new Set<T>();
  const out: T[] = [];
  for (const l of nonEmpty) for (const x of l) if (!seen.has(x)) (seen.add(x), out.push(x));
  return out;
}
