import test from 'ava';
import { R } from '../../../../src/api/resources.js';
import type { KObject } from '../../../../src/api/types.js';
import { applyDefaults, defaultPullPolicy, prepareUpdate } from '../../../../src/api/validation/index.js';

type Any = Record<string, any>;

function obj(apiVersion: string, kind: string, body: Any): KObject & Any {
  return { apiVersion, kind, metadata: { name: 'x', namespace: 'default' }, ...body };
}

test('Pod defaults, including containers, ports, probes and volumes', (t) => {
  const pod = obj('v1', 'Pod', {
    spec: {
      containers: [
        {
          name: 'web',
          image: 'nginx',
          ports: [{ containerPort: 80 }],
          livenessProbe: { httpGet: { port: 80 }, periodSeconds: 0 },
          readinessProbe: { tcpSocket: { port: 80 }, timeoutSeconds: 5 },
          lifecycle: { preStop: { httpGet: { port: 80 } } },
          env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m' } },
        },
      ],
      initContainers: [{ name: 'init', image: 'busybox:1.36' }],
      volumes: [
        { name: 's', secret: { secretName: 's' } },
        { name: 'c', configMap: { name: 'c', defaultMode: 0o600 } },
        { name: 'p', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } },
      ],
    },
  });
  applyDefaults(R.pods, pod);
  const s = pod.spec;
  t.is(s.restartPolicy, 'Always');
  t.is(s.dnsPolicy, 'ClusterFirst');
  t.is(s.terminationGracePeriodSeconds, 30);
  t.is(s.schedulerName, 'default-scheduler');
  t.is(s.enableServiceLinks, true);
  t.deepEqual(s.securityContext, {});
  const c = s.containers[0];
  t.is(c.imagePullPolicy, 'Always');
  t.is(c.terminationMessagePath, '/dev/termination-log');
  t.is(c.terminationMessagePolicy, 'File');
  t.deepEqual(c.ports, [{ containerPort: 80, protocol: 'TCP' }]);
  t.deepEqual(c.livenessProbe, { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
  t.is(c.readinessProbe.timeoutSeconds, 5);
  t.is(c.readinessProbe.periodSeconds, 10);
  t.deepEqual(c.lifecycle.preStop.httpGet, { port: 80, path: '/', scheme: 'HTTP' });
  t.is(c.env[0].valueFrom.fieldRef.apiVersion, 'v1');
  t.deepEqual(c.resources.requests, { cpu: '500m', memory: '1Gi' }, 'a limit without a request becomes the request');
  t.is(s.initContainers[0].imagePullPolicy, 'IfNotPresent');
  t.is(s.volumes[0].secret.defaultMode, 0o644);
  t.is(s.volumes[1].configMap.defaultMode, 0o600);
  t.is(s.volumes[2].projected.sources[0].serviceAccountToken.expirationSeconds, 3600);
});

test('image pull policy follows the tag', (t) => {
  t.is(defaultPullPolicy('nginx'), 'Always');
  t.is(defaultPullPolicy('nginx:latest'), 'Always');
  t.is(defaultPullPolicy('nginx:1.25'), 'IfNotPresent');
  t.is(defaultPullPolicy('localhost:5000/nginx'), 'Always');
  t.is(defaultPullPolicy('localhost:5000/nginx:v2'), 'IfNotPresent');
  t.is(defaultPullPolicy('nginx@sha256:0123'), 'IfNotPresent');
});

test('hostNetwork pods default hostPort to containerPort; serviceAccount is copied', (t) => {
  const pod = obj('v1', 'Pod', { spec: { hostNetwork: true, serviceAccount: 'sa', containers: [{ name: 'a', image: 'x:1', ports: [{ containerPort: 53, protocol: 'UDP' }] }] } });
  applyDefaults(R.pods, pod);
  t.deepEqual(pod.spec.containers[0].ports[0], { containerPort: 53, protocol: 'UDP', hostPort: 53 });
  t.is(pod.spec.serviceAccountName, 'sa');
});

test('explicit values are kept', (t) => {
  const pod = obj('v1', 'Pod', { spec: { restartPolicy: 'Never', dnsPolicy: 'Default', containers: [{ name: 'a', image: 'x', imagePullPolicy: 'Never' }] } });
  applyDefaults(R.pods, pod);
  t.is(pod.spec.restartPolicy, 'Never');
  t.is(pod.spec.dnsPolicy, 'Default');
  t.is(pod.spec.containers[0].imagePullPolicy, 'Never');
});

test('Deployment and ReplicaSet defaults reach the pod template', (t) => {
  const d = obj('apps/v1', 'Deployment', {
    spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'a', image: 'x:1' }] } } },
  });
  applyDefaults(R.deployments, d);
  t.is(d.spec.replicas, 1);
  t.deepEqual(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
  t.is(d.spec.revisionHistoryLimit, 10);
  t.is(d.spec.progressDeadlineSeconds, 600);
  t.false('minReadySeconds' in d.spec);
  t.is(d.spec.template.spec.restartPolicy, 'Always');
  t.is(d.spec.template.spec.containers[0].terminationMessagePolicy, 'File');

  const recreate = obj('apps/v1', 'Deployment', { spec: { strategy: { type: 'Recreate' }, template: { spec: { containers: [] } } } });
  applyDefaults(R.deployments, recreate);
  t.deepEqual(recreate.spec.strategy, { type: 'Recreate' });

  const rs = obj('apps/v1', 'ReplicaSet', { spec: { template: { spec: { containers: [{ name: 'a', image: 'x' }] } } } });
  applyDefaults(R.replicasets, rs);
  t.is(rs.spec.replicas, 1);
  t.is(rs.spec.template.spec.dnsPolicy, 'ClusterFirst');
});

test('Service defaults by type', (t) => {
  const svc = obj('v1', 'Service', { spec: { ports: [{ port: 80 }, { port: 53, protocol: 'UDP', targetPort: 'dns' }] } });
  applyDefaults(R.services, svc);
  t.like(svc.spec, {
    type: 'ClusterIP',
    sessionAffinity: 'None',
    ipFamilies: ['IPv4'],
    ipFamilyPolicy: 'SingleStack',
    internalTrafficPolicy: 'Cluster',
  });
  t.false('externalTrafficPolicy' in svc.spec);
  t.deepEqual(svc.spec.ports, [
    { port: 80, protocol: 'TCP', targetPort: 80 },
    { port: 53, protocol: 'UDP', targetPort: 'dns' },
  ]);

  const np = obj('v1', 'Service', { spec: { type: 'LoadBalancer', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] } });
  applyDefaults(R.services, np);
  t.is(np.spec.externalTrafficPolicy, 'Cluster');
  t.is(np.spec.allocateLoadBalancerNodePorts, true);
  t.deepEqual(np.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });

  const en = obj('v1', 'Service', { spec: { type: 'ExternalName', externalName: 'a.example.test' } });
  applyDefaults(R.services, en);
  t.false('ipFamilies' in en.spec);
  t.false('internalTrafficPolicy' in en.spec);

  const fixed = obj('v1', 'Service', { spec: { clusterIP: '10.96.0.10', ports: [{ port: 53 }] } });
  applyDefaults(R.services, fixed);
  t.deepEqual(fixed.spec.clusterIPs, ['10.96.0.10']);
});

test('Secret: type Opaque, stringData merged into data as base64 and removed', (t) => {
  const s = obj('v1', 'Secret', { data: { a: 'YQ==' }, stringData: { b: 'héllo', a: 'override' } });
  applyDefaults(R.secrets, s);
  t.is(s.type, 'Opaque');
  t.deepEqual(s.data, { a: Buffer.from('override').toString('base64'), b: Buffer.from('héllo').toString('base64') });
  t.false('stringData' in s);
});

test('Namespace, Event, Endpoints and EndpointSlice defaults', (t) => {
  const ns: Any = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } };
  applyDefaults(R.namespaces, ns as KObject);
  t.deepEqual(ns.spec, { finalizers: ['kubernetes'] });
  t.deepEqual(ns.status, { phase: 'Active' });
  const ev = obj('v1', 'Event', { involvedObject: { kind: 'Pod' } });
  applyDefaults(R.events, ev);
  t.is(ev.type, 'Normal');
  t.is(ev.count, 1);
  const ep = obj('v1', 'Endpoints', { subsets: [{ ports: [{ port: 80 }] }] });
  applyDefaults(R.endpoints, ep);
  t.is(ep.subsets[0].ports[0].protocol, 'TCP');
  const es = obj('discovery.k8s.io/v1', 'EndpointSlice', { addressType: 'IPv4', endpoints: [], ports: [{ port: 80 }] });
  applyDefaults(R.endpointslices, es);
  t.is(es.ports[0].protocol, 'TCP');
});

test('nulls are dropped as Kubernetes decoding drops them, except inside managedFields', (t) => {
  const d = obj('apps/v1', 'Deployment', {
    metadata: { name: 'x', namespace: 'default', creationTimestamp: null, managedFields: [{ fieldsV1: { 'f:x': null } }] },
    spec: { replicas: null, strategy: {}, template: { metadata: { creationTimestamp: null }, spec: { containers: [{ name: 'a', image: 'b', resources: {} }] } } },
    status: {},
  });
  applyDefaults(R.deployments, d);
  t.false('creationTimestamp' in d.metadata);
  t.false('creationTimestamp' in d.spec.template.metadata);
  t.is(d.spec.replicas, 1);
  t.deepEqual(d.metadata.managedFields, [{ fieldsV1: { 'f:x': null } }]);
});

test('prepareUpdate keeps allocated Service values a replace omits', (t) => {
  const old = obj('v1', 'Service', {
    spec: { type: 'NodePort', clusterIP: '10.96.0.7', clusterIPs: ['10.96.0.7'], ports: [{ port: 80, protocol: 'TCP', targetPort: 80, nodePort: 30080 }], externalTrafficPolicy: 'Cluster' },
  });
  const next = obj('v1', 'Service', { spec: { type: 'NodePort', ports: [{ port: 80 }] } });
  applyDefaults(R.services, next);
  prepareUpdate(R.services, next, old);
  t.is(next.spec.clusterIP, '10.96.0.7');
  t.deepEqual(next.spec.clusterIPs, ['10.96.0.7']);
  t.is(next.spec.ports[0].nodePort, 30080);
});

test('prepareUpdate drops type-dependent fields carried over when the type changes', (t) => {
  const old = obj('v1', 'Service', {
    spec: { type: 'NodePort', clusterIP: '10.96.0.7', clusterIPs: ['10.96.0.7'], ports: [{ port: 80, protocol: 'TCP', targetPort: 80, nodePort: 30080 }], externalTrafficPolicy: 'Cluster' },
  });
  const toClusterIP = structuredClone(old);
  toClusterIP.spec.type = 'ClusterIP';
  applyDefaults(R.services, toClusterIP);
  prepareUpdate(R.services, toClusterIP, old);
  t.false('nodePort' in toClusterIP.spec.ports[0]);
  t.false('externalTrafficPolicy' in toClusterIP.spec);
  t.is(toClusterIP.spec.clusterIP, '10.96.0.7');

  const toExternal = structuredClone(old);
  toExternal.spec.type = 'ExternalName';
  toExternal.spec.externalName = 'db.example.test';
  applyDefaults(R.services, toExternal);
  prepareUpdate(R.services, toExternal, old);
  t.false('clusterIP' in toExternal.spec);
  t.false('clusterIPs' in toExternal.spec);
});

test('prepareUpdate keeps a Secret type the new object omits', (t) => {
  const old = obj('v1', 'Secret', { type: 'kubernetes.io/tls' });
  const next = obj('v1', 'Secret', {});
  prepareUpdate(R.secrets, next, old);
  t.is(next.type, 'kubernetes.io/tls');
});
