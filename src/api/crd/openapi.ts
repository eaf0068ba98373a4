// A custom resource version in the OpenAPI v3 documents (what `kubectl explain` and kubectl's
// client-side validation read): the version's schema named as Kubernetes names it
// (`com.example.stable.v1.CronTab`), with apiVersion, kind and a reference to ObjectMeta in place of
// whatever the CRD said about metadata, plus its List. Pure.

import type { ResourceInfo } from '../resources.js';
import type { JSONSchemaProps } from '../types.js';
import { META, REF_PREFIX, type Schema } from '../schema/builders.js';

/** `com.example.stable.v1.CronTab` for group `stable.example.com`, version v1, kind CronTab. */
export function customSchemaName(res: Pick<ResourceInfo, 'group' | 'version' | 'kind'>): string {
  return `${res.group.split('.').reverse().join('.')}.${res.version}.${res.kind}`;
}

export function customResourceComponents(res: ResourceInfo, schema: JSONSchemaProps | undefined): Record<string, Schema> {
  const name = customSchemaName(res);
  const base = structuredClone((schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }) as Schema);
  const props = { ...((base.properties as Record<string, Schema> | undefined) ?? {}) };
  props.apiVersion = { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' };
  props.kind = { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' };
  props.metadata = { allOf: [{ $ref: `${REF_PREFIX}${META}ObjectMeta` }], description: "Standard object's metadata." };
  base.type = 'object';
  base.properties = props;
  base['x-kubernetes-group-version-kind'] = [{ group: res.group, version: res.version, kind: res.kind }];
  return {
    [name]: base,
    [`${name}List`]: {
      type: 'object',
      description: `${res.kind}List is a list of ${res.kind}`,
      required: ['items'],
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { allOf: [{ $ref: `${REF_PREFIX}${META}ListMeta` }], description: 'Standard list metadata.' },
        items: { type: 'array', items: { $ref: REF_PREFIX + name }, description: `List of ${res.plural}.` },
      },
      'x-kubernetes-group-version-kind': [{ group: res.group, version: res.version, kind: res.listKind }],
    },
  };
}
