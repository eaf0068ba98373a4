// core/v1 Service and Endpoints, discovery.k8s.io/v1 EndpointSlice.

import { arr, bool, CORE, DISCOVERY, enumOf, int, intOrString, keyedList, META, obj, ref, root, str, strMap, strs, type Schema } from './builders.js';
import { PROTOCOLS } from './pod.js';

const c = (name: string, description?: string) => ref(CORE + name, description);

export const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'] as const;

export function serviceSchemas(): Record<string, Schema> {
  return {
    [`${CORE}Service`]: root(
      { group: '', version: 'v1', kind: 'Service' },
      'Service is a named abstraction of software service (for example, mysql) consisting of local port (for example 3306) that the proxy listens on, and the selector that determines which pods will answer requests sent through the proxy.',
      {
        spec: c('ServiceSpec', 'Spec defines the behavior of a service.'),
        status: c('ServiceStatus', 'Most recently observed status of the service; read-only.'),
      },
    ),
    [`${CORE}ServiceSpec`]: obj({
      ports: arr(c('ServicePort'), {
        type: 'map',
        keys: ['port', 'protocol'],
        mergeKey: 'port',
        description: 'The list of ports that are exposed by this service.',
      }),
      selector: strMap('Route service traffic to pods with label keys and values matching this selector.'),
      clusterIP: str('The IP address of the service, usually assigned randomly; "None" makes a headless service.'),
      clusterIPs: strs('IP addresses assigned to this service; clusterIPs[0] equals clusterIP.'),
      type: enumOf(SERVICE_TYPES, 'How the Service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName.'),
      externalIPs: strs('IP addresses for which nodes also accept traffic for this service.'),
      sessionAffinity: enumOf(['ClientIP', 'None'], 'ClientIP enables client IP based session affinity.'),
      loadBalancerIP: str('Deprecated: the IP requested for a LoadBalancer service.'),
      loadBalancerSourceRanges: strs('Client IP ranges allowed to reach a LoadBalancer service.'),
      externalName: str('The DNS name this ExternalName service is a CNAME for.'),
      externalTrafficPolicy: enumOf(['Cluster', 'Local'], 'How traffic from external sources is routed to endpoints.'),
      healthCheckNodePort: int('Health-check node port for Local externalTrafficPolicy on LoadBalancer services.'),
      publishNotReadyAddresses: bool('Publish addresses of endpoints that are not ready.'),
      sessionAffinityConfig: c('SessionAffinityConfig', 'Configuration of session affinity.'),
      ipFamilies: arr(enumOf(['IPv4', 'IPv6']), { type: 'atomic', description: 'IP families assigned to this service.' }),
      ipFamilyPolicy: enumOf(['PreferDualStack', 'RequireDualStack', 'SingleStack'], 'Dual-stack-ness requested or required by this Service.'),
      allocateLoadBalancerNodePorts: bool('Whether node ports are allocated for a LoadBalancer service.'),
      loadBalancerClass: str('The class of load balancer implementation this Service belongs to.'),
      internalTrafficPolicy: enumOf(['Cluster', 'Local'], 'How traffic from cluster sources is routed to endpoints.'),
      trafficDistribution: str('Preference for how traffic is distributed to endpoints.'),
    }),
    [`${CORE}ServicePort`]: obj(
      {
        name: str('The name of this port within the service; required when there is more than one port.'),
        protocol: enumOf(PROTOCOLS, 'TCP or UDP; defaults to TCP.'),
        appProtocol: str('The application protocol for this port.'),
        port: int('The port that will be exposed by this service.'),
        targetPort: intOrString('Number or name of the port to access on the pods targeted by the service.'),
        nodePort: int('The port on each node on which this service is exposed when type is NodePort or LoadBalancer.'),
      },
      { required: ['port'] },
    ),
    [`${CORE}SessionAffinityConfig`]: obj({ clientIP: obj({ timeoutSeconds: int('Seconds of ClientIP session stickiness; 0 < x <= 86400.') }) }),
    [`${CORE}ServiceStatus`]: obj({
      loadBalancer: c('LoadBalancerStatus'),
      conditions: keyedList(ref(`${META}Condition`), 'type', 'Current service state.'),
    }),
    [`${CORE}LoadBalancerStatus`]: obj({ ingress: arr(c('LoadBalancerIngress'), { type: 'atomic' }) }),
    [`${CORE}LoadBalancerIngress`]: obj({
      ip: str(),
      hostname: str(),
      ipMode: enumOf(['Proxy', 'VIP']),
      ports: arr(c('PortStatus'), { type: 'atomic' }),
    }),
    [`${CORE}PortStatus`]: obj({ port: int(), protocol: enumOf(PROTOCOLS), error: str() }, { required: ['port', 'protocol'] }),
    [`${CORE}ObjectReference`]: {
      ...obj({
        kind: str(),
        namespace: str(),
        name: str(),
        uid: str(),
        apiVersion: str(),
        resourceVersion: str(),
        fieldPath: str(),
      }),
      'x-kubernetes-map-type': 'atomic',
    },

    [`${CORE}Endpoints`]: root(
      { group: '', version: 'v1', kind: 'Endpoints' },
      'Endpoints is a collection of endpoints that implement the actual service.',
      { subsets: arr(c('EndpointSubset'), { type: 'atomic', description: 'The set of all endpoints is the union of all subsets.' }) },
    ),
    [`${CORE}EndpointSubset`]: obj({
      addresses: arr(c('EndpointAddress'), { type: 'atomic' }),
      notReadyAddresses: arr(c('EndpointAddress'), { type: 'atomic' }),
      ports: arr(c('EndpointPort'), { type: 'atomic' }),
    }),
    [`${CORE}EndpointAddress`]: {
      ...obj({ ip: str(), hostname: str(), nodeName: str(), targetRef: c('ObjectReference') }, { required: ['ip'] }),
      'x-kubernetes-map-type': 'atomic',
    },
    [`${CORE}EndpointPort`]: {
      ...obj({ name: str(), port: int(), protocol: enumOf(PROTOCOLS), appProtocol: str() }, { required: ['port'] }),
      'x-kubernetes-map-type': 'atomic',
    },

    [`${DISCOVERY}EndpointSlice`]: root(
      { group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice' },
      'EndpointSlice represents a subset of the endpoints that implement a service.',
      {
        addressType: enumOf(['FQDN', 'IPv4', 'IPv6'], 'The type of address carried by this EndpointSlice.'),
        endpoints: arr(ref(`${DISCOVERY}Endpoint`), { type: 'atomic', description: 'A list of unique endpoints in this slice.' }),
        ports: arr(ref(`${DISCOVERY}EndpointPort`), { type: 'atomic', description: 'Network ports exposed by each endpoint in this slice.' }),
      },
      ['addressType', 'endpoints'],
    ),
    [`${DISCOVERY}Endpoint`]: obj(
      {
        addresses: arr(str(), { type: 'set' }),
        conditions: obj({ ready: bool(), serving: bool(), terminating: bool() }),
        hostname: str(),
        targetRef: c('ObjectReference'),
        deprecatedTopology: strMap(),
        nodeName: str(),
        zone: str(),
        hints: obj({
          forZones: arr(obj({ name: str() }, { required: ['name'] })),
          forNodes: arr(obj({ name: str() }, { required: ['name'] })),
        }),
      },
      { required: ['addresses'] },
    ),
    [`${DISCOVERY}EndpointPort`]: {
      ...obj({ name: str(), protocol: enumOf(PROTOCOLS), port: int(), appProtocol: str() }),
      'x-kubernetes-map-type': 'atomic',
    },
  };
}
