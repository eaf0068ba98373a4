// Resource metrics and autoscaling on the real engine with the real kubectl (slot 37): the agent's
// background samples of Docker stats reach metrics.k8s.io (`kubectl top pods|nodes`, the raw API, a
// label selector), `kubectl autoscale` creates an autoscaling/v1 HPA the controller keeps (its status
// visible as v1 and v2), a CPU-bound Deployment (a busybox loop under a 200m CPU limit that burns for a
// while and then idles) is scaled up to maxReplicas and back down to minReplicas by an autoscaling/v2
// HPA with short stabilisation windows, and an HPA whose target does not exist says so in
// ScalingActive=False. Metrics are sampled every 2 s and HPAs synced every 3 s here (the defaults are
// 15 s). Needs root and Docker; everything of instance t37 is removed afterwards.

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

const SLOT = 37;

withKubectl('autoscaling', suite);

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

function suite(bin: string): void {
  let server: TestServer | undefined;
  let k: Kubectl;
  let tmp: string;

  test.before(async () => {
    if (!(await dockerAvailable())) throw new Error('these tests need a Docker engine (scripts/ensure-docker.sh starts one)');
    server = await startTestServer({ slot: SLOT, args: ['--disable', 'ingress', '--metric-resolution', '2', '--horizontal-pod-autoscaler-sync-period', '3'] });
    k = kubectlFor(server.kubeconfig, bin);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-hpa-'));
  });

  test.after.always(async () => {
    await tearDownServer(server, SLOT);
    k?.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const apply = async (name: string, text: string) => {
    const p = path.join(tmp, name);
    fs.writeFileSync(p, text);
    const r = await k(['apply', '-f', p]);
    if (r.code !== 0) throw new Error(`kubectl apply ${name}: ${r.stderr}`);
    return r;
  };
  const json = async <T>(args: string[]): Promise<T> => {
    const r = await k([...args, '-o', 'json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as T;
  };
  const deployment = (name: string, replicas: number, command: string, cpu = '100m') => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}, tier: metrics}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: ${IMAGES.echo}
        command: ["sh", "-c", ${JSON.stringify(command)}]
        resources:
          requests: {cpu: ${cpu}, memory: 16Mi}
          limits: {cpu: 200m, memory: 64Mi}
`;
  const readyReplicas = async (name: string) => (await json<{ status?: { readyReplicas?: number } }>(['get', 'deployment', name])).status?.readyReplicas ?? 0;
  const condition = (hpa: { status?: { conditions?: Condition[] } }, type: string) => hpa.status?.conditions?.find((c) => c.type === type);

  test.serial('kubectl top pods and nodes read the agents\' samples through metrics.k8s.io', async (t) => {
    await apply('idle.yaml', deployment('idle', 2, 'exec sleep 100000'));
    await waitFor(async () => (await readyReplicas('idle')) === 2, 90_000, 'idle pods ready');

    const groups = JSON.parse((await k(['get', '--raw', '/apis'])).stdout) as { groups: { name: string; preferredVersion: { version: string } }[] };
    t.truthy(groups.groups.find((g) => g.name === 'metrics.k8s.io' && g.preferredVersion.version === 'v1beta1'), 'discovery lists metrics.k8s.io');

    const top = await waitFor(
      async () => {
        const r = await k(['top', 'pods', '-l', 'app=idle']);
        return r.code === 0 && tableRows(r.stdout).length === 3 ? r.stdout : undefined;
      },
      60_000,
      'kubectl top pods to list both idle pods',
    );
    const rows = tableRows(top!);
    t.deepEqual(rows[0], ['NAME', 'CPU(cores)', 'MEMORY(bytes)']);
    for (const row of rows.slice(1)) {
      t.regex(row[0], /^idle-/);
      t.regex(row[1], /^\d+m$/, 'CPU in millicores');
      t.regex(row[2], /^\d+Mi$/, 'memory in Mi');
    }
    // --containers shows the container of each Pod.
    const perContainer = await k(['top', 'pods', '-l', 'app=idle', '--containers']);
    t.is(perContainer.code, 0, perContainer.stderr);
    t.true(tableRows(perContainer.stdout).slice(1).every((r) => r[1] === 'main'), perContainer.stdout);

    const nodes = await waitFor(
      async () => {
        const r = await k(['top', 'nodes']);
        return r.code === 0 ? r.stdout : undefined;
      },
      30_000,
      'kubectl top nodes',
    );
    const nodeRows = tableRows(nodes!);
    t.deepEqual(nodeRows[0].slice(0, 3), ['NAME', 'CPU(cores)', 'CPU(%)'], nodes);
    t.is(nodeRows.length, 2, nodes);
    t.regex(nodeRows[1][1], /^\d+m$/);
    t.regex(nodeRows[1][2], /^\d+%$/);

    // The raw API: PodMetrics with the pods' labels, a window and per-container usage in Kubernetes' units.
    const raw = JSON.parse((await k(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Didle'])).stdout) as {
      kind: string;
      items: { metadata: { name: string; labels: Record<string, string> }; window: string; timestamp: string; containers: { name: string; usage: { cpu: string; memory: string } }[] }[];
    };
    t.is(raw.kind, 'PodMetricsList');
    t.is(raw.items.length, 2);
    for (const m of raw.items) {
      t.is(m.metadata.labels.app, 'idle');
      t.regex(m.window, /^\d+(\.\d+)?s$/);
      t.false(Number.isNaN(Date.parse(m.timestamp)));
      t.regex(m.containers[0].usage.cpu, /^\d+n$/);
      t.regex(m.containers[0].usage.memory, /^\d+Ki$/);
    }
    // A pod with no metrics (a name that does not exist) is a 404.
    const missing = await k(['top', 'pod', 'no-such-pod']);
    t.not(missing.code, 0);
  });

  test.serial('a stats report that is not one is refused with a 400 and changes nothing', async (t) => {
    const node = (await json<{ items: { metadata: { name: string } }[] }>(['get', 'nodes'])).items[0].metadata.name;
    fs.writeFileSync(path.join(tmp, 'bad.json'), JSON.stringify({ apiVersion: 'v1', kind: 'NodeStatsSummary', node: { nodeName: node, time: 'yesterday', usageNanoCores: -5 }, pods: 'many' }));
    const r = await k(['create', '--raw', `/api/v1/nodes/${node}/stats`, '-f', path.join(tmp, 'bad.json')]);
    t.not(r.code, 0);
    t.regex(r.stderr, /BadRequest|invalid stats summary/);
    const top = await k(['top', 'nodes']);
    t.is(top.code, 0, top.stderr);
  });

  test.serial('kubectl autoscale creates an autoscaling/v1 HPA that the controller keeps', async (t) => {
    const r = await k(['autoscale', 'deployment', 'idle', '--cpu-percent=60', '--min=2', '--max=4']);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /horizontalpodautoscaler.autoscaling\/idle autoscaled/);
    const v2 = await waitFor(
      async () => {
        const h = await json<{ status?: { currentReplicas?: number; currentMetrics?: { resource?: { current: { averageUtilization?: number } } }[]; conditions?: Condition[] } }>(['get', 'hpa.v2.autoscaling', 'idle']);
        return condition(h, 'ScalingActive')?.status === 'True' ? h : undefined;
      },
      60_000,
      'the HPA to compute a replica count',
    );
    t.is(condition(v2!, 'ScalingActive')?.reason, 'ValidMetricFound');
    t.is(condition(v2!, 'AbleToScale')?.status, 'True');
    t.is(v2!.status?.currentReplicas, 2);
    t.true((v2!.status?.currentMetrics?.[0]?.resource?.current.averageUtilization ?? -1) >= 0);
    // The same object read as v1 carries the CPU percentages v1 has.
    const v1 = await json<{ apiVersion: string; spec: { targetCPUUtilizationPercentage: number }; status: { currentCPUUtilizationPercentage?: number } }>(['get', 'horizontalpodautoscalers.v1.autoscaling', 'idle']);
    t.is(v1.apiVersion, 'autoscaling/v1');
    t.is(v1.spec.targetCPUUtilizationPercentage, 60);
    t.is(typeof v1.status.currentCPUUtilizationPercentage, 'number');
    const table = tableRows((await k(['get', 'hpa', 'idle'])).stdout);
    t.deepEqual(table[0], ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE']);
    t.regex(table[1][2], /^cpu: \d+%\/60%$/);
    // An idle deployment is not scaled.
    t.is((await json<{ spec: { replicas: number } }>(['get', 'deployment', 'idle'])).spec.replicas, 2);
  });

  test.serial('an HPA scales a CPU-bound Deployment up to maxReplicas and back down once it idles', async (t) => {
    // Each Pod burns CPU (capped at 200m by its limit, twice its 100m request) for 50 s after it starts, then sleeps.
    await apply('burner.yaml', deployment('burner', 1, 'touch /tmp/burn; (sleep 50; rm /tmp/burn) & while [ -e /tmp/burn ]; do :; done; exec sleep 100000'));
    await waitFor(async () => (await readyReplicas('burner')) === 1, 90_000, 'burner ready');
    await apply(
      'burner-hpa.yaml',
      `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: burner}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: burner}
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleUp: {stabilizationWindowSeconds: 0}
    scaleDown:
      stabilizationWindowSeconds: 6
      policies: [{type: Percent, value: 100, periodSeconds: 5}]
`,
    );
    const hpa = await json<{ spec: { behavior: { scaleUp: { policies: unknown[]; selectPolicy: string } } } }>(['get', 'hpa', 'burner']);
    t.is(hpa.spec.behavior.scaleUp.selectPolicy, 'Max', 'behavior defaults filled in');
    t.is(hpa.spec.behavior.scaleUp.policies.length, 2);

    await waitFor(async () => (await json<{ spec: { replicas: number } }>(['get', 'deployment', 'burner'])).spec.replicas === 3, 120_000, 'scale up to 3', 1000);
    const up = await json<{ status: { desiredReplicas: number; lastScaleTime?: string; conditions: Condition[] } }>(['get', 'hpa', 'burner']);
    t.truthy(up.status.lastScaleTime);
    const events = await k(['get', 'events', '--field-selector', 'involvedObject.name=burner,reason=SuccessfulRescale', '-o', 'jsonpath={.items[*].message}']);
    t.regex(events.stdout, /New size: [23]; reason: cpu resource utilization \(percentage of request\) above target/);

    // Every Pod stops burning 50 s after its start; then the HPA brings the Deployment back to 1.
    await waitFor(async () => (await json<{ spec: { replicas: number } }>(['get', 'deployment', 'burner'])).spec.replicas === 1, 180_000, 'scale down to 1', 1000);
    const down = await json<{ status: { conditions: Condition[] } }>(['get', 'hpa', 'burner']);
    t.is(condition(down, 'AbleToScale')?.status, 'True');
    t.is(condition(down, 'ScalingActive')?.status, 'True');
    const described = await k(['describe', 'hpa', 'burner']);
    t.regex(described.stdout, /SuccessfulRescale/);
  });

  test.serial('an HPA whose target does not exist reports ScalingActive=False with the reason', async (t) => {
    await apply(
      'ghost-hpa.yaml',
      `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: ghost}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: no-such-deployment}
  maxReplicas: 3
`,
    );
    const h = await waitFor(
      async () => {
        const x = await json<{ status?: { conditions?: Condition[] } }>(['get', 'hpa', 'ghost']);
        return condition(x, 'ScalingActive') ? x : undefined;
      },
      30_000,
      'ghost HPA conditions',
    );
    const active = condition(h!, 'ScalingActive')!;
    t.is(active.status, 'False');
    t.is(active.reason, 'FailedGetScale');
    t.regex(active.message ?? '', /deployments\/scale.apps "no-such-deployment" not found/);
    t.is(condition(h!, 'AbleToScale')?.status, 'False');
    // Bad input: an HPA with maxReplicas below minReplicas is refused with the field named.
    const bad = await k(['apply', '-f', '-'], {
      input: 'apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: bad}\nspec:\n  scaleTargetRef: {kind: Deployment, name: idle}\n  minReplicas: 5\n  maxReplicas: 2\n',
    });
    t.not(bad.code, 0);
    t.regex(bad.stderr, /spec\.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`/);
  });
}
