// What it takes to bring the stored kube-dns Service and Endpoints to what the DNS component wants.
// Pure, so that publishing is idempotent (a restart writes nothing when nothing changed) and a
// hand-edited or deleted object is repaired by the same decision.

import type { Endpoints, EndpointSubset, Service, ServicePort } from '../api/types.js';

export type PublishStep<T> =
  | { op: 'none' }
  | { op: 'create'; obj: T }
  /** `obj` is the stored object (resourceVersion kept) with our fields put back. */
  | { op: 'update'; obj: T; why: string }
  /** What we need cannot be reached by an update (clusterIP and type are immutable): delete, then create `obj`. */
  | { op: 'recreate'; obj: T; why: string };

function clone<T>(o: T): T {
  return structuredClone(o);
}

function portKey(p: ServicePort): string {
  return `${p.name ?? ''}/${p.port}/${p.protocol ?? 'TCP'}/${p.targetPort ?? p.port}`;
}

function missingEntries(have: Record<string, string> | undefined, want: Record<string, string> | undefined): string[] {
  return Object.entries(want ?? {})
    .filter(([k, v]) => have?.[k] !== v)
    .map(([k]) => k);
}

export function planService(stored: Service | undefined, desired: Service): PublishStep<Service> {
  if (!stored) return { op: 'create', obj: desired };
  const type = stored.spec?.type ?? 'ClusterIP';
  if (type !== 'ClusterIP') return { op: 'recreate', obj: desired, why: `it is of type ${type}, not ClusterIP` };
  if (stored.spec.clusterIP !== desired.spec.clusterIP) return { op: 'recreate', obj: desired, why: `its clusterIP is ${stored.spec.clusterIP ?? 'unset'}, not ${desired.spec.clusterIP}` };
  const why: string[] = [];
  const have = (stored.spec.ports ?? []).map(portKey).sort().join(',');
  const want = (desired.spec.ports ?? []).map(portKey).sort().join(',');
  if (have !== want) why.push(`ports ${have || 'none'} -> ${want}`);
  if (stored.spec.selector && Object.keys(stored.spec.selector).length > 0) why.push('it has a selector (its Endpoints are ours)');
  const labels = missingEntries(stored.metadata.labels, desired.metadata.labels);
  if (labels.length) why.push(`labels ${labels.join(',')}`);
  const annotations = missingEntries(stored.metadata.annotations, desired.metadata.annotations);
  if (annotations.length) why.push(`annotations ${annotations.join(',')}`);
  if (!why.length) return { op: 'none' };
  const obj = clone(stored);
  obj.metadata.labels = { ...obj.metadata.labels, ...desired.metadata.labels };
  if (desired.metadata.annotations) obj.metadata.annotations = { ...obj.metadata.annotations, ...desired.metadata.annotations };
  obj.spec.ports = clone(desired.spec.ports);
  delete obj.spec.selector;
  return { op: 'update', obj, why: why.join('; ') };
}

function subsetKey(s: EndpointSubset): string {
  const addrs = (s.addresses ?? []).map((a) => `${a.ip}@${a.nodeName ?? ''}`).sort();
  const notReady = (s.notReadyAddresses ?? []).map((a) => a.ip).sort();
  const ports = (s.ports ?? []).map((p) => `${p.name ?? ''}/${p.port}/${p.protocol ?? 'TCP'}`).sort();
  return `${addrs.join(',')}|${notReady.join(',')}|${ports.join(',')}`;
}

export function planEndpoints(stored: Endpoints | undefined, desired: Endpoints): PublishStep<Endpoints> {
  if (!stored) return { op: 'create', obj: desired };
  const why: string[] = [];
  const have = (stored.subsets ?? []).map(subsetKey).sort().join(' ');
  const want = (desired.subsets ?? []).map(subsetKey).sort().join(' ');
  if (have !== want) why.push(`subsets ${have || 'none'} -> ${want}`);
  const labels = missingEntries(stored.metadata.labels, desired.metadata.labels);
  if (labels.length) why.push(`labels ${labels.join(',')}`);
  if (!why.length) return { op: 'none' };
  const obj = clone(stored);
  obj.metadata.labels = { ...obj.metadata.labels, ...desired.metadata.labels };
  obj.subsets = clone(desired.subsets);
  return { op: 'update', obj, why: why.join('; ') };
}
