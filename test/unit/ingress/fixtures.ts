// Object builders shared by the ingress unit tests (not a test file: no `.test.` in the name).

import type { Endpoints, HTTPIngressPath, Ingress, IngressRule, Secret, Service } from '../../../src/api/types.js';

export function svc(name: string, ports: { name?: string; port: number }[], ns = 'default', type?: 'ExternalName'): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { ports, ...(type ? { type } : {}) } };
}

export function eps(name: string, subsets: { ips: string[]; notReady?: string[]; ports: { name?: string; port: number }[] }[], ns = 'default'): Endpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name, namespace: ns },
    subsets: subsets.map((s) => ({ addresses: s.ips.map((ip) => ({ ip })), notReadyAddresses: (s.notReady ?? []).map((ip) => ({ ip })), ports: s.ports })),
  };
}

export function path(p: string | undefined, pathType: HTTPIngressPath['pathType'], service: string, port: number | string): HTTPIngressPath {
  return { path: p, pathType, backend: { service: { name: service, port: typeof port === 'number' ? { number: port } : { name: port } } } };
}

export function ing(
  name: string,
  rules: IngressRule[],
  opts: { ns?: string; created?: string; className?: string; annotations?: Record<string, string>; defaultBackend?: { service: string; port: number }; tls?: { hosts: string[]; secretName: string }[] } = {},
): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: opts.ns ?? 'default', creationTimestamp: opts.created ?? '2024-01-01T00:00:00Z', annotations: opts.annotations },
    spec: {
      ...(opts.className ? { ingressClassName: opts.className } : {}),
      ...(opts.defaultBackend ? { defaultBackend: { service: { name: opts.defaultBackend.service, port: { number: opts.defaultBackend.port } } } } : {}),
      ...(opts.tls ? { tls: opts.tls } : {}),
      rules,
    },
  };
}

export function tlsSecret(name: string, certPem: string, keyPem: string, ns = 'default', type = 'kubernetes.io/tls'): Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: ns },
    type,
    data: { 'tls.crt': Buffer.from(certPem).toString('base64'), 'tls.key': Buffer.from(keyPem).toString('base64') },
  };
}
