// metadata, ConfigMap, Secret, Ingress, IngressClass, Node, Namespace and Event rules.

import test from 'ava';
import { R, type ResourceInfo } from '../../../../src/api/resources.js';
import type { KObject } from '../../../../src/api/types.js';
import { applyDefaults, validateObject } from '../../../../src/api/validation/index.js';

type Any = Record<string, any>;

interface Expect {
  field: string;
  reason: string;
  message?: string;
}

const cm = (): KObject & Any => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { 'app.yaml': 'x: 1' } });
const secret = (): KObject & Any => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, data: { password: 'czNjcjN0' } });
const ingress = (): KObject & Any => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'web', namespace: 'default' },
  spec: {
    rules: [{ host: 'web.example.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }],
  },
});
const ingressClass = (): KObject & Any => ({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'kubelite' }, spec: { controller: 'kubelite.io/ingress-controller' } });
const node = (): KObject & Any => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'host-1' }, spec: { podCIDR: '10.244.1.0/24' } });
const ns = (): KObject & Any => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
const event = (): KObject & Any => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'web.1', namespace: 'default' },
  involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' },
  reason: 'Started',
});

const cases: [string, ResourceInfo, () => KObject & Any, (o: Any) => void, Expect][] = [
  // ----- metadata -----
  [
    'name missing',
    R.configmaps,
    cm,
    (o) => delete o.metadata.name,
    { field: 'metadata.name', reason: 'FieldValueRequired', message: 'Required value: name or generateName is required' },
  ],
  [
    'name not a DNS-1123 subdomain',
    R.configmaps,
    cm,
    (o) => (o.metadata.name = 'My_Config'),
    {
      field: 'metadata.name',
      reason: 'FieldValueInvalid',
      message:
        "Invalid value: \"My_Config\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    },
  ],
  ['generateName invalid', R.configmaps, cm, (o) => (o.metadata = { generateName: 'Cfg-', namespace: 'default' }), { field: 'metadata.generateName', reason: 'FieldValueInvalid' }],
  ['namespace invalid', R.configmaps, cm, (o) => (o.metadata.namespace = 'Team.A'), { field: 'metadata.namespace', reason: 'FieldValueInvalid' }],
  ['namespace missing on a namespaced kind', R.configmaps, cm, (o) => delete o.metadata.namespace, { field: 'metadata.namespace', reason: 'FieldValueRequired' }],
  [
    'namespace on a cluster-scoped kind',
    R.nodes,
    node,
    (o) => (o.metadata.namespace = 'default'),
    { field: 'metadata.namespace', reason: 'FieldValueForbidden', message: 'Forbidden: not allowed on this type' },
  ],
  ['label key invalid', R.configmaps, cm, (o) => (o.metadata.labels = { 'my label': 'x' }), { field: 'metadata.labels', reason: 'FieldValueInvalid' }],
  [
    'label value too long',
    R.configmaps,
    cm,
    (o) => (o.metadata.labels = { app: 'x'.repeat(64) }),
    { field: 'metadata.labels', reason: 'FieldValueInvalid', message: `Invalid value: "${'x'.repeat(64)}": must be no more than 63 characters` },
  ],
  ['annotation key invalid', R.configmaps, cm, (o) => (o.metadata.annotations = { 'a/b/c': 'x' }), { field: 'metadata.annotations', reason: 'FieldValueInvalid' }],
  [
    'annotations over 256 KiB',
    R.configmaps,
    cm,
    (o) => (o.metadata.annotations = { big: 'x'.repeat(256 * 1024) }),
    { field: 'metadata.annotations', reason: 'FieldValueTooLong', message: 'Too long: may not be more than 262144 bytes' },
  ],
  [
    'two controller owners',
    R.configmaps,
    cm,
    (o) =>
      (o.metadata.ownerReferences = [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'a', uid: '1', controller: true },
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'b', uid: '2', controller: true },
      ]),
    { field: 'metadata.ownerReferences', reason: 'FieldValueInvalid' },
  ],
  [
    'owner reference without uid',
    R.configmaps,
    cm,
    (o) => (o.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Service', name: 'a', uid: '' }]),
    { field: 'metadata.ownerReferences.uid', reason: 'FieldValueInvalid', message: 'Invalid value: "": uid must not be empty' },
  ],
  ['finalizer not a qualified name', R.configmaps, cm, (o) => (o.metadata.finalizers = ['a/b/c']), { field: 'metadata.finalizers', reason: 'FieldValueInvalid' }],
  ['Namespace names are DNS-1123 labels', R.namespaces, ns, (o) => (o.metadata.name = 'team.a'), { field: 'metadata.name', reason: 'FieldValueInvalid', message: 'Invalid value: "team.a": must not contain dots' }],

  // ----- ConfigMap / Secret -----
  ['ConfigMap key invalid', R.configmaps, cm, (o) => (o.data['bad key'] = 'x'), { field: 'data[bad key]', reason: 'FieldValueInvalid' }],
  ['ConfigMap key ".."', R.configmaps, cm, (o) => (o.data['..'] = 'x'), { field: 'data[..]', reason: 'FieldValueInvalid', message: 'Invalid value: "..": must not be \'..\'' }],
  [
    'ConfigMap key in data and binaryData',
    R.configmaps,
    cm,
    (o) => (o.binaryData = { 'app.yaml': 'eA==' }),
    { field: 'binaryData[app.yaml]', reason: 'FieldValueInvalid', message: 'Invalid value: "app.yaml": duplicate of key present in data' },
  ],
  [
    'ConfigMap over 1 MiB',
    R.configmaps,
    cm,
    (o) => (o.data.big = 'x'.repeat(1024 * 1024 + 1)),
    { field: '', reason: 'FieldValueTooLong', message: 'Too long: may not be more than 1048576 bytes' },
  ],
  ['ConfigMap data value not a string', R.configmaps, cm, (o) => (o.data.port = 8080), { field: 'data[port]', reason: 'FieldValueTypeInvalid', message: 'Invalid value: 8080: must be of type string' }],
  [
    'Secret data not base64 (and never echoed)',
    R.secrets,
    secret,
    (o) => (o.data.password = 'plain text!'),
    { field: 'data[password]', reason: 'FieldValueInvalid', message: 'Invalid value: "<secret data>": must be a valid base64 string' },
  ],
  ['Secret key invalid', R.secrets, secret, (o) => (o.data['a b'] = 'eA=='), { field: 'data[a b]', reason: 'FieldValueInvalid' }],
  ['TLS Secret without tls.crt', R.secrets, secret, (o) => Object.assign(o, { type: 'kubernetes.io/tls', data: { 'tls.key': 'eA==' } }), { field: 'data[tls.crt]', reason: 'FieldValueRequired' }],
  ['TLS Secret without tls.key', R.secrets, secret, (o) => Object.assign(o, { type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==' } }), { field: 'data[tls.key]', reason: 'FieldValueRequired' }],
  [
    'dockerconfigjson Secret with a bad document',
    R.secrets,
    secret,
    (o) => Object.assign(o, { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from('{nope').toString('base64') } }),
    { field: 'data[.dockerconfigjson]', reason: 'FieldValueInvalid' },
  ],

  // ----- Ingress / IngressClass -----
  [
    'Ingress without rules or defaultBackend',
    R.ingresses,
    ingress,
    (o) => (o.spec = {}),
    { field: 'spec', reason: 'FieldValueInvalid', message: 'Invalid value: null: either `defaultBackend` or `rules` must be specified' },
  ],
  [
    'Ingress host is an IP',
    R.ingresses,
    ingress,
    (o) => (o.spec.rules[0].host = '10.0.0.1'),
    { field: 'spec.rules[0].host', reason: 'FieldValueInvalid', message: 'Invalid value: "10.0.0.1": must be a DNS name, not an IP address' },
  ],
  ['Ingress host invalid', R.ingresses, ingress, (o) => (o.spec.rules[0].host = 'Web_Site.test'), { field: 'spec.rules[0].host', reason: 'FieldValueInvalid' }],
  ['Ingress wildcard in the middle', R.ingresses, ingress, (o) => (o.spec.rules[0].host = 'a.*.test'), { field: 'spec.rules[0].host', reason: 'FieldValueInvalid' }],
  [
    'Ingress path not absolute',
    R.ingresses,
    ingress,
    (o) => (o.spec.rules[0].http.paths[0].path = 'api'),
    { field: 'spec.rules[0].http.paths[0].path', reason: 'FieldValueInvalid', message: 'Invalid value: "api": must be an absolute path' },
  ],
  [
    'Ingress Prefix path with //',
    R.ingresses,
    ingress,
    (o) => (o.spec.rules[0].http.paths[0].path = '/a//b'),
    { field: 'spec.rules[0].http.paths[0].path', reason: 'FieldValueInvalid', message: "Invalid value: \"/a//b\": must not contain '//'" },
  ],
  ['Ingress pathType missing', R.ingresses, ingress, (o) => delete o.spec.rules[0].http.paths[0].pathType, { field: 'spec.rules[0].http.paths[0].pathType', reason: 'FieldValueRequired' }],
  [
    'Ingress pathType enum',
    R.ingresses,
    ingress,
    (o) => (o.spec.rules[0].http.paths[0].pathType = 'Regex'),
    { field: 'spec.rules[0].http.paths[0].pathType', reason: 'FieldValueNotSupported', message: 'Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"' },
  ],
  [
    'Ingress backend port with name and number',
    R.ingresses,
    ingress,
    (o) => (o.spec.rules[0].http.paths[0].backend.service.port = { name: 'http', number: 80 }),
    { field: 'spec.rules[0].http.paths[0].backend.service.port', reason: 'FieldValueInvalid' },
  ],
  [
    'Ingress backend port missing',
    R.ingresses,
    ingress,
    (o) => (o.spec.rules[0].http.paths[0].backend.service.port = {}),
    { field: 'spec.rules[0].http.paths[0].backend.service.port', reason: 'FieldValueRequired', message: 'Required value: port name or number is required' },
  ],
  [
    'Ingress backend with service and resource',
    R.ingresses,
    ingress,
    (o) => (o.spec.rules[0].http.paths[0].backend.resource = { kind: 'Bucket', name: 'b' }),
    { field: 'spec.rules[0].http.paths[0].backend', reason: 'FieldValueInvalid', message: 'Invalid value: "": cannot set both resource and service backends' },
  ],
  [
    'Ingress backend without a target',
    R.ingresses,
    ingress,
    (o) => (o.spec.rules[0].http.paths[0].backend = {}),
    { field: 'spec.rules[0].http.paths[0].backend', reason: 'FieldValueInvalid', message: 'Invalid value: "": resource or service backend is required' },
  ],
  ['Ingress TLS host invalid', R.ingresses, ingress, (o) => (o.spec.tls = [{ hosts: ['*'], secretName: 't' }]), { field: 'spec.tls[0].hosts[0]', reason: 'FieldValueInvalid' }],
  ['IngressClass without controller', R.ingressclasses, ingressClass, (o) => (o.spec = {}), { field: 'spec.controller', reason: 'FieldValueRequired' }],
  [
    'IngressClass controller not domain-prefixed',
    R.ingressclasses,
    ingressClass,
    (o) => (o.spec.controller = 'nginx'),
    { field: 'spec.controller', reason: 'FieldValueInvalid', message: 'Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")' },
  ],

  // ----- Node / Namespace / Event -----
  ['Node podCIDR invalid', R.nodes, node, (o) => (o.spec.podCIDR = '10.244.1.0/40'), { field: 'spec.podCIDR', reason: 'FieldValueInvalid' }],
  [
    'Node taint effect enum',
    R.nodes,
    node,
    (o) => (o.spec.taints = [{ key: 'k', effect: 'NoRun' }]),
    { field: 'spec.taints[0].effect', reason: 'FieldValueNotSupported', message: 'Unsupported value: "NoRun": supported values: "NoExecute", "NoSchedule", "PreferNoSchedule"' },
  ],
  ['Node taint key invalid', R.nodes, node, (o) => (o.spec.taints = [{ key: 'bad key', effect: 'NoSchedule' }]), { field: 'spec.taints[0].key', reason: 'FieldValueInvalid' }],
  [
    'Namespace finalizer neither standard nor qualified',
    R.namespaces,
    ns,
    (o) => (o.spec = { finalizers: ['custom'] }),
    { field: 'spec.finalizers[0]', reason: 'FieldValueInvalid', message: 'Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified' },
  ],
  [
    'Namespace phase enum',
    R.namespaces,
    ns,
    (o) => (o.status = { phase: 'Gone' }),
    { field: 'status.phase', reason: 'FieldValueNotSupported', message: 'Unsupported value: "Gone": supported values: "Active", "Terminating"' },
  ],
  [
    'Event type enum',
    R.events,
    event,
    (o) => (o.type = 'Error'),
    { field: 'type', reason: 'FieldValueNotSupported', message: 'Unsupported value: "Error": supported values: "Normal", "Warning"' },
  ],
  [
    'Event in another namespace than its object',
    R.events,
    event,
    (o) => (o.involvedObject.namespace = 'other'),
    { field: 'involvedObject.namespace', reason: 'FieldValueInvalid', message: 'Invalid value: "other": does not match event.namespace' },
  ],
  ['Event without involvedObject', R.events, event, (o) => delete o.involvedObject, { field: 'involvedObject', reason: 'FieldValueRequired' }],
];

test('the base objects are valid', (t) => {
  for (const [res, make] of [
    [R.configmaps, cm],
    [R.secrets, secret],
    [R.ingresses, ingress],
    [R.ingressclasses, ingressClass],
    [R.nodes, node],
    [R.namespaces, ns],
    [R.events, event],
  ] as const) {
    const o = make();
    applyDefaults(res, o);
    t.deepEqual(validateObject(res, o), { causes: [], unknownFields: [] }, res.kind);
  }
});

for (const [label, res, make, mutate, want] of cases) {
  test(`${res.kind}: ${label}`, (t) => {
    const o = make();
    mutate(o);
    applyDefaults(res, o);
    const { causes } = validateObject(res, o);
    const hit = causes.find((c) => c.field === want.field && c.reason === want.reason);
    t.truthy(hit, `want ${want.field} ${want.reason}, got ${JSON.stringify(causes, null, 1).slice(0, 2000)}`);
    if (want.message) t.is(hit?.message, want.message);
  });
}

test('Secret errors never contain the secret value', (t) => {
  const s = secret();
  s.data = { password: 'hunter2 is my password' };
  applyDefaults(R.secrets, s);
  const { causes } = validateObject(R.secrets, s);
  t.true(causes.length > 0);
  t.false(JSON.stringify(causes).includes('hunter2'));
});
