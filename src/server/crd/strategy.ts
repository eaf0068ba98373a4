// The registry strategy of one served version of a custom resource: its schema's defaults, pruning
// and validation instead of the built-in rules, the scale subresource through the CRD's JSON paths,
// merge/JSON/apply patches only (there is no strategic merge patch for custom resources: 415, as
// Kubernetes answers), creates refused while the definition is being deleted, and objects stored in
// the storage version (conversion None: only apiVersion changes).

import type { CustomResourceDefinition, CustomResourceDefinitionVersion, KObject, Scale, StatusCause } from '../../api/types.js';
import type { ResourceInfo } from '../../api/resources.js';
import { errors } from '../../api/errors.js';
import { customSchemaCauses, defaultAndFindUnknown } from '../../api/crd/schema.js';
import { validateObjectMeta } from '../../api/validation/index.js';
import { validateMetaUpdate } from '../../api/validation/update.js';
import { clone } from '../../util/equal.js';
import type { RegistryStrategy } from '../strategy.js';

/** `.spec.replicas` -> ['spec', 'replicas'] (the CRD validation allows only simple paths). */
function segments(path: string): string[] {
  return path.split('.').filter(Boolean);
}

export function readPath(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const seg of segments(path)) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
  return cur;
}

export function writePath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const segs = segments(path);
  let cur = obj;
  for (const seg of segs.slice(0, -1)) {
    const next = cur[seg];
    if (!next || typeof next !== 'object' || Array.isArray(next)) cur[seg] = {};
    cur = cur[seg] as Record<string, unknown>;
  }
  cur[segs[segs.length - 1]] = value;
}

export interface CustomStrategyOptions {
  res: ResourceInfo;
  version: CustomResourceDefinitionVersion;
  storageApiVersion: string;
  /** Several versions share the store: objects cross it with their apiVersion rewritten. */
  convert: boolean;
  /** The current definition (read at each create: a CRD being deleted refuses new objects). */
  definition(): CustomResourceDefinition | undefined;
}

export function customResourceStrategy(o: CustomStrategyOptions): RegistryStrategy {
  const schema = o.version.schema?.openAPIV3Schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const scale = o.version.subresources?.scale;
  const deprecation = o.version.deprecated ? (o.version.deprecationWarning ?? `${o.res.apiVersion} ${o.res.kind} is deprecated`) : undefined;
  const strategy: RegistryStrategy = {
    patchTypes: ['merge', 'json', 'apply'],

    checkCreate() {
      const crd = o.definition();
      if (crd?.metadata.deletionTimestamp) {
        throw errors.methodNotAllowed(`create not allowed while custom resource definition is terminating`);
      }
    },

    defaults(obj) {
      defaultAndFindUnknown(obj as Record<string, unknown>, schema);
    },

    validate(obj, old) {
      const unknownFields = defaultAndFindUnknown(obj as Record<string, unknown>, schema);
      const causes: StatusCause[] = [...validateObjectMeta(o.res, obj.metadata)];
      // The schema speaks of everything but metadata (ObjectMeta's own rules cover it).
      const { metadata: _m, ...body } = obj;
      causes.push(...customSchemaCauses(schema, body));
      if (old) causes.push(...validateMetaUpdate(obj, old));
      return { causes, unknownFields };
    },

    warnings() {
      return deprecation ? [deprecation] : [];
    },
  };
  if (scale) {
    strategy.scale = {
      toScale(obj: KObject): Scale {
        const replicas = readPath(obj, scale.specReplicasPath);
        const current = readPath(obj, scale.statusReplicasPath);
        const selector = scale.labelSelectorPath ? readPath(obj, scale.labelSelectorPath) : undefined;
        return {
          apiVersion: 'autoscaling/v1',
          kind: 'Scale',
          metadata: {
            name: obj.metadata.name,
            namespace: obj.metadata.namespace,
            uid: obj.metadata.uid,
            resourceVersion: obj.metadata.resourceVersion,
            creationTimestamp: obj.metadata.creationTimestamp,
          },
          spec: { replicas: typeof replicas === 'number' ? replicas : 0 },
          status: { replicas: typeof current === 'number' ? current : 0, selector: typeof selector === 'string' ? selector : '' },
        };
      },
      withReplicas(obj: KObject, replicas: number): KObject {
        const next = clone(obj);
        writePath(next as Record<string, unknown>, scale.specReplicasPath, replicas);
        return next;
      },
    };
  }
  if (o.convert) {
    strategy.conversion = {
      toStorage: (obj) => (obj.apiVersion === o.storageApiVersion ? obj : { ...obj, apiVersion: o.storageApiVersion }),
      fromStorage: (obj) => (obj.apiVersion === o.res.apiVersion ? obj : { ...obj, apiVersion: o.res.apiVersion }),
    };
  }
  return strategy;
}
