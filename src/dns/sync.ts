// Feeds the record index from informers (list+watch caches): the query path never touches the API.
// Typed structurally so it works with src/client/informer.ts or any source of add/update/delete.

import type { Endpoints, Pod, Service } from '../api/types.js';
import type { ClusterDNSIndex } from './records.js';

export interface InformerLike<T> {
  on(handlers: { add?(obj: T): void; update?(oldObj: T, newObj: T): void; delete?(obj: T): void }): unknown;
}

export function attachIndex(
  index: ClusterDNSIndex,
  informers: { services: InformerLike<Service>; endpoints: InformerLike<Endpoints>; pods?: InformerLike<Pod> },
): void {
  const ns = (o: { metadata: { namespace?: string } }) => o.metadata.namespace ?? 'default';
  informers.services.on({
    add: (s) => index.upsertService(s),
    update: (_, s) => index.upsertService(s),
    delete: (s) => index.deleteService(ns(s), s.metadata.name ?? ''),
  });
  informers.endpoints.on({
    add: (e) => index.upsertEndpoints(e),
    update: (_, e) => index.upsertEndpoints(e),
    delete: (e) => index.deleteEndpoints(ns(e), e.metadata.name ?? ''),
  });
  informers.pods?.on({
    add: (p) => index.upsertPod(p),
    update: (_, p) => index.upsertPod(p),
    delete: (p) => index.deletePod(ns(p), p.metadata.name ?? ''),
  });
}
