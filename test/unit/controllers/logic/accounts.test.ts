import test from 'ava';
import type { ClusterRole, Pod } from '../../../../src/api/types.js';
import { admitPodServiceAccount, aggregatedRules, kubeAPIAccessVolume, shouldAutomount } from '../../../../src/controllers/logic/accounts.js';
import { validatePodSpec } from '../../../../src/api/validation/index.js';

const pod = (spec: Partial<Pod['spec']> = {}): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'a' }, spec: { restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', containers: [{ name: 'app', image: 'x' }, { name: 'side', image: 'y' }], ...spec } });

test('admission: default account, kube-api-access volume mounted read-only in every container', (t) => {
  const p = pod({ initContainers: [{ name: 'init', image: 'z' }] });
  admitPodServiceAccount(p, undefined, 'abcde');
  t.is(p.spec.serviceAccountName, 'default');
  t.is(p.spec.serviceAccount, 'default');
  t.deepEqual(p.spec.volumes, [kubeAPIAccessVolume('kube-api-access-abcde')]);
  for (const c of [...p.spec.initContainers!, ...p.spec.containers]) t.deepEqual(c.volumeMounts, [{ name: 'kube-api-access-abcde', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }]);
  t.deepEqual(validatePodSpec(p.spec, 'spec'), [], 'the result is a valid Pod spec');
});

test('admission: automount off (Pod or account), a container that mounts the path itself, imagePullSecrets from the account', (t) => {
  const off = pod({ automountServiceAccountToken: false });
  admitPodServiceAccount(off, undefined, 'x');
  t.is(off.spec.volumes, undefined);
  const saOff = pod();
  admitPodServiceAccount(saOff, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' }, automountServiceAccountToken: false, imagePullSecrets: [{ name: 'reg' }] }, 'x');
  t.is(saOff.spec.volumes, undefined);
  t.deepEqual(saOff.spec.imagePullSecrets, [{ name: 'reg' }]);
  t.true(shouldAutomount(pod({ automountServiceAccountToken: true }), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: {}, automountServiceAccountToken: false }), 'the Pod has the last word');
  const own = pod();
  own.spec.containers[0].volumeMounts = [{ name: 'mine', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }];
  own.spec.volumes = [{ name: 'mine', emptyDir: {} }, { name: 'kube-api-access-q', emptyDir: {} }];
  admitPodServiceAccount(own, undefined, 'q');
  t.deepEqual(own.spec.containers[0].volumeMounts!.map((m) => m.name), ['mine']);
  t.deepEqual(own.spec.containers[1].volumeMounts!.map((m) => m.name), ['kube-api-access-q2'], 'a name already taken gets a suffix');
});

test('aggregation: rules of every matching ClusterRole, each once, the role itself excluded', (t) => {
  const cr = (name: string, labels: Record<string, string>, verbs: string[]): ClusterRole => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels }, rules: [{ verbs, apiGroups: [''], resources: ['pods'] }] });
  const view: ClusterRole = { ...cr('view', { 'x/agg-to-view': 'true' }, ['*']), aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'x/agg-to-view': 'true' } }] } };
  const all = [view, cr('b', { 'x/agg-to-view': 'true' }, ['list']), cr('a', { 'x/agg-to-view': 'true' }, ['get']), cr('c', {}, ['delete']), cr('d', { 'x/agg-to-view': 'true' }, ['get'])];
  t.deepEqual(aggregatedRules(view, all).map((r) => r.verbs), [['get'], ['list']]);
});
