// One model with every Service shape, shared by the parser and counter tests. The file
// test/unit/golden/nftables/listing-nft-1.0.6.txt is what `nft list table ip kubelite-fix` printed (nft
// 1.0.6, kernel 6.18) after loading fullScript() of this model into a scratch network namespace.

import type { Endpoints, EndpointSlice, Service, ServiceSpec } from '../../../src/api/types.js';
import { hostNames } from '../../../src/config.js';
import { buildProxyModel, type ProxyService } from '../../../src/netfilter/model.js';
import type { NftRenderConfig } from '../../../src/netfilter/nft-render.js';

export const CFG: NftRenderConfig = { names: hostNames({ instance: 'fix' }), podCIDR: '10.244.0.0/24', serviceCIDR: '10.96.0.0/12' };

function svc(name: string, spec: ServiceSpec, lb?: string[]): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'shop', name }, spec, ...(lb ? { status: { loadBalancer: { ingress: lb.map((ip) => ({ ip })) } } } : {}) };
}
function eps(name: string, ips: string[], port = 8080, portName = 'http', protocol: 'TCP' | 'UDP' = 'TCP'): Endpoints {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { namespace: 'shop', name }, subsets: [{ addresses: ips.map((ip) => ({ ip })), ports: [{ name: portName, port, protocol }] }] };
}

export function combinedModel(): ProxyService[] {
  const slice: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'shop', name: 'edge-x1', labels: { 'kubernetes.io/service-name': 'edge' } },
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.244.0.5'], nodeName: 'a', conditions: { ready: true } },
      { addresses: ['10.244.1.5'], nodeName: 'b', conditions: { ready: true } },
    ],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
  return buildProxyModel(
    [
      svc('web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] }),
      svc('np', { type: 'NodePort', clusterIP: '10.96.0.21', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }),
      svc('lb', { type: 'LoadBalancer', clusterIP: '10.96.0.22', ports: [{ name: 'http', port: 80, nodePort: 30081 }] }, ['10.250.129.10']),
      svc('cart', { clusterIP: '10.96.0.23', sessionAffinity: 'ClientIP', ports: [{ name: 'http', port: 80 }] }),
      svc('idle', { type: 'NodePort', clusterIP: '10.96.0.24', ports: [{ name: 'http', port: 80, nodePort: 30082 }] }),
      svc('edge', { type: 'NodePort', clusterIP: '10.96.0.25', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30083 }] }),
      svc('dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
    ],
    [
      eps('web', ['10.244.0.5', '10.244.0.6', '10.244.0.7']),
      eps('np', ['10.244.0.6']),
      eps('lb', ['10.244.0.7']),
      eps('cart', ['10.244.0.5', '10.244.0.6']),
      eps('idle', []),
      slice,
      eps('dns', ['10.244.0.2'], 5353, 'dns', 'UDP'),
    ],
    { serviceCIDR: CFG.serviceCIDR, nodeName: 'a' },
  );
}
