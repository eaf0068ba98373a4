// The component schemas of every served kind, named as in Kubernetes' OpenAPI v3
// (`io.k8s.api.core.v1.Pod`), with `$ref`s of the form `#/components/schemas/<name>` between them,
// so a group-version's OpenAPI document is `{ components: { schemas: schemasForGroupVersion(gv) } }`.

import type { ResourceInfo } from '../resources.js';
import { RESOURCES } from '../resources.js';
import { appsSchemas } from './apps.js';
import { APIEXTENSIONS, APPS, AUTHN, AUTHZ, AUTOSCALING_V1, AUTOSCALING_V2, BATCH, CORE, COORDINATION, DISCOVERY, NET, POLICY, RBAC, REF_PREFIX, SCHEDULING, STORAGE, type Schema } from './builders.js';
import { apiextensionsSchemas } from './apiextensions.js';
import { autoscalingSchemas } from './autoscaling.js';
import { policySchemas } from './policy.js';
import { accountSchemas } from './accounts.js';
import { batchSchemas } from './batch.js';
import { storageSchemas } from './storage.js';
import { workloadSchemas } from './workloads.js';
import { coordinationSchemas } from './coordination.js';
import { clusterSchemas } from './cluster.js';
import { metaSchemas } from './meta.js';
import { networkingSchemas } from './networking.js';
import { podSchemas } from './pod.js';
import { serviceSchemas } from './service.js';
import { volumeSchemas } from './volume.js';

export type { Schema } from './builders.js';
export { REF_PREFIX } from './builders.js';

let cache: Record<string, Schema> | undefined;

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as object)) deepFreeze(x);
  }
  return v;
}

/** Every component schema by name. Frozen and shared: copy before changing. */
export function allSchemas(): Record<string, Schema> {
  if (!cache) {
    cache = deepFreeze({
      ...metaSchemas(),
      ...podSchemas(),
      ...volumeSchemas(),
      ...serviceSchemas(),
      ...clusterSchemas(),
      ...appsSchemas(),
      ...networkingSchemas(),
      ...coordinationSchemas(),
      ...accountSchemas(),
      ...workloadSchemas(),
      ...batchSchemas(),
      ...storageSchemas(),
      ...apiextensionsSchemas(),
      ...autoscalingSchemas(),
      ...policySchemas(),
    });
  }
  return cache;
}

const GROUP_PREFIX: Record<string, string> = {
  '': CORE,
  apps: APPS,
  'networking.k8s.io': NET,
  'discovery.k8s.io': DISCOVERY,
  'coordination.k8s.io': COORDINATION,
  'rbac.authorization.k8s.io': RBAC,
  'authorization.k8s.io': AUTHZ,
  'authentication.k8s.io': AUTHN,
  batch: BATCH,
  'storage.k8s.io': STORAGE,
  'apiextensions.k8s.io': APIEXTENSIONS,
  policy: POLICY,
  'scheduling.k8s.io': SCHEDULING,
};

/** Groups served in more than one version: the prefix of each. */
const GROUP_VERSION_PREFIX: Record<string, string> = {
  'autoscaling/v2': AUTOSCALING_V2,
  'autoscaling/v1': AUTOSCALING_V1,
};

/** `io.k8s.api.core.v1.Pod` for pods. */
export function schemaName(res: ResourceInfo): string {
  const prefix = GROUP_VERSION_PREFIX[res.apiVersion] ?? (res.version === 'v1' ? GROUP_PREFIX[res.group] : undefined);
  if (!prefix) throw new Error(`no schema for ${res.apiVersion} ${res.kind}`);
  return prefix + res.kind;
}

/** Whether the built-in schemas describe this resource (custom resources bring their own). */
export function hasSchema(res: ResourceInfo): boolean {
  const prefix = GROUP_VERSION_PREFIX[res.apiVersion] ?? (res.version === 'v1' ? GROUP_PREFIX[res.group] : undefined);
  return !!prefix && allSchemas()[prefix + res.kind] !== undefined;
}

/** The root schema of a kind; its `$ref`s point into `#/components/schemas/` (see allSchemas). */
export function schemaFor(res: ResourceInfo): Schema {
  const s = allSchemas()[schemaName(res)];
  if (!s) throw new Error(`no schema for ${res.apiVersion} ${res.kind}`);
  return s;
}

function collectRefs(node: unknown, out: Set<string>): void {
  if (Array.isArray(node)) {
    for (const x of node) collectRefs(x, out);
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith(REF_PREFIX)) out.add(v.slice(REF_PREFIX.length));
      else collectRefs(v, out);
    }
  }
}

/** The named schemas plus everything they reference, transitively. */
export function schemaClosure(names: string[]): Record<string, Schema> {
  const all = allSchemas();
  const out: Record<string, Schema> = {};
  const queue = [...names];
  while (queue.length) {
    const name = queue.pop()!;
    if (out[name]) continue;
    const s = all[name];
    if (!s) throw new Error(`unknown schema ${name}`);
    out[name] = s;
    const refs = new Set<string>();
    collectRefs(s, refs);
    for (const r of refs) if (!out[r]) queue.push(r);
  }
  return out;
}

/** The components of one group-version's OpenAPI v3 document (`v1`, `apps/v1`, ...). */
export function schemasForGroupVersion(apiVersion: string): Record<string, Schema> {
  const roots = RESOURCES.filter((r) => r.apiVersion === apiVersion).map(schemaName);
  const closure = schemaClosure(roots);
  return Object.fromEntries(Object.keys(closure).sort().map((k) => [k, closure[k]]));
}
