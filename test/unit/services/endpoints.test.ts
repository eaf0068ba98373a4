import test from 'ava';
import type { Container, Pod, Service, ServiceSpec } from '../../../src/api/types.js';
import {
  ENDPOINTS_MANAGED_BY_LABEL,
  HEADLESS_LABEL,
  MAX_ENDPOINTS_ADDRESSES,
  OVER_CAPACITY_ANNOTATION,
  SERVICE_NAME_LABEL,
  SLICE_MANAGED_BY_LABEL,
  endpointSlicesFor,
  endpointsFor,
  findPort,
  podEndpointsChanged,
  sameEndpoints,
} from '../../../src/services/endpoints.js';

function svc(spec: Partial<ServiceSpec> & { selector?: Record<string, string> }, name = 'web', labels?: Record<string, string>): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', uid: 'svc-uid', labels },
    spec: { ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], selector: { app: 'web' }, ...spec },
  };
}

interface PodOpts {
  ip?: string;
  ready?: boolean;
  labels?: Record<string, string>;
  containers?: Container[];
  terminating?: boolean;
  phase?: 'Running' | 'Succeeded' | 'Failed' | 'Pending';
  hostname?: string;
  subdomain?: string;
  namespace?: string;
  node?: string;
}

function pod(name: string, o: PodOpts = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.namespace ?? 'default',
      uid: `uid-${name}`,
      labels: o.labels ?? { app: 'web' },
      ...(o.terminating ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
    },
    spec: {
      nodeName: o.node ?? 'node1',
      containers: o.containers ?? [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }],
      ...(o.hostname ? { hostname: o.hostname } : {}),
      ...(o.subdomain ? { subdomain: o.subdomain } : {}),
    },
    status: {
      phase: o.phase ?? 'Running',
      ...(o.ip === '' ? {} : { podIP: o.ip ?? '10.244.0.10' }),
      conditions: [{ type: 'Ready', status: (o.ready ?? true) ? 'True' : 'False' }],
    },
  };
}

test('ready pods become addresses with targetRef and nodeName; not-ready ones notReadyAddresses', (t) => {
  const ep = endpointsFor(svc({}), [pod('b', { ip: '10.244.0.12' }), pod('a', { ip: '10.244.0.9' }), pod('c', { ip: '10.244.0.30', ready: false })]);
  t.is(ep.metadata.name, 'web');
  t.is(ep.metadata.namespace, 'default');
  t.is(ep.metadata.labels?.[ENDPOINTS_MANAGED_BY_LABEL], 'endpoint-controller');
  t.deepEqual(ep.subsets, [
    {
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      addresses: [
        { ip: '10.244.0.9', nodeName: 'node1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } },
        { ip: '10.244.0.12', nodeName: 'node1', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } },
      ],
      notReadyAddresses: [{ ip: '10.244.0.30', nodeName: 'node1', targetRef: { kind: 'Pod', namespace: 'default', name: 'c', uid: 'uid-c' } }],
    },
  ]);
});

test('addresses sort numerically, not as strings', (t) => {
  const ep = endpointsFor(svc({}), [pod('a', { ip: '10.244.0.100' }), pod('b', { ip: '10.244.0.20' }), pod('c', { ip: '10.244.0.3' })]);
  t.deepEqual(
    ep.subsets![0].addresses!.map((a) => a.ip),
    ['10.244.0.3', '10.244.0.20', '10.244.0.100'],
  );
});

test('pods outside the selector, namespace, without IP, terminal or terminating are left out', (t) => {
  const ep = endpointsFor(svc({}), [
    pod('other', { labels: { app: 'db' } }),
    pod('elsewhere', { namespace: 'prod', ip: '10.244.0.2' }),
    pod('noip', { ip: '' }),
    pod('done', { phase: 'Succeeded', ip: '10.244.0.3' }),
    pod('failed', { phase: 'Failed', ip: '10.244.0.4', ready: false }),
    pod('going', { terminating: true, ip: '10.244.0.5' }),
    pod('ok', { ip: '10.244.0.6' }),
  ]);
  t.deepEqual(
    ep.subsets!.flatMap((s) => [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])].map((a) => a.targetRef?.name)),
    ['ok'],
  );
});

test('a selector that matches nothing gives an Endpoints without subsets', (t) => {
  const ep = endpointsFor(svc({ selector: { app: 'nothing' } }), [pod('a')]);
  t.is(ep.subsets, undefined);
});

test('named targetPort resolves per pod: different container ports form different subsets', (t) => {
  const p1 = pod('v1', { ip: '10.244.0.1', containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 8080 }] }] });
  const p2 = pod('v2', { ip: '10.244.0.2', containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 9090 }] }] });
  const p3 = pod('noport', { ip: '10.244.0.3', containers: [{ name: 'c', image: 'x', ports: [{ name: 'metrics', containerPort: 9100 }] }] });
  const ep = endpointsFor(svc({}), [p1, p2, p3]);
  t.is(ep.subsets!.length, 2);
  t.deepEqual(
    ep.subsets!.map((s) => [s.ports![0].port, s.addresses!.map((a) => a.ip)]),
    [
      [8080, ['10.244.0.1']],
      [9090, ['10.244.0.2']],
    ],
  );
});

test('findPort: numeric, named with protocol, string digits, missing', (t) => {
  const p = pod('a', { containers: [{ name: 'c', image: 'x', ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'http', containerPort: 8080 }] }] });
  t.is(findPort(p, { port: 80, targetPort: 8081 }), 8081);
  t.is(findPort(p, { port: 80 }), 80);
  t.is(findPort(p, { port: 80, targetPort: 'http' }), 8080);
  t.is(findPort(p, { port: 53, targetPort: 'dns', protocol: 'UDP' }), 53);
  t.is(findPort(p, { port: 53, targetPort: 'dns', protocol: 'TCP' }), undefined);
  t.is(findPort(p, { port: 80, targetPort: 'nope' }), undefined);
});

test('multiple ports: one subset with every resolved port, sorted by name', (t) => {
  const s = svc({
    ports: [
      { name: 'metrics', port: 9100, targetPort: 9100, protocol: 'TCP' },
      { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
      { name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' },
    ],
  });
  const ep = endpointsFor(s, [pod('a', { ip: '10.244.0.7' })]);
  t.deepEqual(ep.subsets![0].ports, [
    { name: 'dns', port: 5353, protocol: 'UDP' },
    { name: 'http', port: 8080, protocol: 'TCP' },
    { name: 'metrics', port: 9100, protocol: 'TCP' },
  ]);
});

test('publishNotReadyAddresses: unready and terminating pods are ready addresses', (t) => {
  const s = svc({ publishNotReadyAddresses: true });
  const ep = endpointsFor(s, [pod('a', { ip: '10.244.0.1', ready: false }), pod('b', { ip: '10.244.0.2', terminating: true })]);
  t.deepEqual(ep.subsets![0].addresses!.map((a) => a.ip), ['10.244.0.1', '10.244.0.2']);
  t.is(ep.subsets![0].notReadyAddresses, undefined);
});

test('headless service: hostname from spec.hostname when subdomain names the service; no ports still lists pods', (t) => {
  const s = svc({ clusterIP: 'None', ports: [] }, 'db');
  s.spec.selector = { app: 'web' };
  const ep = endpointsFor(s, [pod('a', { ip: '10.244.0.1', hostname: 'db-0', subdomain: 'db' }), pod('b', { ip: '10.244.0.2', hostname: 'x', subdomain: 'other' })]);
  t.deepEqual(ep.subsets, [
    {
      addresses: [
        { ip: '10.244.0.1', hostname: 'db-0', nodeName: 'node1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } },
        { ip: '10.244.0.2', nodeName: 'node1', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } },
      ],
    },
  ]);
  t.is(ep.metadata.labels?.[HEADLESS_LABEL], '');
});

test('a non-headless service without ports gets no addresses', (t) => {
  const ep = endpointsFor(svc({ ports: [] }), [pod('a')]);
  t.is(ep.subsets, undefined);
});

test('service labels are copied; more than 1000 addresses are truncated and annotated, ready ones kept', (t) => {
  const pods: Pod[] = [];
  for (let i = 0; i < MAX_ENDPOINTS_ADDRESSES + 5; i++) pods.push(pod(`p${i}`, { ip: `10.244.${Math.floor(i / 250)}.${(i % 250) + 1}`, ready: i >= 5 }));
  const ep = endpointsFor(svc({}, 'web', { team: 'a' }), pods);
  t.is(ep.metadata.labels?.team, 'a');
  t.is(ep.metadata.annotations?.[OVER_CAPACITY_ANNOTATION], 'truncated');
  t.is(ep.subsets![0].addresses!.length, MAX_ENDPOINTS_ADDRESSES);
  t.is(ep.subsets![0].notReadyAddresses, undefined);
});

test('sameEndpoints ignores server metadata, notices content and label changes', (t) => {
  const a = endpointsFor(svc({}), [pod('a')]);
  const stored = { ...a, metadata: { ...a.metadata, uid: 'x', resourceVersion: '5', creationTimestamp: 'now' } };
  t.true(sameEndpoints(stored, a));
  t.false(sameEndpoints(stored, endpointsFor(svc({}), [pod('a', { ready: false })])));
  t.false(sameEndpoints(stored, endpointsFor(svc({}, 'web', { x: 'y' }), [pod('a')])));
});

test('EndpointSlice: labels, owner, conditions; terminating pods included as not ready', (t) => {
  const slices = endpointSlicesFor(svc({}, 'web', { team: 'a' }), [pod('a', { ip: '10.244.0.1' }), pod('b', { ip: '10.244.0.2', ready: false }), pod('c', { ip: '10.244.0.3', terminating: true })]);
  t.is(slices.length, 1);
  const s = slices[0];
  t.regex(s.metadata.name!, /^web-[0-9a-f]{5}$/);
  t.is(s.addressType, 'IPv4');
  t.is(s.metadata.labels?.[SERVICE_NAME_LABEL], 'web');
  t.is(s.metadata.labels?.[SLICE_MANAGED_BY_LABEL], 'endpointslice-controller.k8s.io');
  t.is(s.metadata.labels?.team, 'a');
  t.deepEqual(s.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }]);
  t.deepEqual(s.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  t.deepEqual(
    s.endpoints.map((e) => [e.addresses[0], e.conditions]),
    [
      ['10.244.0.1', { ready: true, serving: true, terminating: false }],
      ['10.244.0.2', { ready: false, serving: false, terminating: false }],
      ['10.244.0.3', { ready: false, serving: true, terminating: true }],
    ],
  );
  t.is(s.endpoints[0].nodeName, 'node1');
  t.deepEqual(s.endpoints[0].targetRef, { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' });
});

test('EndpointSlices: one per port set, stable names, an empty one when nothing matches, 100 per slice', (t) => {
  const p1 = pod('v1', { ip: '10.244.0.1', containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 8080 }] }] });
  const p2 = pod('v2', { ip: '10.244.0.2', containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 9090 }] }] });
  const two = endpointSlicesFor(svc({}), [p1, p2]);
  t.is(two.length, 2);
  t.notDeepEqual(two[0].metadata.name, two[1].metadata.name);
  t.deepEqual(endpointSlicesFor(svc({}), [p2, p1]).map((s) => s.metadata.name), two.map((s) => s.metadata.name));

  const empty = endpointSlicesFor(svc({ selector: { app: 'none' } }), [p1]);
  t.is(empty.length, 1);
  t.deepEqual(empty[0].endpoints, []);

  const many: Pod[] = [];
  for (let i = 0; i < 250; i++) many.push(pod(`m${i}`, { ip: `10.244.1.${i + 1}` }));
  const big = endpointSlicesFor(svc({}), many);
  t.deepEqual(big.map((s) => s.endpoints.length), [100, 100, 50]);
  t.is(new Set(big.map((s) => s.metadata.name)).size, 3);
});

test('podEndpointsChanged: only what can move an endpoint counts', (t) => {
  const a = pod('a');
  t.false(podEndpointsChanged(a, { ...a, status: { ...a.status, startTime: 'later' } }));
  t.true(podEndpointsChanged(a, pod('a', { ready: false })));
  t.true(podEndpointsChanged(a, pod('a', { ip: '10.244.0.99' })));
  t.true(podEndpointsChanged(a, pod('a', { labels: { app: 'other' } })));
  t.true(podEndpointsChanged(a, pod('a', { terminating: true })));
  t.true(podEndpointsChanged(a, pod('a', { phase: 'Failed' })));
});
