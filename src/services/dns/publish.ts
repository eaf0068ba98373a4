// The objects that publish the embedded DNS server as the Service kube-system/kube-dns, so Pods reach
// it on --cluster-dns through the same VIP data plane as any other Service. The server runs in the
// kubelite process, not in a Pod: the Service has no selector and its Endpoints are written by us,
// pointing at an address Pods can reach (the pod bridge's gateway) and the port we listen on there.

import type { Endpoints, Service } from '../../api/types.js';

export const KUBE_DNS_NAMESPACE = 'kube-system';
export const KUBE_DNS_NAME = 'kube-dns';

export function kubeDnsService(clusterDNS: string, targetPort = 53): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: KUBE_DNS_NAME,
      namespace: KUBE_DNS_NAMESPACE,
      labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS', 'kubernetes.io/cluster-service': 'true', 'app.kubernetes.io/managed-by': 'kubelite' },
    },
    spec: {
      type: 'ClusterIP',
      clusterIP: clusterDNS,
      clusterIPs: [clusterDNS],
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort },
      ],
    },
  };
}

/** Endpoints for the selector-less kube-dns Service: where the in-process server listens for Pods. */
export function kubeDnsEndpoints(listenIP: string, port = 53, nodeName?: string): Endpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: KUBE_DNS_NAME, namespace: KUBE_DNS_NAMESPACE, labels: { 'k8s-app': 'kube-dns' } },
    subsets: [
      {
        addresses: [{ ip: listenIP, ...(nodeName ? { nodeName } : {}) }],
        ports: [
          { name: 'dns', port, protocol: 'UDP' },
          { name: 'dns-tcp', port, protocol: 'TCP' },
        ],
      },
    ],
  };
}
