// The objects that publish the embedded DNS server as the Service kube-system/kube-dns, so Pods reach
// it on --cluster-dns through the same VIP data plane as any other Service. The server runs in the
// kubelite process, not in a Pod: the Service has no selector and its Endpoints are written by us,
// pointing at an address Pods can reach (the pod bridge's gateway) and the port we listen on there.

import type { Endpoints, Service } from '../api/types.js';

export const KUBE_DNS_NAMESPACE = 'kube-system';
export const KUBE_DNS_NAME = 'kube-dns';
/**
 * The cluster domain, published on the kube-dns Service so that clients of the API (`kubelite dns
 * lookup`) build the same search list a Pod gets without being told the server's --cluster-domain.
 */
export const CLUSTER_DOMAIN_ANNOTATION = 'kubelite.io/cluster-domain';
/**
 * Where the server really listens ('ip:port'). Usually the Endpoints say the same; without an agent it
 * listens on loopback, which Endpoints may not name, and this is how the host-side CLI finds it.
 */
export const DNS_LISTEN_ANNOTATION = 'kubelite.io/dns-listen';

export function kubeDnsService(clusterDNS: string, targetPort = 53, opts: { domain?: string; listen?: string } = {}): Service {
  const annotations: Record<string, string> = {};
  if (opts.domain) annotations[CLUSTER_DOMAIN_ANNOTATION] = opts.domain;
  if (opts.listen) annotations[DNS_LISTEN_ANNOTATION] = opts.listen;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: KUBE_DNS_NAME,
      namespace: KUBE_DNS_NAMESPACE,
      labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS', 'kubernetes.io/cluster-service': 'true', 'app.kubernetes.io/managed-by': 'kubelite' },
      ...(Object.keys(annotations).length ? { annotations } : {}),
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
