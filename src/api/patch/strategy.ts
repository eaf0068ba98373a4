// The strategic-merge-patch strategy of every list (and the few special maps) of the kinds we serve,
// transcribed from the `patchStrategy`/`patchMergeKey` struct tags of k8s.io/api v1.32 (the same
// values the OpenAPI documents publish as x-kubernetes-patch-strategy / -merge-key). A list with no
// entry is atomic: a patch replaces it whole, exactly as Kubernetes treats an untagged list.

import type { ResourceInfo } from '../resources.js';

export type PatchStrategy = 'merge' | 'replace' | 'retainKeys';

export interface FieldStrategy {
  /** `merge`: a list merged element-wise (by `key` for maps, as a set for primitives); `replace`:
   * atomic; `retainKeys`: a map whose absent keys a `$retainKeys` directive clears. */
  strategy: PatchStrategy;
  /** The merge key of a list of maps. */
  key?: string;
  /** Kubernetes' `merge,retainKeys`: each element (or this map) carries `$retainKeys` in patches. */
  retainKeys?: boolean;
  /** Server-side apply's list-map keys (`x-kubernetes-list-map-keys`) where they differ from `key`. */
  listMapKeys?: string[];
}

/** A trie of field names; list elements share their list's node (paths carry no indices). */
export interface SchemaNode {
  field?: FieldStrategy;
  children: Map<string, SchemaNode>;
}

type Table = Record<string, FieldStrategy>;

const atomic: FieldStrategy = { strategy: 'replace' };
const byKey = (key: string, extra: Partial<FieldStrategy> = {}): FieldStrategy => ({ strategy: 'merge', key, ...extra });
const set: FieldStrategy = { strategy: 'merge' };

function under(prefix: string, table: Table): Table {
  const out: Table = {};
  for (const [path, meta] of Object.entries(table)) out[`${prefix}.${path}`] = meta;
  return out;
}

const objectMeta: Table = {
  finalizers: set,
  ownerReferences: byKey('uid'),
  managedFields: atomic,
};

const container: Table = {
  ports: byKey('containerPort', { listMapKeys: ['containerPort', 'protocol'] }),
  env: byKey('name'),
  envFrom: atomic,
  volumeMounts: byKey('mountPath'),
  volumeDevices: byKey('devicePath'),
  resizePolicy: atomic,
  command: atomic,
  args: atomic,
};

const podSpec: Table = {
  volumes: byKey('name', { retainKeys: true }),
  containers: byKey('name'),
  ...under('containers', container),
  initContainers: byKey('name'),
  ...under('initContainers', container),
  ephemeralContainers: byKey('name'),
  ...under('ephemeralContainers', container),
  imagePullSecrets: byKey('name'),
  hostAliases: byKey('ip'),
  tolerations: atomic,
  topologySpreadConstraints: byKey('topologyKey', { listMapKeys: ['topologyKey', 'whenUnsatisfiable'] }),
  schedulingGates: byKey('name'),
  resourceClaims: byKey('name', { retainKeys: true }),
  readinessGates: atomic,
};

const podStatus: Table = {
  conditions: byKey('type'),
  podIPs: byKey('ip'),
  hostIPs: byKey('ip'),
  initContainerStatuses: atomic,
  containerStatuses: atomic,
  ephemeralContainerStatuses: atomic,
  resourceClaimStatuses: byKey('name', { retainKeys: true }),
};

const podTemplate: Table = { ...under('metadata', objectMeta), ...under('spec', podSpec) };
const conditionsByType: Table = { conditions: byKey('type') };

/** Keyed by `group/Kind` ('' group for core). Every kind also gets `metadata` (ObjectMeta). */
const TABLES: Record<string, Table> = {
  '/Pod': { ...under('spec', podSpec), ...under('status', podStatus) },
  '/Service': {
    'spec.ports': byKey('port', { listMapKeys: ['port', 'protocol'] }),
    'spec.externalIPs': atomic,
    'spec.clusterIPs': atomic,
    'spec.ipFamilies': atomic,
    'spec.loadBalancerSourceRanges': atomic,
    ...under('status', conditionsByType),
    'status.loadBalancer.ingress': atomic,
  },
  '/Endpoints': { subsets: atomic },
  '/Node': {
    'spec.podCIDRs': set,
    'spec.taints': atomic,
    'status.conditions': byKey('type'),
    'status.addresses': byKey('type'),
    'status.volumesAttached': atomic,
    'status.volumesInUse': atomic,
    'status.images': atomic,
  },
  '/Namespace': { 'spec.finalizers': atomic, ...under('status', conditionsByType) },
  'apps/Deployment': {
    'spec.strategy': { strategy: 'retainKeys', retainKeys: true },
    ...under('spec.template', podTemplate),
    ...under('status', conditionsByType),
  },
  'apps/ReplicaSet': { ...under('spec.template', podTemplate), ...under('status', conditionsByType) },
  'apps/StatefulSet': { ...under('spec.template', podTemplate), ...under('status', conditionsByType) },
  'apps/DaemonSet': { ...under('spec.template', podTemplate), ...under('status', conditionsByType) },
  'batch/Job': { ...under('spec.template', podTemplate), ...under('status', conditionsByType) },
  'batch/CronJob': { ...under('spec.jobTemplate.spec.template', podTemplate), 'status.active': atomic },
  '/PersistentVolumeClaim': { ...under('status', conditionsByType) },
  'discovery.k8s.io/EndpointSlice': { endpoints: atomic, ports: atomic },
  'networking.k8s.io/Ingress': {
    'spec.tls': atomic,
    'spec.rules': atomic,
    'status.loadBalancer.ingress': atomic,
  },
  // autoscaling/v1 has no status.conditions (they ride in an annotation): the table is v2's alone.
  'autoscaling/v2/HorizontalPodAutoscaler': { ...under('status', conditionsByType) },
  'policy/PodDisruptionBudget': { ...under('status', conditionsByType) },
  'apiextensions.k8s.io/CustomResourceDefinition': { ...under('status', conditionsByType) },
};

function build(table: Table): SchemaNode {
  const root: SchemaNode = { children: new Map() };
  for (const [path, meta] of Object.entries({ ...under('metadata', objectMeta), ...table })) {
    let node = root;
    for (const name of path.split('.')) {
      let next = node.children.get(name);
      if (!next) node.children.set(name, (next = { children: new Map() }));
      node = next;
    }
    node.field = meta;
  }
  return root;
}

const schemas = new Map<string, SchemaNode>();

type KindRef = Pick<ResourceInfo, 'group' | 'kind'> & { version?: string };

/** The table of a kind: one keyed `group/version/Kind` (a version of its own) before `group/Kind`. */
function tableId(res: KindRef | undefined): string {
  if (!res) return '';
  const versioned = res.version ? `${res.group}/${res.version}/${res.kind}` : '';
  if (versioned && TABLES[versioned]) return versioned;
  return TABLES[`${res.group}/${res.kind}`] ? `${res.group}/${res.kind}` : '';
}

/** The strategy trie of a kind; kinds without a table (and `undefined`) get only ObjectMeta's. */
export function schemaFor(res: KindRef | undefined): SchemaNode {
  const id = tableId(res);
  let schema = schemas.get(id);
  if (!schema) schemas.set(id, (schema = build(id ? TABLES[id] : {})));
  return schema;
}

/** Whether we know list strategies for this kind (kubectl sends merge patches for kinds it does not know). */
export function hasStrategy(res: KindRef): boolean {
  return tableId(res) !== '';
}

/**
 * The patch strategy of the field at `path` (field names from the object root, no list indices:
 * `['spec','template','spec','containers','env']`), or undefined for a field with the default
 * behaviour (maps merge, lists are replaced).
 */
export function mergeKeyFor(res: KindRef | undefined, path: string[]): FieldStrategy | undefined {
  let node: SchemaNode | undefined = schemaFor(res);
  for (const name of path) {
    node = node.children.get(name);
    if (!node) return undefined;
  }
  return node.field;
}
