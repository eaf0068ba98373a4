// The resources kubelite serves: one table that the REST router, discovery documents, the store's key
// layout, the CLI's kind/short-name lookup and the OpenAPI documents are all derived from, so adding
// a kind is one entry here plus its validation.

export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch';

export interface ResourceInfo {
  /** '' for the core group */
  group: string;
  version: string;
  /** 'v1' or 'apps/v1' */
  apiVersion: string;
  kind: string;
  listKind: string;
  /** URL path segment, e.g. 'pods' */
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: Verb[];
  /** subresources served: 'status', 'scale', 'log', 'exec', 'binding', 'attach', 'portforward', 'eviction' */
  subresources: string[];
  /** whether spec/status are split (PUT on the main resource ignores status, and /status ignores the rest) */
  hasStatus: boolean;
  /** For a resource a CustomResourceDefinition serves: that CRD's name (`crontabs.stable.example.com`). */
  crd?: string;
}

const ALL: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function r(
  group: string,
  version: string,
  kind: string,
  plural: string,
  opts: { namespaced?: boolean; shortNames?: string[]; categories?: string[]; subresources?: string[]; hasStatus?: boolean; verbs?: Verb[] } = {},
): ResourceInfo {
  return {
    group,
    version,
    apiVersion: group ? `${group}/${version}` : version,
    kind,
    listKind: `${kind}List`,
    plural,
    singular: kind.toLowerCase(),
    namespaced: opts.namespaced ?? true,
    shortNames: opts.shortNames ?? [],
    categories: opts.categories ?? [],
    verbs: opts.verbs ?? ALL,
    subresources: opts.subresources ?? [],
    hasStatus: opts.hasStatus ?? false,
  };
}

export const RESOURCES: readonly ResourceInfo[] = [
  r('', 'v1', 'Namespace', 'namespaces', { namespaced: false, shortNames: ['ns'], subresources: ['status', 'finalize'], hasStatus: true, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }),
  // nodes/NAME/stats: where a node's agent posts its usage summary (metrics.k8s.io is served from it).
  r('', 'v1', 'Node', 'nodes', { namespaced: false, shortNames: ['no'], subresources: ['status', 'stats'], hasStatus: true }),
  r('', 'v1', 'Pod', 'pods', { shortNames: ['po'], categories: ['all'], subresources: ['status', 'log', 'exec', 'binding', 'attach', 'portforward', 'eviction'], hasStatus: true }),
  r('', 'v1', 'Service', 'services', { shortNames: ['svc'], categories: ['all'], subresources: ['status'], hasStatus: true, verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] }),
  r('', 'v1', 'Endpoints', 'endpoints', { shortNames: ['ep'] }),
  r('', 'v1', 'Event', 'events', { shortNames: ['ev'] }),
  r('', 'v1', 'ConfigMap', 'configmaps', { shortNames: ['cm'] }),
  r('', 'v1', 'Secret', 'secrets'),
  r('apps', 'v1', 'Deployment', 'deployments', { shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'], hasStatus: true }),
  r('apps', 'v1', 'ReplicaSet', 'replicasets', { shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'], hasStatus: true }),
  r('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices'),
  r('networking.k8s.io', 'v1', 'Ingress', 'ingresses', { shortNames: ['ing'], subresources: ['status'], hasStatus: true }),
  r('networking.k8s.io', 'v1', 'IngressClass', 'ingressclasses', { namespaced: false }),
  r('coordination.k8s.io', 'v1', 'Lease', 'leases'),
  r('', 'v1', 'ServiceAccount', 'serviceaccounts', { shortNames: ['sa'], subresources: ['token'] }),
  r('rbac.authorization.k8s.io', 'v1', 'Role', 'roles'),
  r('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings'),
  r('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', { namespaced: false }),
  r('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', { namespaced: false }),
  // Reviews are answered, never stored (server/auth/reviews.ts serves their POST).
  r('authorization.k8s.io', 'v1', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', { namespaced: false, verbs: ['create'] }),
  r('authorization.k8s.io', 'v1', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews', { namespaced: false, verbs: ['create'] }),
  r('authorization.k8s.io', 'v1', 'SubjectAccessReview', 'subjectaccessreviews', { namespaced: false, verbs: ['create'] }),
  r('authorization.k8s.io', 'v1', 'LocalSubjectAccessReview', 'localsubjectaccessreviews', { verbs: ['create'] }),
  r('authentication.k8s.io', 'v1', 'TokenReview', 'tokenreviews', { namespaced: false, verbs: ['create'] }),
  r('authentication.k8s.io', 'v1', 'SelfSubjectReview', 'selfsubjectreviews', { namespaced: false, verbs: ['create'] }),
  r('apps', 'v1', 'StatefulSet', 'statefulsets', { shortNames: ['sts'], categories: ['all'], subresources: ['status', 'scale'], hasStatus: true }),
  r('apps', 'v1', 'DaemonSet', 'daemonsets', { shortNames: ['ds'], categories: ['all'], subresources: ['status'], hasStatus: true }),
  r('apps', 'v1', 'ControllerRevision', 'controllerrevisions'),
  r('batch', 'v1', 'Job', 'jobs', { categories: ['all'], subresources: ['status'], hasStatus: true }),
  r('batch', 'v1', 'CronJob', 'cronjobs', { shortNames: ['cj'], categories: ['all'], subresources: ['status'], hasStatus: true }),
  r('', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', { shortNames: ['pvc'], subresources: ['status'], hasStatus: true }),
  r('', 'v1', 'PersistentVolume', 'persistentvolumes', { namespaced: false, shortNames: ['pv'], subresources: ['status'], hasStatus: true }),
  r('storage.k8s.io', 'v1', 'StorageClass', 'storageclasses', { namespaced: false, shortNames: ['sc'] }),
  r('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', { namespaced: false, shortNames: ['crd', 'crds'], categories: ['api-extensions'], subresources: ['status'], hasStatus: true }),
  // autoscaling/v2 is stored and preferred; v1 is the same objects converted (server/strategies/hpa.ts).
  r('autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', { shortNames: ['hpa'], categories: ['all'], subresources: ['status'], hasStatus: true }),
  r('autoscaling', 'v1', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', { shortNames: ['hpa'], categories: ['all'], subresources: ['status'], hasStatus: true }),
  r('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', { shortNames: ['pdb'], subresources: ['status'], hasStatus: true }),
  r('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', { shortNames: ['netpol'] }),
  r('scheduling.k8s.io', 'v1', 'PriorityClass', 'priorityclasses', { namespaced: false, shortNames: ['pc'] }),
];

/** Kinds that are answered on create and never stored (reviews). */
export const REVIEW_GROUPS: ReadonlySet<string> = new Set(['authorization.k8s.io', 'authentication.k8s.io']);

/** Group-versions in the order discovery lists them. */
export function groupVersions(): { group: string; version: string; apiVersion: string }[] {
  const seen = new Map<string, { group: string; version: string; apiVersion: string }>();
  for (const res of RESOURCES) if (!seen.has(res.apiVersion)) seen.set(res.apiVersion, { group: res.group, version: res.version, apiVersion: res.apiVersion });
  return [...seen.values()];
}

export function byPlural(group: string, version: string, plural: string): ResourceInfo | undefined {
  return RESOURCES.find((x) => x.group === group && x.version === version && x.plural === plural);
}

export function byKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return RESOURCES.find((x) => x.apiVersion === apiVersion && x.kind === kind);
}

/** Kind lookup by anything a user types: `po`, `pod`, `pods`, `Pod`, `deployments.apps`, `deploy`. */
export function lookupResource(typed: string): ResourceInfo | undefined {
  const lower = typed.toLowerCase();
  const [name, ...groupParts] = lower.split('.');
  const group = groupParts.join('.');
  return RESOURCES.find(
    (x) =>
      (group === '' || x.group === group) &&
      (x.plural === name || x.singular === name || x.kind.toLowerCase() === name || x.shortNames.includes(name)),
  );
}

/** `deployment.apps`, `pod`: the name kubectl prints before `/name` (`deployment.apps/web created`). */
export function qualifiedSingular(res: ResourceInfo): string {
  return res.group ? `${res.singular}.${res.group}` : res.singular;
}

/** `deployments.apps`, `pods`: the name kubectl uses in NotFound messages. */
export function qualifiedPlural(res: ResourceInfo): string {
  return res.group ? `${res.plural}.${res.group}` : res.plural;
}

/** The list of kinds we serve, for "unknown kind" errors. */
export function servedKinds(): string {
  return RESOURCES.map((x) => `${x.kind} (${x.apiVersion})`).join(', ');
}

function must(apiVersion: string, kind: string): ResourceInfo {
  const res = byKind(apiVersion, kind);
  if (!res) throw new Error(`no resource for ${apiVersion} ${kind}`);
  return res;
}

/** Resources by name, for code that knows what it wants: `client.list(R.pods, ...)`. */
export const R = {
  namespaces: must('v1', 'Namespace'),
  nodes: must('v1', 'Node'),
  pods: must('v1', 'Pod'),
  services: must('v1', 'Service'),
  endpoints: must('v1', 'Endpoints'),
  events: must('v1', 'Event'),
  configmaps: must('v1', 'ConfigMap'),
  secrets: must('v1', 'Secret'),
  deployments: must('apps/v1', 'Deployment'),
  replicasets: must('apps/v1', 'ReplicaSet'),
  endpointslices: must('discovery.k8s.io/v1', 'EndpointSlice'),
  ingresses: must('networking.k8s.io/v1', 'Ingress'),
  ingressclasses: must('networking.k8s.io/v1', 'IngressClass'),
  leases: must('coordination.k8s.io/v1', 'Lease'),
  serviceaccounts: must('v1', 'ServiceAccount'),
  roles: must('rbac.authorization.k8s.io/v1', 'Role'),
  rolebindings: must('rbac.authorization.k8s.io/v1', 'RoleBinding'),
  clusterroles: must('rbac.authorization.k8s.io/v1', 'ClusterRole'),
  clusterrolebindings: must('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'),
  statefulsets: must('apps/v1', 'StatefulSet'),
  daemonsets: must('apps/v1', 'DaemonSet'),
  controllerrevisions: must('apps/v1', 'ControllerRevision'),
  jobs: must('batch/v1', 'Job'),
  cronjobs: must('batch/v1', 'CronJob'),
  persistentvolumeclaims: must('v1', 'PersistentVolumeClaim'),
  persistentvolumes: must('v1', 'PersistentVolume'),
  storageclasses: must('storage.k8s.io/v1', 'StorageClass'),
  customresourcedefinitions: must('apiextensions.k8s.io/v1', 'CustomResourceDefinition'),
  horizontalpodautoscalers: must('autoscaling/v2', 'HorizontalPodAutoscaler'),
  horizontalpodautoscalersV1: must('autoscaling/v1', 'HorizontalPodAutoscaler'),
  poddisruptionbudgets: must('policy/v1', 'PodDisruptionBudget'),
  networkpolicies: must('networking.k8s.io/v1', 'NetworkPolicy'),
  priorityclasses: must('scheduling.k8s.io/v1', 'PriorityClass'),
} as const;
