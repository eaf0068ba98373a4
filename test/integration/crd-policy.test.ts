// CustomResourceDefinitions and the policy kinds of a typical chart, on the real engine with the real
// kubectl (slot 36): a CRD with a structural schema (defaults, pattern and bound checks, printer
// columns, status and scale subresources, a short name, a second served version) is Established and
// its objects are created, refused with the field path when invalid, listed with their columns,
// watched, scaled, explained, garbage-collected with their owner and deleted with their definition;
// non-structural schemas and names already in use are refused with a 422 naming the field. Then
// `kubectl drain` of the single node is held up by a PodDisruptionBudget (cordon + evictions, the last
// protected Pod's eviction refused with Kubernetes' 429), NetworkPolicies are stored with a plain
// "not enforced" warning, and PriorityClasses give Pods their priority. Needs root and Docker;
// everything of instance t36 is removed afterwards.

import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IMAGES } from '../../src/images/refs.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { dockerAvailable } from '../helpers/docker.js';
import { kubectlFor, tableRows, type Kubectl } from '../helpers/kubectl.js';
import { withKubectl } from '../helpers/kubectl-suite.js';
import { tearDownServer } from '../helpers/teardown.js';

const SLOT = 36;

withKubectl('CRDs and policy kinds', suite);

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames: [ct]
    categories: [all]
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        description: A schedule and the image it runs.
        properties:
          spec:
            type: object
            required: [cronSpec]
            properties:
              cronSpec:
                type: string
                description: When to run, in cron syntax.
                pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'
              image: {type: string}
              replicas: {type: integer, minimum: 0, maximum: 10, default: 1}
          status:
            type: object
            properties:
              replicas: {type: integer}
              labelSelector: {type: string}
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas, labelSelectorPath: .status.labelSelector}
    additionalPrinterColumns:
    - {name: Spec, type: string, jsonPath: .spec.cronSpec}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Image, type: string, jsonPath: .spec.image, priority: 1}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`;

function suite(bin: string): void {
  let server: TestServer | undefined;
  let k: Kubectl;
  let tmp: string;

  test.before(async () => {
    if (!(await dockerAvailable())) throw new Error('these tests need a Docker engine (scripts/ensure-docker.sh starts one)');
    server = await startTestServer({ slot: SLOT, args: ['--disable', 'ingress'] });
    k = kubectlFor(server.kubeconfig, bin);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-crd-'));
  });

  test.after.always(async () => {
    await tearDownServer(server, SLOT);
    k?.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const kubectlApply = (text: string) => k(['apply', '-f', '-'], { input: text });
  const apply = async (text: string) => {
    const r = await kubectlApply(text);
    if (r.code !== 0) throw new Error(`kubectl apply: ${r.stderr}`);
    return r;
  };
  const json = async <T>(args: string[]): Promise<T> => {
    const r = await k([...args, '-o', 'json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as T;
  };
  const cronTab = (name: string, spec: string) => `apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: ${name}}\nspec: ${spec}\n`;

  test.serial('a CRD is Established, served in discovery and OpenAPI, and its objects are validated, defaulted, listed with printer columns', async (t) => {
    const created = await apply(CRD);
    t.regex(created.stdout, /customresourcedefinition.apiextensions.k8s.io\/crontabs.stable.example.com created/);
    const wait = await k(['wait', '--for', 'condition=Established', 'crd/crontabs.stable.example.com', '--timeout=20s']);
    t.is(wait.code, 0, wait.stderr);
    const crd = await json<{ status: { acceptedNames: { kind: string; shortNames: string[] }; storedVersions: string[]; conditions: { type: string; status: string; reason: string }[] }; metadata: { finalizers: string[] } }>(['get', 'crd', 'crontabs.stable.example.com']);
    t.is(crd.status.acceptedNames.kind, 'CronTab');
    t.deepEqual(crd.status.acceptedNames.shortNames, ['ct']);
    t.deepEqual(crd.status.storedVersions, ['v1']);
    t.is(crd.status.conditions.find((c) => c.type === 'NamesAccepted')?.reason, 'NoConflicts');
    t.deepEqual(crd.metadata.finalizers, ['customresourcecleanup.apiextensions.k8s.io']);

    const resources = await k(['api-resources', '--api-group=stable.example.com']);
    t.regex(resources.stdout, /crontabs\s+ct\s+stable\.example\.com\/v1\s+true\s+CronTab/);

    const r = await apply(cronTab('nightly', '{cronSpec: "0 3 * * *", image: backup:1}'));
    t.regex(r.stdout, /crontab.stable.example.com\/nightly created/);
    await apply(cronTab('hourly', '{cronSpec: "0 * * * *", image: report:2, replicas: 3}'));
    const nightly = await json<{ spec: { replicas: number }; metadata: { generation: number } }>(['get', 'ct', 'nightly']);
    t.is(nightly.spec.replicas, 1, 'the schema default filled replicas');

    const table = tableRows((await k(['get', 'crontabs'])).stdout);
    t.deepEqual(table[0], ['NAME', 'SPEC', 'REPLICAS', 'AGE']);
    t.deepEqual(table.slice(1).map((row) => row.slice(0, 3)), [
      ['hourly', '0 * * * *', '3'],
      ['nightly', '0 3 * * *', '1'],
    ]);
    const wide = tableRows((await k(['get', 'ct', '-o', 'wide'])).stdout);
    t.deepEqual(wide[0], ['NAME', 'SPEC', 'REPLICAS', 'IMAGE', 'AGE']);
    t.is(wide[1][3], 'report:2');
    // `kubectl get all` includes the category.
    t.regex((await k(['get', 'all'])).stdout, /crontab\.stable\.example\.com\/hourly/);

    const explain = await k(['explain', 'crontab.spec.cronSpec']);
    t.is(explain.code, 0, explain.stderr);
    t.regex(explain.stdout, /When to run, in cron syntax\./);
  });

  test.serial('an invalid custom object is a 422 naming each path; an unknown field is refused or pruned per field validation', async (t) => {
    const bad = await kubectlApply(cronTab('bad', '{cronSpec: "every day", replicas: 20, image: 5}'));
    t.not(bad.code, 0);
    t.regex(bad.stderr, /The CronTab "bad" is invalid/);
    t.regex(bad.stderr, /spec\.cronSpec: Invalid value: "every day": spec\.cronSpec in body should match/);
    t.regex(bad.stderr, /spec\.replicas: Invalid value: 20: spec\.replicas in body should be less than or equal to 10/);
    t.regex(bad.stderr, /spec\.image: Invalid value: "integer": spec\.image in body must be of type string/);
    const missing = await kubectlApply(cronTab('nocron', '{image: x}'));
    t.regex(missing.stderr, /spec\.cronSpec: Required value/);
    const unknown = await kubectlApply(cronTab('typo', '{cronSpec: "* * * * *", imagge: x}'));
    t.not(unknown.code, 0);
    t.regex(unknown.stderr, /unknown field "spec\.imagge"/);
    const lenient = await k(['apply', '--validate=false', '-f', '-'], { input: cronTab('typo', '{cronSpec: "* * * * *", imagge: x}') });
    t.is(lenient.code, 0, lenient.stderr);
    const stored = await json<{ spec: Record<string, unknown> }>(['get', 'ct', 'typo']);
    t.false('imagge' in stored.spec, 'the unknown field was pruned');
    t.is((await k(['get', 'ct', 'bad'])).code, 1, 'nothing was stored for the invalid object');
    // Strategic merge patch does not exist for custom resources (as Kubernetes: 415).
    const smp = await k(['patch', 'ct', 'typo', '--type', 'strategic', '-p', '{"spec":{"image":"y"}}']);
    t.not(smp.code, 0);
    t.regex(smp.stderr, /strategic-merge-patch\+json is not supported/);
  });

  test.serial('custom objects are watched, scaled and written through /status, and read in every served version', async (t) => {
    const watch = k.spawn(['get', 'ct', '--watch-only', '-o', 'custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas,STATUS:.status.replicas', '--no-headers']);
    let seen = '';
    watch.stdout.on('data', (d) => (seen += d));
    try {
      await new Promise((r) => setTimeout(r, 1000));
      const scaled = await k(['scale', 'ct', 'nightly', '--replicas=4']);
      t.is(scaled.code, 0, scaled.stderr);
      const status = await k(['patch', 'ct', 'nightly', '--subresource=status', '--type=merge', '-p', '{"status":{"replicas":4,"labelSelector":"app=nightly"}}']);
      t.is(status.code, 0, status.stderr);
      await waitFor(() => /nightly\s+4\s+4/.test(seen), 15_000, `the watch to show the scaled object (got: ${seen})`);
    } finally {
      watch.kill();
    }
    t.regex(seen, /nightly\s+4\s+<none>/, 'the scale was seen before the status write');
    const scale = JSON.parse((await k(['get', '--raw', '/apis/stable.example.com/v1/namespaces/default/crontabs/nightly/scale'])).stdout) as { spec: { replicas: number }; status: { replicas: number; selector: string } };
    t.deepEqual([scale.spec.replicas, scale.status.replicas, scale.status.selector], [4, 4, 'app=nightly']);
    // A spec write through the main resource keeps the status; a /status write keeps the spec.
    const obj = await json<{ spec: { replicas: number }; status: { replicas: number } }>(['get', 'crontabs.v1beta1.stable.example.com', 'nightly']);
    t.is((obj as unknown as { apiVersion: string }).apiVersion, 'stable.example.com/v1beta1');
    t.is(obj.status.replicas, 4);
    const older = await apply('apiVersion: stable.example.com/v1beta1\nkind: CronTab\nmetadata: {name: legacy}\nspec: {cronSpec: "* * * * *", anything: goes}\n');
    t.regex(older.stdout, /created/);
    t.regex(older.stderr, /^$|Warning/);
    t.is((await json<{ apiVersion: string }>(['get', 'crontabs.v1.stable.example.com', 'legacy'])).apiVersion, 'stable.example.com/v1');
  });

  test.serial('custom objects own and are owned (garbage collection), and go with their definition', async (t) => {
    const uid = (await json<{ metadata: { uid: string } }>(['get', 'ct', 'hourly'])).metadata.uid;
    await apply(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hourly-config\n  ownerReferences: [{apiVersion: stable.example.com/v1, kind: CronTab, name: hourly, uid: ${uid}}]\ndata: {a: b}\n`);
    const cm = await json<{ metadata: { uid: string } }>(['get', 'configmap', 'hourly-config']);
    await apply(`apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata:\n  name: child\n  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: hourly-config, uid: ${cm.metadata.uid}}]\nspec: {cronSpec: "* * * * *"}\n`);
    const del = await k(['delete', 'ct', 'hourly']);
    t.is(del.code, 0, del.stderr);
    await waitFor(async () => (await k(['get', 'configmap', 'hourly-config'])).code !== 0, 30_000, 'the owned ConfigMap to go');
    await waitFor(async () => (await k(['get', 'ct', 'child'])).code !== 0, 30_000, 'the CronTab owned by the ConfigMap to go');

    const gone = await k(['delete', 'crd', 'crontabs.stable.example.com', '--timeout=30s']);
    t.is(gone.code, 0, gone.stderr);
    const after = await k(['get', 'ct']);
    t.not(after.code, 0);
    // (kubectl's discovery cache may still know the kind: then the list itself is a 404.)
    t.regex(after.stderr, /the server doesn't have a resource type "ct"|the server could not find the requested resource \(crontabs\.stable\.example\.com\)/);
    // Re-created, it starts empty: its objects were deleted with it.
    await apply(CRD);
    t.is((await k(['wait', '--for', 'condition=Established', 'crd/crontabs.stable.example.com', '--timeout=20s'])).code, 0);
    t.regex((await k(['get', 'ct'])).stderr, /No resources found/);
  });

  test.serial('a non-structural schema and a name already in use are refused with a 422 naming the field', async (t) => {
    const nonStructural = CRD.replace(/crontabs\.stable/g, 'widgets.stable').replace('plural: crontabs', 'plural: widgets').replace('singular: crontab', 'singular: widget').replace('kind: CronTab', 'kind: Widget').replace('[ct]', '[wd]').replace('image: {type: string}', 'image: {description: no type}');
    const r1 = await kubectlApply(nonStructural);
    t.not(r1.code, 0);
    t.regex(r1.stderr, /spec\.versions\[0\]\.schema\.openAPIV3Schema\.properties\[spec\]\.properties\[image\]\.type: Required value: must not be empty for specified object fields/);
    const conflicting = CRD.replace(/crontabs\.stable/g, 'cronjobz.stable').replace('plural: crontabs', 'plural: cronjobz').replace('singular: crontab', 'singular: cronjobz');
    const r2 = await kubectlApply(conflicting);
    t.not(r2.code, 0);
    t.regex(r2.stderr, /spec\.names\.kind: Invalid value: "CronTab": "CronTab" is already in use by customresourcedefinition crontabs\.stable\.example\.com/);
    t.regex(r2.stderr, /spec\.names\.shortNames\[0\]: Invalid value: "ct"/);
    const wrongName = await kubectlApply(CRD.replace('name: crontabs.stable.example.com', 'name: tabs.stable.example.com'));
    t.regex(wrongName.stderr, /metadata\.name: Invalid value: "tabs\.stable\.example\.com": must be spec\.names\.plural\+"\."\+spec\.group/);
    t.is((await k(['get', 'crd', 'widgets.stable.example.com'])).code, 1);
  });

  test.serial('kubectl drain is held up by a PodDisruptionBudget: the last protected Pod is not evicted', async (t) => {
    await apply(`apiVersion: apps/v1
kind: Deployment
metadata: {name: guarded}
spec:
  replicas: 2
  selector: {matchLabels: {app: guarded}}
  template:
    metadata: {labels: {app: guarded}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: web, image: ${IMAGES.echo}}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: guarded}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: guarded}}
`);
    await waitFor(async () => (await json<{ status?: { disruptionsAllowed?: number } }>(['get', 'pdb', 'guarded'])).status?.disruptionsAllowed === 1, 90_000, 'the PDB to allow one disruption');
    const pdbTable = tableRows((await k(['get', 'pdb', 'guarded'])).stdout);
    t.deepEqual(pdbTable[0], ['NAME', 'MIN AVAILABLE', 'MAX UNAVAILABLE', 'ALLOWED DISRUPTIONS', 'AGE']);
    t.deepEqual(pdbTable[1].slice(0, 4), ['guarded', '1', 'N/A', '1']);
    const status = await json<{ status: { currentHealthy: number; desiredHealthy: number; expectedPods: number } }>(['get', 'pdb', 'guarded']);
    t.deepEqual([status.status.currentHealthy, status.status.desiredHealthy, status.status.expectedPods], [2, 1, 2]);
    const before = (await json<{ items: { metadata: { name: string } }[] }>(['get', 'pods', '-l', 'app=guarded'])).items.map((p) => p.metadata.name).sort();

    const node = (await json<{ items: { metadata: { name: string } }[] }>(['get', 'nodes'])).items[0].metadata.name;
    const drain = await k(['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=20s'], { timeoutMs: 90_000 });
    t.not(drain.code, 0, 'the drain cannot finish');
    t.regex(drain.stdout + drain.stderr, /node\/\S+ cordoned/);
    t.regex(drain.stderr, /Cannot evict pod as it would violate the pod's disruption budget\./);
    const nodeObj = await json<{ spec: { unschedulable?: boolean } }>(['get', 'node', node]);
    t.true(nodeObj.spec.unschedulable);
    // One of the two Pods was evicted; its replacement cannot run on a cordoned node, so the other stays.
    const pods = (await json<{ items: { metadata: { name: string; deletionTimestamp?: string }; status: { phase: string } }[] }>(['get', 'pods', '-l', 'app=guarded'])).items;
    const survivors = pods.filter((p) => before.includes(p.metadata.name) && !p.metadata.deletionTimestamp);
    t.is(survivors.length, 1, JSON.stringify(pods.map((p) => [p.metadata.name, p.status.phase])));
    t.is(survivors[0].status.phase, 'Running');
    t.true(pods.some((p) => !before.includes(p.metadata.name) && p.status.phase === 'Pending'), 'the replacement waits for a schedulable node');
    const pdb = await json<{ status: { disruptionsAllowed: number; currentHealthy: number } }>(['get', 'pdb', 'guarded']);
    t.is(pdb.status.disruptionsAllowed, 0);
    t.is(pdb.status.currentHealthy, 1);

    const uncordon = await k(['uncordon', node]);
    t.is(uncordon.code, 0, uncordon.stderr);
    await waitFor(async () => (await json<{ status?: { disruptionsAllowed?: number } }>(['get', 'pdb', 'guarded'])).status?.disruptionsAllowed === 1, 90_000, 'the replacement to run again');
  });

  test.serial('NetworkPolicies are stored and listed, and say plainly that they are not enforced', async (t) => {
    const r = await apply(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-ingress}
spec:
  podSelector: {matchLabels: {app: guarded}}
  policyTypes: [Ingress]
`);
    t.regex(r.stderr, /Warning: NetworkPolicy is not enforced: kubelite stores NetworkPolicies but has no network policy data plane/);
    const rows = tableRows((await k(['get', 'netpol'])).stdout);
    t.deepEqual(rows[0], ['NAME', 'POD-SELECTOR', 'AGE']);
    t.deepEqual(rows[1].slice(0, 2), ['deny-ingress', 'app=guarded']);
    const described = await k(['describe', 'networkpolicy', 'deny-ingress']);
    t.regex(described.stdout, /kubelite\.io\/enforcement:\s+not enforced/);
    const bad = await kubectlApply('apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad}\nspec:\n  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: "10.0.0.0/40"}}]}]\n');
    t.regex(bad.stderr, /spec\.ingress\[0\]\.from\[0\]\.ipBlock\.cidr: Invalid value: "10\.0\.0\.0\/40"/);
  });

  test.serial('PriorityClasses: system classes exist, Pods get their priority at admission, unknown classes are refused', async (t) => {
    const classes = tableRows((await k(['get', 'priorityclasses'])).stdout);
    t.deepEqual(classes[0], ['NAME', 'VALUE', 'GLOBAL-DEFAULT', 'AGE', 'PREEMPTIONPOLICY']);
    t.deepEqual(classes.slice(1).map((c) => [c[0], c[1]]), [
      ['system-cluster-critical', '2000000000'],
      ['system-node-critical', '2000001000'],
    ]);
    const created = await k(['create', 'priorityclass', 'batch-low', '--value=100', '--description=low priority work']);
    t.is(created.code, 0, created.stderr);
    await apply(`apiVersion: v1\nkind: Pod\nmetadata: {name: prio}\nspec:\n  priorityClassName: batch-low\n  terminationGracePeriodSeconds: 1\n  containers: [{name: c, image: ${IMAGES.echo}}]\n`);
    const pod = await json<{ spec: { priority: number; preemptionPolicy: string } }>(['get', 'pod', 'prio']);
    t.is(pod.spec.priority, 100);
    t.is(pod.spec.preemptionPolicy, 'PreemptLowerPriority');
    const unknown = await kubectlApply(`apiVersion: v1\nkind: Pod\nmetadata: {name: noprio}\nspec:\n  priorityClassName: nope\n  containers: [{name: c, image: ${IMAGES.echo}}]\n`);
    t.not(unknown.code, 0);
    t.regex(unknown.stderr, /pods "noprio" is forbidden: no PriorityClass with name nope was found/);
    const reserved = await k(['create', 'priorityclass', 'system-mine', '--value=5']);
    t.regex(reserved.stderr, /priority class names with 'system-' prefix are reserved for system use only/);
    const undeletable = await k(['delete', 'priorityclass', 'system-node-critical']);
    t.not(undeletable.code, 0);
    t.is((await k(['create', 'priorityclass', 'default-a', '--value=1', '--global-default'])).code, 0);
    const second = await k(['create', 'priorityclass', 'default-b', '--value=2', '--global-default']);
    t.regex(second.stderr, /PriorityClass default-a is already marked as default/);
  });
}
