// Response shapes kubectl negotiates with `Accept`: the plain object, a meta.k8s.io/v1 Table (what
// `kubectl get` prints), or PartialObjectMetadata. Kept apart from routing so watch events reuse it.

import type { KObject } from '../api/types.js';
import type { ResourceInfo } from '../api/resources.js';
import { printerFor } from '../api/printers.js';
import { errors } from '../api/errors.js';

export type Shape = { as: 'object' } | { as: 'table'; include: 'None' | 'Metadata' | 'Object' } | { as: 'metadata' };

/** Picks the first media type in Accept we can produce (kubectl lists Table first, plain JSON last). */
export function negotiate(accept: string | undefined, includeObject: string | undefined): Shape {
  if (!accept) return { as: 'object' };
  const include = includeObject === 'None' || includeObject === 'Object' ? includeObject : 'Metadata';
  let sawJson = false;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    const p = Object.fromEntries(params.map((kv) => kv.split('=').map((s) => s.trim())));
    if (type !== 'application/json' && type !== '*/*' && type !== 'application/*') continue;
    if (p.as === 'Table' && (p.g ?? 'meta.k8s.io') === 'meta.k8s.io') return { as: 'table', include };
    if ((p.as === 'PartialObjectMetadata' || p.as === 'PartialObjectMetadataList') && (p.g ?? 'meta.k8s.io') === 'meta.k8s.io') return { as: 'metadata' };
    if (!p.as) sawJson = true;
  }
  if (sawJson) return { as: 'object' };
  if (/application\/(yaml|vnd\.kubernetes\.protobuf)/.test(accept) && !/json|\*\/\*/.test(accept)) {
    throw errors.notAcceptable('only the following media types are accepted: application/json, application/json;as=Table;v=v1;g=meta.k8s.io');
  }
  return { as: 'object' };
}

function partial(obj: KObject): KObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export function toTable(res: ResourceInfo, items: KObject[], resourceVersion: string | undefined, include: 'None' | 'Metadata' | 'Object', withColumns = true): KObject {
  const printer = printerFor(res);
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    ...(withColumns ? { columnDefinitions: printer.columns } : { columnDefinitions: [] }),
    rows: items.map((o) => ({
      cells: printer.cells(o, now),
      ...(include === 'None' ? {} : { object: include === 'Object' ? o : partial(o) }),
    })),
  };
}

export function shapeList(res: ResourceInfo, list: { metadata: { resourceVersion?: string }; items: KObject[] }, shape: Shape): unknown {
  if (shape.as === 'table') return toTable(res, list.items, list.metadata.resourceVersion, shape.include);
  if (shape.as === 'metadata') {
    return { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: list.metadata, items: list.items.map(partial) };
  }
  return list;
}

export function shapeObject(res: ResourceInfo, obj: KObject, shape: Shape): unknown {
  if (shape.as === 'table' && obj.kind === res.kind) return toTable(res, [obj], obj.metadata.resourceVersion, shape.include);
  if (shape.as === 'metadata' && obj.kind === res.kind) return partial(obj);
  return obj;
}
