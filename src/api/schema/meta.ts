// meta/v1 component schemas shared by every kind.

import { arr, bool, freeForm, int64, keyedList, META, obj, ref, str, strMap, strs, time, type Schema } from './builders.js';

export function metaSchemas(): Record<string, Schema> {
  return {
    [`${META}ObjectMeta`]: obj(
      {
        name: str('Name must be unique within a namespace.'),
        generateName: str('Optional prefix the server uses to generate a unique name when name is not provided.'),
        namespace: str('Namespace defines the space within which each name must be unique.'),
        selfLink: str('Deprecated; never set by this server.'),
        uid: str('UID is the unique in time and space value for this object, set by the server.'),
        resourceVersion: str('An opaque value that represents the internal version of this object.'),
        generation: int64('A sequence number representing a specific generation of the desired state.'),
        creationTimestamp: time('Time at which this object was created, set by the server.'),
        deletionTimestamp: time('RFC 3339 date and time at which this resource will be deleted, set by the server.'),
        deletionGracePeriodSeconds: int64('Seconds allowed for this object to terminate gracefully before removal.'),
        labels: strMap('Map of string keys and values used to organize and select objects.'),
        annotations: strMap('Unstructured key value map set by external tools.'),
        ownerReferences: keyedList(ref(`${META}OwnerReference`), 'uid', 'Objects depended on by this object.'),
        finalizers: arr(str(), { type: 'set', strategy: 'merge', description: 'Must be empty before the object is deleted from the registry.' }),
        managedFields: arr(ref(`${META}ManagedFieldsEntry`), { type: 'atomic', description: 'Field ownership, kept but not interpreted.' }),
      },
      { description: 'ObjectMeta is metadata that all persisted resources must have.' },
    ),
    [`${META}OwnerReference`]: obj(
      {
        apiVersion: str('API version of the referent.'),
        kind: str('Kind of the referent.'),
        name: str('Name of the referent.'),
        uid: str('UID of the referent.'),
        controller: bool('If true, this reference points to the managing controller.'),
        blockOwnerDeletion: bool('If true, the owner cannot be deleted from storage until this reference is removed.'),
      },
      { required: ['apiVersion', 'kind', 'name', 'uid'] },
    ),
    [`${META}ManagedFieldsEntry`]: obj({
      apiVersion: str(),
      fieldsType: str(),
      fieldsV1: freeForm(),
      manager: str(),
      operation: str(),
      subresource: str(),
      time: time(),
    }),
    [`${META}LabelSelector`]: {
      ...obj(
        {
          matchLabels: strMap('Map of {key,value} pairs, each equivalent to an In requirement with one value.'),
          matchExpressions: arr(ref(`${META}LabelSelectorRequirement`), { type: 'atomic', description: 'A list of label selector requirements, ANDed.' }),
        },
        { description: 'A label query over a set of resources. An empty selector matches all objects.' },
      ),
      'x-kubernetes-map-type': 'atomic',
    },
    [`${META}LabelSelectorRequirement`]: obj(
      {
        key: str('The label key that the selector applies to.'),
        operator: str('One of In, NotIn, Exists and DoesNotExist.'),
        values: strs('Values for In and NotIn; must be empty for Exists and DoesNotExist.'),
      },
      { required: ['key', 'operator'] },
    ),
    [`${META}Condition`]: obj(
      {
        type: str(),
        status: str(),
        observedGeneration: int64(),
        lastTransitionTime: time(),
        reason: str(),
        message: str(),
      },
      { required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'] },
    ),
  };
}
