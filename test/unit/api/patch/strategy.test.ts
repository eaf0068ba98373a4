import test from 'ava';
import { hasStrategy, mergeKeyFor } from '../../../../src/api/patch/index.js';
import { R } from '../../../../src/api/resources.js';

// Values from the patchStrategy / patchMergeKey struct tags of k8s.io/api v1.32.
const table: [string, keyof typeof R, string, ReturnType<typeof mergeKeyFor>][] = [
  ['pod containers', 'pods', 'spec.containers', { strategy: 'merge', key: 'name' }],
  ['pod initContainers', 'pods', 'spec.initContainers', { strategy: 'merge', key: 'name' }],
  ['pod ephemeralContainers', 'pods', 'spec.ephemeralContainers', { strategy: 'merge', key: 'name' }],
  ['pod volumes (merge,retainKeys)', 'pods', 'spec.volumes', { strategy: 'merge', key: 'name', retainKeys: true }],
  ['container env', 'pods', 'spec.containers.env', { strategy: 'merge', key: 'name' }],
  ['init container env', 'pods', 'spec.initContainers.env', { strategy: 'merge', key: 'name' }],
  ['container ports', 'pods', 'spec.containers.ports', { strategy: 'merge', key: 'containerPort', listMapKeys: ['containerPort', 'protocol'] }],
  ['container volumeMounts', 'pods', 'spec.containers.volumeMounts', { strategy: 'merge', key: 'mountPath' }],
  ['container volumeDevices', 'pods', 'spec.containers.volumeDevices', { strategy: 'merge', key: 'devicePath' }],
  ['container envFrom', 'pods', 'spec.containers.envFrom', { strategy: 'replace' }],
  ['imagePullSecrets', 'pods', 'spec.imagePullSecrets', { strategy: 'merge', key: 'name' }],
  ['tolerations', 'pods', 'spec.tolerations', { strategy: 'replace' }],
  ['pod conditions', 'pods', 'status.conditions', { strategy: 'merge', key: 'type' }],
  ['pod podIPs', 'pods', 'status.podIPs', { strategy: 'merge', key: 'ip' }],
  ['pod containerStatuses', 'pods', 'status.containerStatuses', { strategy: 'replace' }],
  ['deployment template containers', 'deployments', 'spec.template.spec.containers', { strategy: 'merge', key: 'name' }],
  ['deployment template env', 'deployments', 'spec.template.spec.containers.env', { strategy: 'merge', key: 'name' }],
  ['deployment template finalizers', 'deployments', 'spec.template.metadata.finalizers', { strategy: 'merge' }],
  ['deployment strategy', 'deployments', 'spec.strategy', { strategy: 'retainKeys', retainKeys: true }],
  ['deployment conditions', 'deployments', 'status.conditions', { strategy: 'merge', key: 'type' }],
  ['replicaset template volumes', 'replicasets', 'spec.template.spec.volumes', { strategy: 'merge', key: 'name', retainKeys: true }],
  ['service ports', 'services', 'spec.ports', { strategy: 'merge', key: 'port', listMapKeys: ['port', 'protocol'] }],
  ['service externalIPs', 'services', 'spec.externalIPs', { strategy: 'replace' }],
  ['endpoints subsets', 'endpoints', 'subsets', { strategy: 'replace' }],
  ['node taints', 'nodes', 'spec.taints', { strategy: 'replace' }],
  ['node podCIDRs', 'nodes', 'spec.podCIDRs', { strategy: 'merge' }],
  ['node addresses', 'nodes', 'status.addresses', { strategy: 'merge', key: 'type' }],
  ['node conditions', 'nodes', 'status.conditions', { strategy: 'merge', key: 'type' }],
  ['namespace finalizers', 'namespaces', 'spec.finalizers', { strategy: 'replace' }],
  ['ownerReferences', 'configmaps', 'metadata.ownerReferences', { strategy: 'merge', key: 'uid' }],
  ['finalizers', 'secrets', 'metadata.finalizers', { strategy: 'merge' }],
  ['ingress rules', 'ingresses', 'spec.rules', { strategy: 'replace' }],
  ['ingress tls', 'ingresses', 'spec.tls', { strategy: 'replace' }],
  ['endpointslice endpoints', 'endpointslices', 'endpoints', { strategy: 'replace' }],
  ['a plain field', 'pods', 'spec.nodeName', undefined],
  ['an unknown path', 'pods', 'spec.nope.deeper', undefined],
  ['pod paths do not apply to a deployment root', 'deployments', 'spec.containers', undefined],
];

for (const [name, res, path, want] of table) {
  test(`mergeKeyFor: ${name}`, (t) => {
    t.deepEqual(mergeKeyFor(R[res], path.split('.')), want);
  });
}

test('kinds without a table still know ObjectMeta, and nothing else', (t) => {
  const widget = { group: 'example.com', kind: 'Widget' };
  t.deepEqual(mergeKeyFor(widget, ['metadata', 'finalizers']), { strategy: 'merge' });
  t.is(mergeKeyFor(widget, ['spec', 'containers']), undefined);
  t.is(mergeKeyFor(undefined, ['spec', 'containers']), undefined);
  t.false(hasStrategy(widget));
  t.true(hasStrategy(R.pods));
});
