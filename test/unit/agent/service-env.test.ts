import test from 'ava';
import type { Service } from '../../../src/api/types.js';
import { linkedServices, serviceEnv } from '../../../src/agent/service-env.js';
import { resolveEnv } from '../../../src/agent/env.js';

const svc = (ns: string, name: string, ip: string, ports: { name?: string; port: number; protocol?: string }[]): Service =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec: { clusterIP: ip, ports } }) as Service;

const all = [
  svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]),
  svc('a', 'my-db', '10.96.0.20', [{ port: 5432 }, { name: 'metrics', port: 9187, protocol: 'TCP' }]),
  svc('a', 'headless', 'None', [{ port: 80 }]),
  svc('a', 'external', '', []),
  svc('b', 'other', '10.96.0.30', [{ port: 80 }]),
];

test('the kubernetes Service always, the namespace\'s own when links are on; headless and ExternalName never', (t) => {
  t.deepEqual(linkedServices(all, 'a', true).map((s) => s.metadata.name), ['kubernetes', 'my-db']);
  t.deepEqual(linkedServices(all, 'a', false).map((s) => s.metadata.name), ['kubernetes']);
  t.deepEqual(linkedServices(all, 'default', true).map((s) => s.metadata.name), ['kubernetes']);
});

test('variables as the kubelet writes them', (t) => {
  t.deepEqual(Object.fromEntries(serviceEnv(linkedServices(all, 'a', true))), {
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    KUBERNETES_SERVICE_PORT_HTTPS: '443',
    KUBERNETES_PORT: 'tcp://10.96.0.1:443',
    KUBERNETES_PORT_443_TCP: 'tcp://10.96.0.1:443',
    KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
    KUBERNETES_PORT_443_TCP_PORT: '443',
    KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
    MY_DB_SERVICE_HOST: '10.96.0.20',
    MY_DB_SERVICE_PORT: '5432',
    MY_DB_SERVICE_PORT_METRICS: '9187',
    MY_DB_PORT: 'tcp://10.96.0.20:5432',
    MY_DB_PORT_5432_TCP: 'tcp://10.96.0.20:5432',
    MY_DB_PORT_5432_TCP_PROTO: 'tcp',
    MY_DB_PORT_5432_TCP_PORT: '5432',
    MY_DB_PORT_5432_TCP_ADDR: '10.96.0.20',
    MY_DB_PORT_9187_TCP: 'tcp://10.96.0.20:9187',
    MY_DB_PORT_9187_TCP_PROTO: 'tcp',
    MY_DB_PORT_9187_TCP_PORT: '9187',
    MY_DB_PORT_9187_TCP_ADDR: '10.96.0.20',
  });
});

test('the container\'s own variables win; $(VAR) may refer to service links', (t) => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'a' }, spec: { containers: [] } } as never;
  const { env } = resolveEnv(pod, { name: 'c', image: 'x', env: [{ name: 'KUBERNETES_SERVICE_HOST', value: 'mine' }, { name: 'DB', value: '$(MY_DB_SERVICE_HOST):$(MY_DB_SERVICE_PORT)' }] }, {
    configMap: () => undefined,
    secret: () => undefined,
    nodeAllocatable: { cpuMillis: 1000, memoryBytes: 1 },
    serviceEnv: serviceEnv(linkedServices(all, 'a', true)),
  });
  const m = new Map(env);
  t.is(m.get('KUBERNETES_SERVICE_HOST'), 'mine');
  t.is(m.get('DB'), '10.96.0.20:5432');
  t.is(m.get('MY_DB_PORT'), 'tcp://10.96.0.20:5432');
  t.is(env[0][0], 'KUBERNETES_SERVICE_HOST', 'declared variables first, links appended');
});
