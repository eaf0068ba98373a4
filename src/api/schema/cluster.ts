// core/v1 Node, Namespace, Event, ConfigMap and Secret.

import { arr, bool, bytes, CORE, enumOf, int, int64, keyedList, map, obj, quantity, ref, root, str, strMap, strs, time, type Schema } from './builders.js';

const c = (name: string, description?: string) => ref(CORE + name, description);

function conditionFields(): Record<string, Schema> {
  return { type: str(), status: str(), lastTransitionTime: time(), reason: str(), message: str() };
}

export function clusterSchemas(): Record<string, Schema> {
  return {
    [`${CORE}Node`]: root(
      { group: '', version: 'v1', kind: 'Node' },
      'Node is a worker node: here, a Docker host running a kubelite agent.',
      {
        spec: c('NodeSpec', 'Spec defines the behavior of a node.'),
        status: c('NodeStatus', 'Most recently observed status of the node.'),
      },
    ),
    [`${CORE}NodeSpec`]: obj({
      podCIDR: str('The pod IP range assigned to the node.'),
      podCIDRs: arr(str(), { type: 'set', strategy: 'merge', description: 'The IP ranges assigned to the node for use by pods.' }),
      providerID: str('ID of the node assigned by the cloud provider.'),
      unschedulable: bool('Controls node schedulability of new pods.'),
      taints: arr(c('Taint'), { type: 'atomic', description: "The node's taints." }),
      configSource: freeFormRef(),
      externalID: str('Deprecated.'),
    }),
    [`${CORE}Taint`]: obj(
      {
        key: str(),
        value: str(),
        effect: enumOf(['NoExecute', 'NoSchedule', 'PreferNoSchedule']),
        timeAdded: time(),
      },
      { required: ['key', 'effect'] },
    ),
    [`${CORE}NodeStatus`]: obj({
      capacity: map(quantity(), 'Total resources of the node.'),
      allocatable: map(quantity(), 'Resources of a node available for scheduling.'),
      phase: str('Deprecated.'),
      conditions: keyedList(c('NodeCondition'), 'type', 'Current observed node conditions.'),
      addresses: keyedList(c('NodeAddress'), 'type', 'Addresses reachable to the node.'),
      daemonEndpoints: obj({ kubeletEndpoint: obj({ Port: int() }, { required: ['Port'] }) }),
      nodeInfo: c('NodeSystemInfo'),
      images: arr(obj({ names: strs(), sizeBytes: int64() }), { type: 'atomic' }),
      volumesInUse: strs(),
      volumesAttached: arr(obj({ name: str(), devicePath: str() }, { required: ['name', 'devicePath'] }), { type: 'atomic' }),
      config: obj({ assigned: freeFormRef(), active: freeFormRef(), lastKnownGood: freeFormRef(), error: str() }),
      runtimeHandlers: arr(obj({ name: str(), features: obj({ recursiveReadOnlyMounts: bool(), userNamespaces: bool() }) }), { type: 'atomic' }),
      features: obj({ supplementalGroupsPolicy: bool() }),
    }),
    [`${CORE}NodeCondition`]: obj({ ...conditionFields(), lastHeartbeatTime: time() }, { required: ['type', 'status'] }),
    [`${CORE}NodeAddress`]: obj(
      { type: enumOf(['ExternalDNS', 'ExternalIP', 'Hostname', 'InternalDNS', 'InternalIP']), address: str() },
      { required: ['type', 'address'] },
    ),
    [`${CORE}NodeSystemInfo`]: obj({
      machineID: str(),
      systemUUID: str(),
      bootID: str(),
      kernelVersion: str(),
      osImage: str(),
      containerRuntimeVersion: str(),
      kubeletVersion: str(),
      kubeProxyVersion: str(),
      operatingSystem: str(),
      architecture: str(),
      swap: obj({ capacity: int64() }),
    }),
    [`${CORE}NodeConfigSource`]: obj({
      configMap: obj(
        { namespace: str(), name: str(), uid: str(), resourceVersion: str(), kubeletConfigKey: str() },
        { required: ['namespace', 'name', 'kubeletConfigKey'] },
      ),
    }),

    [`${CORE}Namespace`]: root(
      { group: '', version: 'v1', kind: 'Namespace' },
      'Namespace provides a scope for Names.',
      {
        spec: obj({ finalizers: strs('Finalizers that must be empty before the namespace is removed.') }, { description: 'Spec defines the behavior of the Namespace.' }),
        status: obj(
          {
            phase: enumOf(['Active', 'Terminating'], 'The current lifecycle phase of the namespace.'),
            conditions: keyedList(obj(conditionFields(), { required: ['type', 'status'] }), 'type'),
          },
          { description: 'Status describes the current status of a Namespace.' },
        ),
      },
    ),

    [`${CORE}Event`]: root(
      { group: '', version: 'v1', kind: 'Event' },
      'Event is a report of an event somewhere in the cluster.',
      {
        involvedObject: c('ObjectReference', 'The object that this event is about.'),
        reason: str('A short, machine understandable string that gives the reason for the transition into the object\'s current status.'),
        message: str('A human-readable description of the status of this operation.'),
        source: obj({ component: str(), host: str() }, { description: 'The component reporting this event.' }),
        firstTimestamp: time('The time at which the event was first recorded.'),
        lastTimestamp: time('The time at which the most recent occurrence of this event was recorded.'),
        count: int('The number of times this event has occurred.'),
        type: str('Type of this event (Normal, Warning).'),
        eventTime: time('Time when this Event was first observed.'),
        series: obj({ count: int(), lastObservedTime: time() }, { description: 'Data about the Event series this event represents.' }),
        action: str('What action was taken/failed regarding the involved object.'),
        related: c('ObjectReference', 'Optional secondary object for more complex actions.'),
        reportingComponent: str('Name of the controller that emitted this Event.'),
        reportingInstance: str('ID of the controller instance.'),
      },
      ['involvedObject'],
    ),

    [`${CORE}ConfigMap`]: root(
      { group: '', version: 'v1', kind: 'ConfigMap' },
      'ConfigMap holds configuration data for pods to consume.',
      {
        data: strMap('Configuration data; keys must consist of alphanumeric characters, "-", "_" or ".".'),
        binaryData: map(bytes(), 'Binary data, base64-encoded.'),
        immutable: bool('If true, data cannot be updated (only metadata can be modified).'),
      },
    ),
    [`${CORE}Secret`]: root(
      { group: '', version: 'v1', kind: 'Secret' },
      'Secret holds secret data of a certain type.',
      {
        data: map(bytes(), 'Secret data, base64-encoded values.'),
        stringData: strMap('Write-only convenience: non-binary data merged into data on write.'),
        type: str('Used to facilitate programmatic handling of secret data.'),
        immutable: bool('If true, data cannot be updated (only metadata can be modified).'),
      },
    ),
  };
}

function freeFormRef(): Schema {
  return ref(`${CORE}NodeConfigSource`);
}
