// Slim objects for the UI's pure tests, built from API objects through the real slim functions, and
// the seed example (my-backend: a Deployment of 3 Pods behind a ClusterIP) as a ClusterState.

import type { EndpointSlice, Event, Ingress, Pod, ReplicaSet, Service, Deployment } from '../../../src/api/types.js';
import { slimDeployment, slimEvent, slimIngress, slimPod, slimReplicaSet, slimService, slimSlice } from '../../../src/ui/slim.js';
import { ClusterState } from '../../../src/ui/model/state.js';
import type { WObject } from '../../../src/ui/wire.js';

export const T0 = Date.parse('2026-01-01T00:00:00Z');
export const iso = (s: number) => new Date(T0 + s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

export interface PodOpts {
  ns?: string;
  labels?: Record<string, string>;
  ip?: string;
  ready?: boolean;
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  rs?: string;
  deleting?: boolean;
  waiting?: string;
  restarts?: number;
  probe?: boolean;
  hostname?: string;
  annotations?: Record<string, string>;
}

export function pod(name: string, o: PodOpts = {}): Pod {
  const ready = o.ready ?? true;
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.ns ?? 'default',
      uid: `uid-${name}`,
      labels: o.labels ?? { app: 'my-backend' },
      annotations: o.annotations,
      creationTimestamp: iso(0),
      ...(o.rs ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.rs, uid: `uid-${o.rs}`, controller: true }] } : {}),
      ...(o.deleting ? { deletionTimestamp: iso(100) } : {}),
    },
    spec: {
      nodeName: 'node1',
      containers: [{ name: 'echo', image: 'kubelite/echo:1', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }], ...(o.probe === false ? {} : { readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 2 } }) }],
      ...(o.hostname ? { hostname: o.hostname } : {}),
    },
    status: {
      phase: o.phase ?? 'Running',
      ...(o.ip === '' ? {} : { podIP: o.ip ?? `10.244.0.${name.length + name.charCodeAt(name.length - 1) % 200}` }),
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: iso(10) }],
      containerStatuses: [
        {
          name: 'echo',
          ready,
          restartCount: o.restarts ?? 0,
          image: 'kubelite/echo:1',
          imageID: '',
          state: o.waiting ? { waiting: { reason: o.waiting } } : { running: { startedAt: iso(5) } },
          lastState: {},
        },
      ],
    },
  };
  return p;
}

export function service(name: string, spec: Service['spec'], ns = 'default', lb?: string[]): Service {
  const s: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns, uid: `uid-svc-${name}` }, spec };
  if (lb) s.status = { loadBalancer: { ingress: lb.map((ip) => ({ ip })) } };
  return s;
}

export function slice(svc: string, pods: { pod: Pod; ready?: boolean; terminating?: boolean }[], ports = [{ name: 'http', port: 8080, protocol: 'TCP' as const }], ns = 'default'): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${svc}-abc`, namespace: ns, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports,
    endpoints: pods.map(({ pod: p, ready, terminating }) => ({
      addresses: [p.status!.podIP!],
      conditions: { ready: ready ?? true, serving: ready ?? true, terminating: terminating ?? false },
      nodeName: 'node1',
      targetRef: { kind: 'Pod', name: p.metadata.name, namespace: ns, uid: p.metadata.uid },
    })),
  };
}

export function replicaSet(name: string, deploy: string, revision: string, ns = 'default'): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: ns, uid: `uid-${name}`, annotations: { 'deployment.kubernetes.io/revision': revision }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: deploy, uid: `uid-${deploy}`, controller: true }] },
    spec: { selector: { matchLabels: { app: deploy } } },
    status: { replicas: 3, readyReplicas: 3 },
  };
}

export function deployment(name: string, replicas = 3, ns = 'default'): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, uid: `uid-${name}`, generation: 1 },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { spec: { containers: [] } } },
    status: { replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas, observedGeneration: 1 },
  };
}

export function event(podObj: Pod, reason: string, message: string, at: number, type: 'Normal' | 'Warning' = 'Warning'): Event {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${podObj.metadata.name}.${at}`, namespace: podObj.metadata.namespace },
    involvedObject: { kind: 'Pod', name: podObj.metadata.name, namespace: podObj.metadata.namespace, uid: podObj.metadata.uid },
    reason,
    message,
    type,
    count: 1,
    lastTimestamp: iso(at),
  };
}

export function ingress(name: string, rules: { host: string; path: string; service: string; port: number }[], tlsHosts: string[] = []): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default' },
    spec: {
      ingressClassName: 'kubelite',
      tls: tlsHosts.length ? [{ hosts: tlsHosts, secretName: 'tls' }] : undefined,
      rules: rules.map((r) => ({ host: r.host, http: { paths: [{ path: r.path, pathType: 'Prefix', backend: { service: { name: r.service, port: { number: r.port } } } }] } })),
    },
  };
}

/** API objects -> a ClusterState, as the page would hold them after a snapshot. */
export function stateOf(objects: (Pod | Service | EndpointSlice | ReplicaSet | Deployment | Event | Ingress)[], nodes = [{ name: 'node1', addresses: ['192.0.2.2'], ready: true }]): ClusterState {
  const slimmed: WObject[] = objects.map((o) => {
    switch (o.kind) {
      case 'Pod':
        return slimPod(o as Pod);
      case 'Service':
        return slimService(o as Service);
      case 'EndpointSlice':
        return slimSlice(o as EndpointSlice);
      case 'ReplicaSet':
        return slimReplicaSet(o as ReplicaSet);
      case 'Deployment':
        return slimDeployment(o as Deployment);
      case 'Ingress':
        return slimIngress(o as Ingress);
      default:
        return slimEvent(o as Event);
    }
  });
  const s = new ClusterState();
  s.reset(slimmed, ['default'], nodes);
  return s;
}

/** The seed: my-backend Deployment, 3 Ready Pods, ClusterIP Service on port 80 -> http (8080). */
export function seed(): { objects: (Pod | Service | EndpointSlice | ReplicaSet | Deployment)[]; pods: Pod[] } {
  const rs = replicaSet('my-backend-5d8f7', 'my-backend', '1');
  const pods = ['my-backend-5d8f7-aaaaa', 'my-backend-5d8f7-bbbbb', 'my-backend-5d8f7-ccccc'].map((n, i) => pod(n, { rs: rs.metadata.name, ip: `10.244.0.${5 + i}` }));
  const svc = service('my-backend', { type: 'ClusterIP', clusterIP: '10.96.0.20', selector: { app: 'my-backend' }, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }] });
  return { objects: [deployment('my-backend'), rs, ...pods, svc, slice('my-backend', pods.map((p) => ({ pod: p })))], pods };
}
