// The default RBAC policy every cluster starts with (plugin/pkg/auth/authorizer/rbac/bootstrappolicy):
// cluster-admin, the aggregated admin/edit/view roles and the aggregate-to-* roles that feed them,
// discovery and self-review access for every authenticated user, and /healthz, /version for anyone.
// Reconciled at each start: missing objects are created, and objects that still carry the
// autoupdate annotation get back any bootstrap permission they lost (additions are kept).

import type { ClusterRole, ClusterRoleBinding, KObject, PolicyRule } from '../../api/types.js';
import { R, type ResourceInfo } from '../../api/resources.js';
import { isStatusError } from '../../api/errors.js';

export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
const META = { labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } };
const RBAC = 'rbac.authorization.k8s.io';

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const READ_WRITE = [...READ, ...WRITE];

function rule(verbs: string[], apiGroups: string[], resources: string[]): PolicyRule {
  return { verbs, apiGroups, resources };
}

function urls(verbs: string[], nonResourceURLs: string[]): PolicyRule {
  return { verbs, nonResourceURLs };
}

function clusterRole(name: string, rules: PolicyRule[], labels: Record<string, string> = {}): ClusterRole {
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels: { ...META.labels, ...labels }, annotations: { ...META.annotations } }, rules };
}

function aggregated(name: string, aggregateTo: string[], labels: Record<string, string> = {}): ClusterRole {
  return {
    ...clusterRole(name, [], labels),
    aggregationRule: { clusterRoleSelectors: aggregateTo.map((to) => ({ matchLabels: { [`rbac.authorization.k8s.io/aggregate-to-${to}`]: 'true' } })) },
  };
}

function groupBinding(name: string, role: string, groups: string[]): ClusterRoleBinding {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { ...META.labels }, annotations: { ...META.annotations } },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: role },
    subjects: groups.map((g) => ({ kind: 'Group', apiGroup: RBAC, name: g })),
  };
}

const aggregateTo = (to: string) => ({ [`rbac.authorization.k8s.io/aggregate-to-${to}`]: 'true' });

export function bootstrapClusterRoles(): ClusterRole[] {
  return [
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    aggregated('admin', ['admin']),
    aggregated('edit', ['edit'], aggregateTo('admin')),
    aggregated('view', ['view'], aggregateTo('edit')),
    clusterRole('system:aggregate-to-admin', [
      rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
      rule(READ_WRITE, [RBAC], ['rolebindings', 'roles']),
    ], aggregateTo('admin')),
    clusterRole('system:aggregate-to-edit', [
      rule(READ, [''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy']),
      rule(['impersonate'], [''], ['serviceaccounts']),
      rule(WRITE, [''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy']),
      rule(['create'], [''], ['pods/eviction']),
      rule(WRITE, [''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy']),
      rule(['create'], [''], ['serviceaccounts/token']),
      rule(WRITE, ['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale']),
      rule(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
      rule(WRITE, ['batch'], ['cronjobs', 'jobs']),
      rule(WRITE, ['policy'], ['poddisruptionbudgets']),
      rule(WRITE, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
      rule(READ_WRITE, ['coordination.k8s.io'], ['leases']),
    ], aggregateTo('edit')),
    clusterRole('system:aggregate-to-view', [
      rule(READ, [''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status']),
      rule(READ, [''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status']),
      rule(READ, [''], ['namespaces']),
      rule(READ, ['discovery.k8s.io'], ['endpointslices']),
      rule(READ, ['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status']),
      rule(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
      rule(READ, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
      rule(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
      rule(READ, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
    ], aggregateTo('view')),
    clusterRole('system:basic-user', [
      rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
    ]),
    clusterRole('system:discovery', [urls(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'])]),
    clusterRole('system:public-info-viewer', [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])]),
    clusterRole('system:service-account-issuer-discovery', [urls(['get'], ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'])]),
  ];
}

export function bootstrapClusterRoleBindings(): ClusterRoleBinding[] {
  return [
    groupBinding('cluster-admin', 'cluster-admin', ['system:masters']),
    groupBinding('system:basic-user', 'system:basic-user', ['system:authenticated']),
    groupBinding('system:discovery', 'system:discovery', ['system:authenticated']),
    groupBinding('system:public-info-viewer', 'system:public-info-viewer', ['system:authenticated', 'system:unauthenticated']),
    groupBinding('system:service-account-issuer-discovery', 'system:service-account-issuer-discovery', ['system:serviceaccounts']),
  ];
}

function ruleKey(r: PolicyRule): string {
  const norm = (l?: string[]) => [...(l ?? [])].sort().join(',');
  return [norm(r.verbs), norm(r.apiGroups), norm(r.resources), norm(r.resourceNames), norm(r.nonResourceURLs)].join('|');
}

/**
 * What a stored bootstrap ClusterRole should become: undefined when it needs nothing (autoupdate off,
 * or it already holds every bootstrap rule); otherwise the role with the missing rules added.
 * Aggregated roles only get their aggregationRule back: their rules are the aggregation controller's.
 */
export function reconcileClusterRole(stored: ClusterRole, want: ClusterRole): ClusterRole | undefined {
  if (stored.metadata.annotations?.[AUTOUPDATE_ANNOTATION] === 'false') return undefined;
  if (want.aggregationRule) {
    const have = JSON.stringify(stored.aggregationRule?.clusterRoleSelectors ?? []);
    const need = want.aggregationRule.clusterRoleSelectors ?? [];
    const missing = need.filter((s) => !have.includes(JSON.stringify(s)));
    if (missing.length === 0) return undefined;
    return { ...stored, aggregationRule: { clusterRoleSelectors: [...(stored.aggregationRule?.clusterRoleSelectors ?? []), ...missing] } };
  }
  const have = new Set((stored.rules ?? []).map(ruleKey));
  const missing = (want.rules ?? []).filter((r) => !have.has(ruleKey(r)));
  if (missing.length === 0) return undefined;
  return { ...stored, rules: [...(stored.rules ?? []), ...missing] };
}

/** A stored bootstrap binding with autoupdate on gets back its subjects and role; undefined when it has them. */
export function reconcileClusterRoleBinding(stored: ClusterRoleBinding, want: ClusterRoleBinding): ClusterRoleBinding | undefined {
  if (stored.metadata.annotations?.[AUTOUPDATE_ANNOTATION] === 'false') return undefined;
  const have = new Set((stored.subjects ?? []).map((s) => `${s.kind}/${s.name}/${s.namespace ?? ''}`));
  const missing = (want.subjects ?? []).filter((s) => !have.has(`${s.kind}/${s.name}/${s.namespace ?? ''}`));
  if (missing.length === 0) return undefined;
  return { ...stored, subjects: [...(stored.subjects ?? []), ...missing] };
}

/** Makes the stored policy hold the bootstrap objects (create what is missing, top up what lost rules). */
export async function ensureBootstrapPolicy(client: {
  get<T extends KObject>(res: ResourceInfo, ns: string | undefined, name: string): Promise<T>;
  create<T extends KObject>(res: ResourceInfo, obj: T): Promise<T>;
  update<T extends KObject>(res: ResourceInfo, obj: T): Promise<T>;
}): Promise<void> {
  const ensure = async <T extends ClusterRole | ClusterRoleBinding>(res: ResourceInfo, want: T, reconcile: (stored: T, want: T) => T | undefined) => {
    let stored: T | undefined;
    try {
      stored = await client.get<T>(res, undefined, want.metadata.name!);
    } catch (err) {
      if (!isStatusError(err, 'NotFound')) throw err;
    }
    if (!stored) {
      try {
        await client.create(res, want);
      } catch (err) {
        if (!isStatusError(err, 'AlreadyExists')) throw err;
      }
      return;
    }
    const next = reconcile(stored, want);
    // Another server of the cluster may reconcile the same object at the same moment: its write stands.
    if (next) await client.update(res, next).catch((err) => {
      if (!isStatusError(err, 'Conflict')) throw err;
    });
  };
  for (const role of bootstrapClusterRoles()) await ensure(R.clusterroles, role, reconcileClusterRole);
  for (const binding of bootstrapClusterRoleBindings()) await ensure(R.clusterrolebindings, binding, reconcileClusterRoleBinding);
}
