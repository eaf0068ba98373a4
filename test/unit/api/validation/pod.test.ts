import test from 'ava';
import { R } from '../../../../src/api/resources.js';
import type { KObject } from '../../../../src/api/types.js';
import { applyDefaults, validateObject } from '../../../../src/api/validation/index.js';

type Any = Record<string, any>;

function validPod(): KObject & Any {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'nginx:1.25',
          ports: [{ name: 'http', containerPort: 80 }],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
          readinessProbe: { httpGet: { path: '/', port: 'http' } },
        },
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
    },
  };
}

interface Expect {
  field: string;
  reason: string;
  message?: string;
}

const cases: [string, (p: Any) => void, Expect][] = [
  ['no containers', (p) => (p.spec.containers = []), { field: 'spec.containers', reason: 'FieldValueRequired', message: 'Required value' }],
  [
    'duplicate container names',
    (p) => p.spec.containers.push({ name: 'web', image: 'busybox:1' }),
    { field: 'spec.containers[1].name', reason: 'FieldValueDuplicate', message: 'Duplicate value: "web"' },
  ],
  [
    'an init container named like an app container',
    (p) => (p.spec.initContainers = [{ name: 'web', image: 'busybox:1' }]),
    { field: 'spec.containers[0].name', reason: 'FieldValueDuplicate' },
  ],
  [
    'container name not a DNS-1123 label',
    (p) => (p.spec.containers[0].name = 'Web_1'),
    {
      field: 'spec.containers[0].name',
      reason: 'FieldValueInvalid',
      message:
        "Invalid value: \"Web_1\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    },
  ],
  ['image missing', (p) => delete p.spec.containers[0].image, { field: 'spec.containers[0].image', reason: 'FieldValueRequired' }],
  [
    'image with whitespace',
    (p) => (p.spec.containers[0].image = ' nginx'),
    { field: 'spec.containers[0].image', reason: 'FieldValueInvalid', message: 'Invalid value: " nginx": must not have leading or trailing whitespace' },
  ],
  [
    'duplicate port names',
    (p) => p.spec.containers[0].ports.push({ name: 'http', containerPort: 81 }),
    { field: 'spec.containers[0].ports[1].name', reason: 'FieldValueDuplicate', message: 'Duplicate value: "http"' },
  ],
  [
    'port name not an IANA_SVC_NAME',
    (p) => (p.spec.containers[0].ports[0].name = 'http-metrics-port'),
    { field: 'spec.containers[0].ports[0].name', reason: 'FieldValueInvalid', message: 'Invalid value: "http-metrics-port": must be no more than 15 characters' },
  ],
  [
    'containerPort out of range',
    (p) => (p.spec.containers[0].ports[0].containerPort = 70000),
    { field: 'spec.containers[0].ports[0].containerPort', reason: 'FieldValueInvalid', message: 'Invalid value: 70000: must be between 1 and 65535, inclusive' },
  ],
  ['containerPort 0', (p) => (p.spec.containers[0].ports[0].containerPort = 0), { field: 'spec.containers[0].ports[0].containerPort', reason: 'FieldValueRequired' }],
  [
    'hostPort out of range',
    (p) => (p.spec.containers[0].ports[0].hostPort = 65536),
    { field: 'spec.containers[0].ports[0].hostPort', reason: 'FieldValueInvalid', message: 'Invalid value: 65536: must be between 1 and 65535, inclusive' },
  ],
  [
    'unknown protocol',
    (p) => (p.spec.containers[0].ports[0].protocol = 'ICMP'),
    { field: 'spec.containers[0].ports[0].protocol', reason: 'FieldValueNotSupported', message: 'Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"' },
  ],
  [
    'duplicate volume names',
    (p) => p.spec.volumes.push({ name: 'data', emptyDir: {} }),
    { field: 'spec.volumes[1].name', reason: 'FieldValueDuplicate', message: 'Duplicate value: "data"' },
  ],
  [
    'volume without a source',
    (p) => (p.spec.volumes[0] = { name: 'data' }),
    { field: 'spec.volumes[0]', reason: 'FieldValueRequired', message: 'Required value: must specify a volume type' },
  ],
  [
    'volume with two sources',
    (p) => (p.spec.volumes[0].secret = { secretName: 's' }),
    { field: 'spec.volumes[0].secret', reason: 'FieldValueForbidden', message: 'Forbidden: may not specify more than 1 volume type' },
  ],
  ['secret volume without secretName', (p) => (p.spec.volumes[0] = { name: 'data', secret: {} }), { field: 'spec.volumes[0].secret.secretName', reason: 'FieldValueRequired' }],
  [
    'configMap item with an absolute path',
    (p) => (p.spec.volumes[0] = { name: 'data', configMap: { name: 'c', items: [{ key: 'a', path: '/etc/a' }] } }),
    { field: 'spec.volumes[0].configMap.items[0].path', reason: 'FieldValueInvalid', message: 'Invalid value: "/etc/a": must be a relative path' },
  ],
  [
    'defaultMode out of range',
    (p) => (p.spec.volumes[0] = { name: 'data', secret: { secretName: 's', defaultMode: 0o1000 } }),
    { field: 'spec.volumes[0].secret.defaultMode', reason: 'FieldValueInvalid', message: 'Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive' },
  ],
  [
    'volumeMount of an unknown volume',
    (p) => (p.spec.containers[0].volumeMounts[0].name = 'nope'),
    { field: 'spec.containers[0].volumeMounts[0].name', reason: 'FieldValueNotFound', message: 'Not found: "nope"' },
  ],
  [
    'two mounts at one path',
    (p) => p.spec.containers[0].volumeMounts.push({ name: 'data', mountPath: '/data' }),
    { field: 'spec.containers[0].volumeMounts[1].mountPath', reason: 'FieldValueInvalid', message: 'Invalid value: "/data": must be unique' },
  ],
  [
    'subPath escaping the volume',
    (p) => (p.spec.containers[0].volumeMounts[0].subPath = '../etc'),
    { field: 'spec.containers[0].volumeMounts[0].subPath', reason: 'FieldValueInvalid', message: 'Invalid value: "../etc": must not contain \'..\'' },
  ],
  [
    'env var name invalid',
    (p) => (p.spec.containers[0].env = [{ name: '1BAD', value: 'x' }]),
    { field: 'spec.containers[0].env[0].name', reason: 'FieldValueInvalid' },
  ],
  [
    'env var with value and valueFrom',
    (p) => (p.spec.containers[0].env = [{ name: 'A', value: 'x', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }]),
    { field: 'spec.containers[0].env[0].valueFrom', reason: 'FieldValueInvalid', message: 'Invalid value: "": may not be specified when `value` is not empty' },
  ],
  [
    'env valueFrom with two sources',
    (p) =>
      (p.spec.containers[0].env = [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name' }, secretKeyRef: { name: 's', key: 'k' } } }]),
    { field: 'spec.containers[0].env[0].valueFrom', reason: 'FieldValueInvalid', message: 'Invalid value: "": may not have more than one field specified at a time' },
  ],
  [
    'env fieldRef to an unsupported path',
    (p) => (p.spec.containers[0].env = [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'spec.containers' } } }]),
    { field: 'spec.containers[0].env[0].valueFrom.fieldRef.fieldPath', reason: 'FieldValueNotSupported' },
  ],
  [
    'envFrom with both sources',
    (p) => (p.spec.containers[0].envFrom = [{ configMapRef: { name: 'a' }, secretRef: { name: 'b' } }]),
    { field: 'spec.containers[0].envFrom[0]', reason: 'FieldValueInvalid', message: 'Invalid value: "": may not have more than one field specified at a time' },
  ],
  [
    'malformed quantity',
    (p) => (p.spec.containers[0].resources = { limits: { cpu: 'lots' } }),
    {
      field: 'spec.containers[0].resources.limits[cpu]',
      reason: 'FieldValueInvalid',
      message: "Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    },
  ],
  [
    'negative quantity',
    (p) => (p.spec.containers[0].resources = { requests: { memory: '-1Gi' } }),
    { field: 'spec.containers[0].resources.requests[memory]', reason: 'FieldValueInvalid', message: 'Invalid value: "-1Gi": must be greater than or equal to 0' },
  ],
  [
    'request above limit',
    (p) => (p.spec.containers[0].resources = { limits: { memory: '1Gi' }, requests: { memory: '2Gi' } }),
    { field: 'spec.containers[0].resources.requests[memory]', reason: 'FieldValueInvalid', message: 'Invalid value: "2Gi": must be less than or equal to memory limit of 1Gi' },
  ],
  [
    'unknown resource name',
    (p) => (p.spec.containers[0].resources = { limits: { cpuu: '1' } }),
    { field: 'spec.containers[0].resources.limits[cpuu]', reason: 'FieldValueInvalid', message: 'Invalid value: "cpuu": must be a standard resource for containers' },
  ],
  [
    'probe without a handler',
    (p) => (p.spec.containers[0].livenessProbe = { periodSeconds: 5 }),
    { field: 'spec.containers[0].livenessProbe', reason: 'FieldValueRequired', message: 'Required value: must specify a handler type' },
  ],
  [
    'probe with two handlers',
    (p) => (p.spec.containers[0].livenessProbe = { httpGet: { port: 80 }, tcpSocket: { port: 80 } }),
    { field: 'spec.containers[0].livenessProbe.tcpSocket', reason: 'FieldValueForbidden', message: 'Forbidden: may not specify more than 1 handler type' },
  ],
  [
    'probe with a negative period',
    (p) => (p.spec.containers[0].readinessProbe.periodSeconds = -5),
    { field: 'spec.containers[0].readinessProbe.periodSeconds', reason: 'FieldValueInvalid', message: 'Invalid value: -5: must be greater than or equal to 0' },
  ],
  [
    'liveness probe successThreshold other than 1',
    (p) => (p.spec.containers[0].livenessProbe = { exec: { command: ['true'] }, successThreshold: 2 }),
    { field: 'spec.containers[0].livenessProbe.successThreshold', reason: 'FieldValueInvalid', message: 'Invalid value: 2: must be 1' },
  ],
  [
    'probe on a port name the container does not have',
    (p) => (p.spec.containers[0].readinessProbe.httpGet.port = 'metrics'),
    {
      field: 'spec.containers[0].readinessProbe.httpGet.port',
      reason: 'FieldValueInvalid',
      message: 'Invalid value: "metrics": must match the name of a port of this container',
    },
  ],
  [
    'probe on a port number out of range',
    (p) => (p.spec.containers[0].readinessProbe.httpGet.port = 0),
    { field: 'spec.containers[0].readinessProbe.httpGet.port', reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be between 1 and 65535, inclusive' },
  ],
  [
    'exec probe without a command',
    (p) => (p.spec.containers[0].livenessProbe = { exec: {} }),
    { field: 'spec.containers[0].livenessProbe.exec.command', reason: 'FieldValueRequired' },
  ],
  [
    'probe on a (non-sidecar) init container',
    (p) => (p.spec.initContainers = [{ name: 'init', image: 'busybox:1', readinessProbe: { exec: { command: ['true'] } } }]),
    { field: 'spec.initContainers[0].readinessProbe', reason: 'FieldValueForbidden', message: 'Forbidden: may not be set for init containers without restartPolicy=Always' },
  ],
  [
    'restartPolicy enum',
    (p) => (p.spec.restartPolicy = 'Sometimes'),
    { field: 'spec.restartPolicy', reason: 'FieldValueNotSupported', message: 'Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"' },
  ],
  [
    'dnsPolicy enum',
    (p) => (p.spec.dnsPolicy = 'Cluster'),
    {
      field: 'spec.dnsPolicy',
      reason: 'FieldValueNotSupported',
      message: 'Unsupported value: "Cluster": supported values: "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"',
    },
  ],
  [
    'dnsPolicy None without dnsConfig',
    (p) => (p.spec.dnsPolicy = 'None'),
    { field: 'spec.dnsConfig', reason: 'FieldValueRequired', message: 'Required value: must provide `dnsConfig` when `dnsPolicy` is None' },
  ],
  [
    'dnsPolicy None without nameservers',
    (p) => Object.assign(p.spec, { dnsPolicy: 'None', dnsConfig: { searches: ['svc.cluster.local'] } }),
    { field: 'spec.dnsConfig.nameservers', reason: 'FieldValueRequired', message: 'Required value: must provide at least one DNS nameserver when `dnsPolicy` is None' },
  ],
  [
    'nameserver not an IP',
    (p) => (p.spec.dnsConfig = { nameservers: ['dns.local'] }),
    { field: 'spec.dnsConfig.nameservers[0]', reason: 'FieldValueInvalid' },
  ],
  ['hostname not a label', (p) => (p.spec.hostname = 'Web.1'), { field: 'spec.hostname', reason: 'FieldValueInvalid' }],
  ['subdomain not a label', (p) => (p.spec.subdomain = 'a_b'), { field: 'spec.subdomain', reason: 'FieldValueInvalid' }],
  [
    'two containers on one host port',
    (p) => {
      p.spec.containers[0].ports[0].hostPort = 8080;
      p.spec.containers.push({ name: 'b', image: 'x:1', ports: [{ containerPort: 81, hostPort: 8080 }] });
    },
    { field: 'spec.containers[1].ports[0].hostPort', reason: 'FieldValueDuplicate', message: 'Duplicate value: "8080/TCP"' },
  ],
  [
    'hostNetwork with hostPort != containerPort',
    (p) => {
      p.spec.hostNetwork = true;
      p.spec.containers[0].ports[0].hostPort = 8080;
    },
    { field: 'spec.containers[0].ports[0].hostPort', reason: 'FieldValueInvalid', message: 'Invalid value: 8080: must match `containerPort` when `hostNetwork` is true' },
  ],
  [
    'ephemeral containers on create',
    (p) => (p.spec.ephemeralContainers = [{ name: 'debug', image: 'busybox:1' }]),
    { field: 'spec.ephemeralContainers', reason: 'FieldValueForbidden', message: 'Forbidden: cannot be set on create' },
  ],
  [
    'toleration without key and with Equal',
    (p) => (p.spec.tolerations = [{ operator: 'Equal', value: 'x' }]),
    { field: 'spec.tolerations[0].operator', reason: 'FieldValueInvalid' },
  ],
  [
    'tolerationSeconds without NoExecute',
    (p) => (p.spec.tolerations = [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 5 }]),
    { field: 'spec.tolerations[0].effect', reason: 'FieldValueInvalid', message: 'Invalid value: "NoSchedule": effect must be \'NoExecute\' when `tolerationSeconds` is set' },
  ],
  [
    'nodeSelector with an invalid value',
    (p) => (p.spec.nodeSelector = { disk: 'fast ssd' }),
    { field: 'spec.nodeSelector', reason: 'FieldValueInvalid' },
  ],
  [
    'activeDeadlineSeconds 0',
    (p) => (p.spec.activeDeadlineSeconds = 0),
    { field: 'spec.activeDeadlineSeconds', reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be between 1 and 2147483647, inclusive' },
  ],
  [
    'In node-affinity requirement without values',
    (p) => (p.spec.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In' }] }] } } }),
    {
      field: 'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values',
      reason: 'FieldValueRequired',
    },
  ],
  [
    'topology spread with maxSkew 0',
    (p) => (p.spec.topologySpreadConstraints = [{ maxSkew: 0, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' }]),
    { field: 'spec.topologySpreadConstraints[0].maxSkew', reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be greater than zero' },
  ],
  [
    'a wrongly typed field',
    (p) => (p.spec.containers[0].ports[0].containerPort = '80'),
    { field: 'spec.containers[0].ports[0].containerPort', reason: 'FieldValueTypeInvalid', message: 'Invalid value: "80": must be of type integer' },
  ],
  [
    'an int-or-string given a boolean',
    (p) => (p.spec.containers[0].readinessProbe.httpGet.port = true),
    { field: 'spec.containers[0].readinessProbe.httpGet.port', reason: 'FieldValueTypeInvalid', message: 'Invalid value: true: must be of type integer or string' },
  ],
  [
    'a missing required field of a list element',
    (p) => (p.spec.containers[0].volumeMounts = [{ name: 'data' }]),
    { field: 'spec.containers[0].volumeMounts[0].mountPath', reason: 'FieldValueRequired', message: 'Required value' },
  ],
];

test('the valid pod is valid', (t) => {
  const p = validPod();
  applyDefaults(R.pods, p);
  t.deepEqual(validateObject(R.pods, p), { causes: [], unknownFields: [] });
});

for (const [label, mutate, want] of cases) {
  test(`Pod: ${label}`, (t) => {
    const p = validPod();
    mutate(p);
    applyDefaults(R.pods, p);
    const { causes } = validateObject(R.pods, p);
    const hit = causes.find((c) => c.field === want.field && c.reason === want.reason);
    t.truthy(hit, `want ${want.field} ${want.reason}, got ${JSON.stringify(causes, null, 1)}`);
    if (want.message) t.is(hit?.message, want.message);
  });
}

test('wrong JSON types stop the semantic rules (no cascade of follow-up errors)', (t) => {
  const p = validPod();
  p.spec.containers[0].ports = 'http';
  applyDefaults(R.pods, p);
  const { causes } = validateObject(R.pods, p);
  t.deepEqual(causes, [{ reason: 'FieldValueTypeInvalid', field: 'spec.containers[0].ports', message: 'Invalid value: "http": must be of type array' }]);
});

test('a sidecar init container (restartPolicy Always) may have probes', (t) => {
  const p = validPod();
  p.spec.initContainers = [{ name: 'proxy', image: 'envoy:1', restartPolicy: 'Always', readinessProbe: { tcpSocket: { port: 15000 } } }];
  applyDefaults(R.pods, p);
  t.deepEqual(validateObject(R.pods, p).causes, []);
});

test('a regular container may not set restartPolicy', (t) => {
  const p = validPod();
  p.spec.containers[0].restartPolicy = 'Always';
  applyDefaults(R.pods, p);
  const { causes } = validateObject(R.pods, p);
  t.deepEqual(causes, [{ reason: 'FieldValueForbidden', field: 'spec.containers[0].restartPolicy', message: 'Forbidden: may not be set for non-init containers' }]);
});
