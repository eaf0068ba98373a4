// apiextensions.k8s.io/v1 CustomResourceDefinition, with JSONSchemaProps as Kubernetes publishes it
// (recursive through $ref), so unknown keywords in a CRD's schema are caught like any unknown field.

import { APIEXTENSIONS, arr, bool, enumOf, int, int64, keyedList, num, obj, ref, root, str, strs, time, type Schema } from './builders.js';

const x = (name: string, description?: string) => ref(APIEXTENSIONS + name, description);
/** Any JSON value (defaults, enums, examples): no type, nothing refused. */
const anyJSON = (description: string): Schema => ({ description, 'x-kubernetes-preserve-unknown-fields': true });

export function apiextensionsSchemas(): Record<string, Schema> {
  const props = x('JSONSchemaProps');
  return {
    [`${APIEXTENSIONS}CustomResourceDefinition`]: root(
      { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition' },
      'CustomResourceDefinition represents a resource that should be exposed on the API server. Its name MUST be in the format <.spec.name>.<.spec.group>.',
      {
        spec: x('CustomResourceDefinitionSpec', 'spec describes how the user wants the resources to appear'),
        status: x('CustomResourceDefinitionStatus', 'status indicates the actual state of the CustomResourceDefinition'),
      },
      ['spec'],
    ),
    [`${APIEXTENSIONS}CustomResourceDefinitionSpec`]: obj(
      {
        group: str('group is the API group of the defined custom resource. The custom resources are served under `/apis/<group>/...`. Must match the name of the CustomResourceDefinition (in the form `<names.plural>.<group>`).'),
        names: x('CustomResourceDefinitionNames', 'names specify the resource and kind names for the custom resource.'),
        scope: enumOf(['Cluster', 'Namespaced'], 'scope indicates whether the defined custom resource is cluster- or namespace-scoped. Allowed values are `Cluster` and `Namespaced`.'),
        versions: arr(x('CustomResourceDefinitionVersion'), { type: 'atomic', description: 'versions is the list of all API versions of the defined custom resource. Exactly one version is the storage version.' }),
        conversion: x('CustomResourceConversion', 'conversion defines conversion settings for the CRD (kubelite supports strategy None).'),
        preserveUnknownFields: bool('preserveUnknownFields indicates that object fields which are not specified in the OpenAPI schema should be preserved when persisting to storage (must be false in v1).'),
      },
      { required: ['group', 'names', 'scope', 'versions'] },
    ),
    [`${APIEXTENSIONS}CustomResourceDefinitionNames`]: obj(
      {
        plural: str('plural is the plural name of the resource to serve (`/apis/<group>/<version>/.../<plural>`); all lowercase.'),
        singular: str('singular is the singular name of the resource; all lowercase. Defaults to lowercased `kind`.'),
        shortNames: strs('shortNames are short names for the resource, exposed in API discovery documents, and used by clients to support invocations like `kubectl get <shortname>`.'),
        kind: str('kind is the serialized kind of the resource. It is normally CamelCase and singular.'),
        listKind: str('listKind is the serialized kind of the list for this resource. Defaults to "`kind`List".'),
        categories: strs('categories is a list of grouped resources this custom resource belongs to (e.g. `all`).'),
      },
      { required: ['plural', 'kind'] },
    ),
    [`${APIEXTENSIONS}CustomResourceDefinitionVersion`]: obj(
      {
        name: str('name is the version name, e.g. "v1", "v2beta1". Custom resources are served under this version at `/apis/<group>/<version>/...`.'),
        served: bool('served is a flag enabling/disabling this version from being served via REST APIs'),
        storage: bool('storage indicates this version should be used when persisting custom resources to storage. There must be exactly one version with storage=true.'),
        deprecated: bool('deprecated indicates this version of the custom resource API is deprecated.'),
        deprecationWarning: str('deprecationWarning overrides the default warning returned to API clients.'),
        schema: obj({ openAPIV3Schema: props }, { description: 'schema describes the schema used for validation, pruning, and defaulting of this version of the custom resource.' }),
        subresources: x('CustomResourceSubresources', 'subresources specify what subresources this version of the defined custom resource have.'),
        additionalPrinterColumns: arr(x('CustomResourceColumnDefinition'), { type: 'atomic', description: 'additionalPrinterColumns specifies additional columns returned in Table output. If no columns are specified, a single column displaying the age of the custom resource is used.' }),
        selectableFields: arr(obj({ jsonPath: str() }, { required: ['jsonPath'] }), { type: 'atomic', description: 'selectableFields specifies paths to fields that may be used as field selectors.' }),
      },
      { required: ['name', 'served', 'storage'] },
    ),
    [`${APIEXTENSIONS}CustomResourceSubresources`]: obj({
      status: { type: 'object', description: 'status indicates the custom resource should serve a `/status` subresource.', 'x-kubernetes-preserve-unknown-fields': true },
      scale: obj(
        {
          specReplicasPath: str('specReplicasPath defines the JSON path inside of a custom resource that corresponds to Scale `spec.replicas`. Only JSON paths without the array notation are allowed. Must be a JSON Path under `.spec`.'),
          statusReplicasPath: str('statusReplicasPath defines the JSON path inside of a custom resource that corresponds to Scale `status.replicas`. Must be a JSON Path under `.status`.'),
          labelSelectorPath: str('labelSelectorPath defines the JSON path inside of a custom resource that corresponds to Scale `status.selector`. Must be a JSON Path under `.status` or `.spec`.'),
        },
        { required: ['specReplicasPath', 'statusReplicasPath'], description: 'scale indicates the custom resource should serve a `/scale` subresource that returns an `autoscaling/v1` Scale object.' },
      ),
    }),
    [`${APIEXTENSIONS}CustomResourceColumnDefinition`]: obj(
      {
        name: str('name is a human readable name for the column.'),
        type: str('type is an OpenAPI type definition for this column: integer, number, string, boolean or date.'),
        format: str('format is an optional OpenAPI type definition for this column.'),
        description: str('description is a human readable description of this column.'),
        priority: int('priority is an integer defining the relative importance of this column compared to others; columns with priority greater than 0 are shown only with `-o wide`.'),
        jsonPath: str('jsonPath is a simple JSON path (i.e. with array notation) which is evaluated against each custom resource to produce the value for this column.'),
      },
      { required: ['name', 'type', 'jsonPath'] },
    ),
    [`${APIEXTENSIONS}CustomResourceConversion`]: obj(
      {
        strategy: str('strategy specifies how custom resources are converted between versions: None or Webhook.'),
        webhook: anyJSON('webhook describes how to call the conversion webhook (not supported by kubelite).'),
      },
      { required: ['strategy'] },
    ),
    [`${APIEXTENSIONS}CustomResourceDefinitionStatus`]: obj({
      conditions: keyedList(x('CustomResourceDefinitionCondition'), 'type', 'conditions indicate state for particular aspects of a CustomResourceDefinition'),
      acceptedNames: x('CustomResourceDefinitionNames', 'acceptedNames are the names that are actually being used to serve discovery.'),
      storedVersions: strs('storedVersions lists all versions of CustomResources that were ever persisted.'),
    }),
    [`${APIEXTENSIONS}CustomResourceDefinitionCondition`]: obj(
      {
        type: str('type is the type of the condition: Established, NamesAccepted, Terminating.'),
        status: str('status is the status of the condition: True, False, Unknown.'),
        lastTransitionTime: time('lastTransitionTime last time the condition transitioned from one status to another.'),
        reason: str("reason is a unique, one-word, CamelCase reason for the condition's last transition."),
        message: str('message is a human-readable message indicating details about last transition.'),
        observedGeneration: int64(),
      },
      { required: ['type', 'status'] },
    ),
    [`${APIEXTENSIONS}JSONSchemaProps`]: obj({
      id: str(),
      $schema: str(),
      description: str(),
      type: str(),
      format: str('format is an OpenAPI v3 format string (int32, int64, date-time, byte, ...).'),
      title: str(),
      default: anyJSON('default is a default value for undefined object fields.'),
      maximum: num(),
      exclusiveMaximum: bool(),
      minimum: num(),
      exclusiveMinimum: bool(),
      maxLength: int64(),
      minLength: int64(),
      pattern: str(),
      maxItems: int64(),
      minItems: int64(),
      uniqueItems: bool(),
      multipleOf: num(),
      enum: arr(anyJSON('an allowed value'), { type: 'atomic' }),
      maxProperties: int64(),
      minProperties: int64(),
      required: strs(),
      items: anyJSON('a JSONSchemaProps, or an array of them'),
      allOf: arr(props, { type: 'atomic' }),
      oneOf: arr(props, { type: 'atomic' }),
      anyOf: arr(props, { type: 'atomic' }),
      not: props,
      properties: { type: 'object', additionalProperties: props },
      additionalProperties: anyJSON('a JSONSchemaProps, or a boolean'),
      patternProperties: { type: 'object', additionalProperties: props },
      dependencies: anyJSON('schema dependencies (not allowed in structural schemas)'),
      additionalItems: anyJSON('a JSONSchemaProps, or a boolean'),
      definitions: { type: 'object', additionalProperties: props },
      externalDocs: obj({ description: str(), url: str() }),
      example: anyJSON('an example value'),
      nullable: bool(),
      'x-kubernetes-preserve-unknown-fields': bool('keep fields the schema does not declare (stops pruning at this node)'),
      'x-kubernetes-embedded-resource': bool('the value is an embedded Kubernetes object with apiVersion, kind and metadata'),
      'x-kubernetes-int-or-string': bool('the value is an integer or a string'),
      'x-kubernetes-list-map-keys': strs(),
      'x-kubernetes-list-type': str(),
      'x-kubernetes-map-type': str(),
      'x-kubernetes-validations': arr(
        obj({ rule: str(), message: str(), messageExpression: str(), reason: str(), fieldPath: str(), optionalOldSelf: bool() }, { required: ['rule'] }),
        { type: 'map', keys: ['rule'], mergeKey: 'rule' },
      ),
    }),
  };
}
