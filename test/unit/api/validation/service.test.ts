import test from 'ava';
import { causeLine, isStatusError } from '../../../../src/api/errors.js';
import { R, type ResourceInfo } from '../../../../src/api/resources.js';
import type { KObject } from '../../../../src/api/types.js';
import { applyDefaults, validateObject, validationError } from '../../../../src/api/validation/index.js';

type Any = Record<string, any>;

function validService(): KObject & Any {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  };
}

interface Expect {
  field: string;
  reason: string;
  message?: string;
}

function expectCause(t: import('ava').ExecutionContext, res: ResourceInfo, obj: KObject, want: Expect): void {
  applyDefaults(res, obj);
  const { causes } = validateObject(res, obj);
  const hit = causes.find((c) => c.field === want.field && c.reason === want.reason);
  t.truthy(hit, `want ${want.field} ${want.reason}, got ${JSON.stringify(causes, null, 1)}`);
  if (want.message) t.is(hit?.message, want.message);
}

test('the spec.ports[0].port example, exactly as kubectl prints it', (t) => {
  const svc = validService();
  svc.spec.ports[0].port = 70000;
  applyDefaults(R.services, svc);
  const { causes } = validateObject(R.services, svc);
  t.deepEqual(causes, [{ reason: 'FieldValueInvalid', field: 'spec.ports[0].port', message: 'Invalid value: 70000: must be between 1 and 65535, inclusive' }]);
  t.is(causeLine(causes[0]), 'spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive');
  const err = validationError(R.services, svc, causes);
  t.true(isStatusError(err, 'Invalid'));
  t.is(err.code, 422);
  t.is(err.message, 'Service "web" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive');
  t.deepEqual(err.status.details, { name: 'web', group: undefined, kind: 'Service', causes });
});

test('validationError qualifies the kind with its group and lists several causes', (t) => {
  const d: KObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } };
  const err = validationError(R.deployments, d, [
    { reason: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' },
    { reason: 'FieldValueInvalid', field: 'spec.replicas', message: 'Invalid value: -1: must be greater than or equal to 0' },
  ]);
  t.is(err.message, 'Deployment.apps "web" is invalid: [spec.selector: Required value, spec.replicas: Invalid value: -1: must be greater than or equal to 0]');
  t.is(err.status.details?.group, 'apps');
});

const cases: [string, (s: Any) => void, Expect][] = [
  [
    'type enum',
    (s) => (s.spec.type = 'Internal'),
    { field: 'spec.type', reason: 'FieldValueNotSupported', message: 'Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"' },
  ],
  ['no ports', (s) => (s.spec.ports = []), { field: 'spec.ports', reason: 'FieldValueRequired', message: 'Required value' }],
  [
    'port 0',
    (s) => (s.spec.ports[0].port = 0),
    { field: 'spec.ports[0].port', reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be between 1 and 65535, inclusive' },
  ],
  [
    'nodePort on a ClusterIP service',
    (s) => (s.spec.ports[0].nodePort = 30080),
    { field: 'spec.ports[0].nodePort', reason: 'FieldValueForbidden', message: "Forbidden: may not be used when `type` is 'ClusterIP'" },
  ],
  [
    'unnamed port among several',
    (s) => s.spec.ports.push({ port: 443 }),
    { field: 'spec.ports[1].name', reason: 'FieldValueRequired', message: 'Required value' },
  ],
  [
    'duplicate port names',
    (s) => s.spec.ports.push({ name: 'http', port: 443 }),
    { field: 'spec.ports[1].name', reason: 'FieldValueDuplicate', message: 'Duplicate value: "http"' },
  ],
  [
    'port name not a DNS label',
    (s) => (s.spec.ports[0].name = 'HTTP'),
    { field: 'spec.ports[0].name', reason: 'FieldValueInvalid' },
  ],
  [
    'duplicate port and protocol',
    (s) => s.spec.ports.push({ name: 'again', port: 80 }),
    { field: 'spec.ports[1]', reason: 'FieldValueDuplicate', message: 'Duplicate value: {"port":80,"protocol":"TCP"}' },
  ],
  [
    'SCTP is not proxied',
    (s) => (s.spec.ports[0].protocol = 'SCTP'),
    { field: 'spec.ports[0].protocol', reason: 'FieldValueNotSupported', message: 'Unsupported value: "SCTP": supported values: "TCP", "UDP"' },
  ],
  [
    'numeric targetPort out of range',
    (s) => (s.spec.ports[0].targetPort = 65536),
    { field: 'spec.ports[0].targetPort', reason: 'FieldValueInvalid', message: 'Invalid value: 65536: must be between 1 and 65535, inclusive' },
  ],
  [
    'named targetPort not an IANA_SVC_NAME',
    (s) => (s.spec.ports[0].targetPort = 'web--http'),
    { field: 'spec.ports[0].targetPort', reason: 'FieldValueInvalid', message: 'Invalid value: "web--http": must not contain consecutive hyphens' },
  ],
  [
    'clusterIP not an IP',
    (s) => (s.spec.clusterIP = '10.96.0'),
    { field: 'spec.clusterIP', reason: 'FieldValueInvalid', message: "Invalid value: \"10.96.0\": must be empty, 'None', or a valid IP address" },
  ],
  ['an IPv6 clusterIP in a single-stack IPv4 cluster', (s) => (s.spec.clusterIP = 'fd00::10'), { field: 'spec.clusterIP', reason: 'FieldValueInvalid' }],
  [
    'headless NodePort',
    (s) => Object.assign(s.spec, { type: 'NodePort', clusterIP: 'None' }),
    { field: 'spec.clusterIP', reason: 'FieldValueInvalid', message: "Invalid value: \"None\": may not be set to 'None' for NodePort services" },
  ],
  [
    'ExternalName without externalName',
    (s) => (s.spec = { type: 'ExternalName' }),
    { field: 'spec.externalName', reason: 'FieldValueRequired' },
  ],
  [
    'ExternalName not a DNS name',
    (s) => (s.spec = { type: 'ExternalName', externalName: 'Bad_Name.example' }),
    { field: 'spec.externalName', reason: 'FieldValueInvalid' },
  ],
  [
    'ExternalName with a cluster IP',
    (s) => (s.spec = { type: 'ExternalName', externalName: 'db.example.test', clusterIP: '10.96.0.9' }),
    { field: 'spec.clusterIP', reason: 'FieldValueForbidden' },
  ],
  [
    'selector with an invalid label value',
    (s) => (s.spec.selector = { app: 'web server' }),
    { field: 'spec.selector', reason: 'FieldValueInvalid' },
  ],
  [
    'sessionAffinity enum',
    (s) => (s.spec.sessionAffinity = 'Cookie'),
    { field: 'spec.sessionAffinity', reason: 'FieldValueNotSupported', message: 'Unsupported value: "Cookie": supported values: "ClientIP", "None"' },
  ],
  [
    'ClientIP timeout out of range',
    (s) => Object.assign(s.spec, { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 86401 } } }),
    {
      field: 'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
      reason: 'FieldValueInvalid',
      message: 'Invalid value: 86401: must be greater than 0 and less than 86400',
    },
  ],
  [
    'externalTrafficPolicy on a ClusterIP service',
    (s) => (s.spec.externalTrafficPolicy = 'Local'),
    { field: 'spec.externalTrafficPolicy', reason: 'FieldValueInvalid' },
  ],
  [
    'IPv6 family',
    (s) => (s.spec.ipFamilies = ['IPv6']),
    { field: 'spec.ipFamilies[0]', reason: 'FieldValueNotSupported', message: 'Unsupported value: "IPv6": supported values: "IPv4"' },
  ],
  [
    'RequireDualStack',
    (s) => (s.spec.ipFamilyPolicy = 'RequireDualStack'),
    { field: 'spec.ipFamilyPolicy', reason: 'FieldValueInvalid', message: 'Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services' },
  ],
  [
    'loadBalancerSourceRanges on a NodePort service',
    (s) => Object.assign(s.spec, { type: 'NodePort', loadBalancerSourceRanges: ['10.0.0.0/8'] }),
    { field: 'spec.loadBalancerSourceRanges', reason: 'FieldValueForbidden' },
  ],
  [
    'externalIPs not IPs',
    (s) => (s.spec.externalIPs = ['1.2.3.4', 'example.com']),
    { field: 'spec.externalIPs[1]', reason: 'FieldValueInvalid' },
  ],
  [
    'Service names are DNS-1035 labels',
    (s) => (s.metadata.name = '1web'),
    { field: 'metadata.name', reason: 'FieldValueInvalid' },
  ],
];

test('the valid Service, NodePort, headless and ExternalName variants are valid', (t) => {
  const variants: Any[] = [
    validService(),
    { ...validService(), spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, nodePort: 30080 }] } },
    { ...validService(), spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, nodePort: 80 }] } },
    { ...validService(), spec: { clusterIP: 'None', selector: { app: 'web' } } },
    { ...validService(), spec: { type: 'ExternalName', externalName: 'db.example.test.' } },
    { ...validService(), spec: { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53 }] } },
  ];
  for (const v of variants) {
    applyDefaults(R.services, v as KObject);
    t.deepEqual(validateObject(R.services, v as KObject).causes, [], JSON.stringify(v.spec));
  }
});

for (const [label, mutate, want] of cases) {
  test(`Service: ${label}`, (t) => {
    const s = validService();
    mutate(s);
    expectCause(t, R.services, s, want);
  });
}

// ---------- Endpoints and EndpointSlice ----------

function validEndpoints(): KObject & Any {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'web', namespace: 'default' },
    subsets: [{ addresses: [{ ip: '10.244.0.5' }], ports: [{ name: 'http', port: 8080 }] }],
  };
}

function validSlice(): KObject & Any {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-x1', namespace: 'default' },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.244.0.5'] }],
    ports: [{ name: 'http', port: 8080 }],
  };
}

test('Endpoints and EndpointSlice: valid', (t) => {
  const e = validEndpoints();
  applyDefaults(R.endpoints, e);
  t.deepEqual(validateObject(R.endpoints, e).causes, []);
  const s = validSlice();
  applyDefaults(R.endpointslices, s);
  t.deepEqual(validateObject(R.endpointslices, s).causes, []);
});

const endpointCases: [string, ResourceInfo, () => KObject & Any, (o: Any) => void, Expect][] = [
  [
    'Endpoints address not an IP',
    R.endpoints,
    validEndpoints,
    (o) => (o.subsets[0].addresses[0].ip = 'web-1'),
    { field: 'subsets[0].addresses[0].ip', reason: 'FieldValueInvalid', message: 'Invalid value: "web-1": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)' },
  ],
  [
    'Endpoints address on loopback',
    R.endpoints,
    validEndpoints,
    (o) => (o.subsets[0].notReadyAddresses = [{ ip: '127.0.0.1' }]),
    { field: 'subsets[0].notReadyAddresses[0].ip', reason: 'FieldValueInvalid', message: 'Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)' },
  ],
  [
    'Endpoints port out of range',
    R.endpoints,
    validEndpoints,
    (o) => (o.subsets[0].ports[0].port = 0),
    { field: 'subsets[0].ports[0].port', reason: 'FieldValueInvalid' },
  ],
  [
    'Endpoints unnamed port among several',
    R.endpoints,
    validEndpoints,
    (o) => o.subsets[0].ports.push({ port: 9090 }),
    { field: 'subsets[0].ports[1].name', reason: 'FieldValueRequired' },
  ],
  [
    'EndpointSlice addressType enum',
    R.endpointslices,
    validSlice,
    (o) => (o.addressType = 'IPv5'),
    { field: 'addressType', reason: 'FieldValueNotSupported', message: 'Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"' },
  ],
  [
    'EndpointSlice IPv4 slice with a bad address',
    R.endpointslices,
    validSlice,
    (o) => (o.endpoints[0].addresses = ['10.244.0.256']),
    { field: 'endpoints[0].addresses[0]', reason: 'FieldValueInvalid', message: 'Invalid value: "10.244.0.256": must be a valid IPv4 address' },
  ],
  [
    'EndpointSlice endpoint without addresses',
    R.endpointslices,
    validSlice,
    (o) => (o.endpoints[0].addresses = []),
    { field: 'endpoints[0].addresses', reason: 'FieldValueRequired' },
  ],
  [
    'EndpointSlice without addressType',
    R.endpointslices,
    validSlice,
    (o) => delete o.addressType,
    { field: 'addressType', reason: 'FieldValueRequired' },
  ],
];

for (const [label, res, make, mutate, want] of endpointCases) {
  test(label, (t) => {
    const o = make();
    mutate(o);
    expectCause(t, res, o, want);
  });
}
