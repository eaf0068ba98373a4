// The pure scheduler: filters and their kube-scheduler messages, scoring (spread, least allocated,
// random tie-break), batch accounting, resources and QoS.

import test from 'ava';
import type { Container, Node, Pod, Taint, Toleration } from '../../../src/api/types.js';
import {
  fitErrorMessage,
  isScheduled,
  needsScheduling,
  schedule,
  scheduleBatch,
  unschedulableCondition,
  type ScheduleResult,
} from '../../../src/scheduler/schedule.js';
import { nodeAllocatable, podNonZeroRequests, podRequests } from '../../../src/scheduler/resources.js';
import { qosClass } from '../../../src/api/qos.js';
import { schedulingTaints, toleratesTaint } from '../../../src/scheduler/taints.js';

// ---------- fixtures ----------

interface NodeOpts {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  ready?: 'True' | 'False' | 'Unknown' | null;
}

function node(name: string, o: NodeOpts = {}): Node {
  const n: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(o.labels ?? {}) } },
    spec: { taints: o.taints, unschedulable: o.unschedulable },
    status: {
      allocatable: { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: o.pods ?? '110' },
      conditions: o.ready === null ? [] : [{ type: 'Ready', status: o.ready ?? 'True' }],
    },
  };
  return n;
}

interface PodOpts {
  ns?: string;
  cpu?: string;
  memory?: string;
  limitsOnly?: boolean;
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  hostPort?: number;
  hostIP?: string;
  protocol?: 'TCP' | 'UDP';
  owner?: string;
  phase?: Pod['status'] extends infer S ? (S extends { phase?: infer P } ? P : never) : never;
  priority?: number;
  created?: string;
  affinity?: Record<string, unknown>;
  hostNetwork?: boolean;
  containerPort?: number;
}

function pod(name: string, o: PodOpts = {}): Pod {
  const res: Record<string, string> = {};
  if (o.cpu) res.cpu = o.cpu;
  if (o.memory) res.memory = o.memory;
  const c: Container = { name: 'c', image: 'busybox' };
  if (Object.keys(res).length) c.resources = o.limitsOnly ? { limits: res } : { requests: res };
  if (o.hostPort || o.containerPort) {
    c.ports = [{ containerPort: o.containerPort ?? 80, hostPort: o.hostPort, hostIP: o.hostIP, protocol: o.protocol }];
  }
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: o.ns ?? 'default', creationTimestamp: o.created },
    spec: {
      containers: [c],
      nodeName: o.nodeName,
      nodeSelector: o.nodeSelector,
      tolerations: o.tolerations,
      priority: o.priority,
      affinity: o.affinity,
      hostNetwork: o.hostNetwork,
    },
    status: o.phase ? { phase: o.phase } : undefined,
  };
  if (o.owner) p.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.owner, uid: `uid-${o.owner}`, controller: true }];
  return p;
}

const first = () => 0;

function nodeOf(r: ScheduleResult | undefined): string {
  if (!r || !isScheduled(r)) throw new Error(`not scheduled: ${JSON.stringify(r)}`);
  return r.node;
}

function failure(r: ScheduleResult): { unschedulable: string; reasons: Record<string, number> } {
  if (isScheduled(r)) throw new Error(`unexpectedly scheduled on ${r.node}`);
  return r;
}

// ---------- resources ----------

test('podRequests: containers summed, init containers as a max, requests default to limits', (t) => {
  const p = pod('p');
  p.spec.containers = [
    { name: 'a', image: 'x', resources: { requests: { cpu: '250m', memory: '64Mi' } } },
    { name: 'b', image: 'x', resources: { limits: { cpu: '0.5', memory: '128Mi' } } },
    { name: 'c', image: 'x' },
  ];
  p.spec.initContainers = [
    { name: 'i1', image: 'x', resources: { requests: { cpu: '2', memory: '1Mi' } } },
    { name: 'i2', image: 'x', resources: { requests: { memory: '100Mi' } } },
  ];
  t.deepEqual(podRequests(p), { cpuMillis: 2000, memoryBytes: 192 * 2 ** 20 });
  // non-zero defaults only for what is unset: container c gets 100m/200Mi
  t.deepEqual(podNonZeroRequests(p), { cpuMillis: 2000, memoryBytes: (64 + 128 + 200) * 2 ** 20 });
});

test('podRequests: a malformed quantity counts as absent instead of throwing', (t) => {
  const p = pod('p');
  p.spec.containers[0].resources = { requests: { cpu: 'lots', memory: '1Gi' } };
  t.deepEqual(podRequests(p), { cpuMillis: 0, memoryBytes: 2 ** 30 });
});

test('nodeAllocatable: allocatable, then capacity, then unlimited', (t) => {
  const n = node('n', { cpu: '3500m', memory: '2Gi', pods: '10' });
  t.deepEqual(nodeAllocatable(n), { cpuMillis: 3500, memoryBytes: 2 * 2 ** 30, pods: 10 });
  n.status = { capacity: { cpu: '2' } };
  t.deepEqual(nodeAllocatable(n), { cpuMillis: 2000, memoryBytes: Infinity, pods: Infinity });
});

const qosCases: { name: string; containers: Container['resources'][]; init?: Container['resources'][]; want: ReturnType<typeof qosClass> }[] = [
  { name: 'nothing set', containers: [undefined, {}], want: 'BestEffort' },
  { name: 'zero requests', containers: [{ requests: { cpu: '0' } }], want: 'BestEffort' },
  { name: 'limits only (requests default to them)', containers: [{ limits: { cpu: '1', memory: '1Gi' } }], want: 'Guaranteed' },
  { name: 'requests = limits', containers: [{ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '0.5', memory: '1024Mi' } }], want: 'Guaranteed' },
  { name: 'requests < limits', containers: [{ requests: { cpu: '100m', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } }], want: 'Burstable' },
  { name: 'only cpu limit', containers: [{ limits: { cpu: '1' } }], want: 'Burstable' },
  { name: 'one container without limits', containers: [{ limits: { cpu: '1', memory: '1Gi' } }, {}], want: 'Burstable' },
  { name: 'requests only', containers: [{ requests: { memory: '10Mi' } }], want: 'Burstable' },
  { name: 'init container without limits spoils Guaranteed', containers: [{ limits: { cpu: '1', memory: '1Gi' } }], init: [{ requests: { cpu: '1' } }], want: 'Burstable' },
  { name: 'init container guaranteed too', containers: [{ limits: { cpu: '1', memory: '1Gi' } }], init: [{ limits: { cpu: '1', memory: '1Gi' } }], want: 'Guaranteed' },
];
for (const c of qosCases) {
  test(`qosClass: ${c.name}`, (t) => {
    const p = pod('p');
    p.spec.containers = c.containers.map((resources, i) => ({ name: `c${i}`, image: 'x', resources }));
    if (c.init) p.spec.initContainers = c.init.map((resources, i) => ({ name: `i${i}`, image: 'x', resources }));
    t.is(qosClass(p), c.want);
  });
}

// ---------- taints and tolerations ----------

const tolerationCases: { tol: Toleration; taint: Taint; want: boolean }[] = [
  { tol: { key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' }, taint: { key: 'k', value: 'v', effect: 'NoSchedule' }, want: true },
  { tol: { key: 'k', value: 'v' }, taint: { key: 'k', value: 'v', effect: 'NoExecute' }, want: true },
  { tol: { key: 'k', value: 'other' }, taint: { key: 'k', value: 'v', effect: 'NoSchedule' }, want: false },
  { tol: { key: 'k', operator: 'Exists' }, taint: { key: 'k', value: 'anything', effect: 'NoSchedule' }, want: true },
  { tol: { key: 'k', operator: 'Exists', effect: 'NoExecute' }, taint: { key: 'k', effect: 'NoSchedule' }, want: false },
  { tol: { operator: 'Exists' }, taint: { key: 'any', value: 'x', effect: 'NoExecute' }, want: true },
  { tol: { operator: 'Exists', effect: 'NoSchedule' }, taint: { key: 'any', effect: 'NoExecute' }, want: false },
  { tol: { key: 'other', operator: 'Exists' }, taint: { key: 'k', effect: 'NoSchedule' }, want: false },
  { tol: { key: 'k' }, taint: { key: 'k', effect: 'NoSchedule' }, want: true }, // Equal with empty value
];
for (const [i, c] of tolerationCases.entries()) {
  test(`toleratesTaint #${i}: ${JSON.stringify(c.tol)} vs ${c.taint.key}=${c.taint.value ?? ''}:${c.taint.effect}`, (t) => {
    t.is(toleratesTaint(c.tol, c.taint), c.want);
  });
}

test('schedulingTaints: PreferNoSchedule ignored, not-ready / unreachable derived from the Ready condition', (t) => {
  t.deepEqual(schedulingTaints(node('a', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] })), []);
  t.deepEqual(schedulingTaints(node('b', { ready: 'False' })), [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }]);
  t.deepEqual(schedulingTaints(node('c', { ready: 'Unknown' })), [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }]);
  t.deepEqual(schedulingTaints(node('d', { ready: null })), [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }]);
  // an explicit taint is not duplicated
  t.is(schedulingTaints(node('e', { ready: 'False', taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] })).length, 1);
});

// ---------- filters and messages ----------

test('message: kube-scheduler format, sorted like Go sort.Strings over "count reason"', (t) => {
  t.is(
    fitErrorMessage(3, { "node(s) didn't match Pod's node affinity/selector": 2, 'Insufficient memory': 1 }),
    "0/3 nodes are available: 1 Insufficient memory, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
  );
  // "10 ..." sorts before "2 ..." as strings, as in kube-scheduler
  t.is(fitErrorMessage(12, { 'Insufficient cpu': 2, 'Too many pods': 10 }, false), '0/12 nodes are available: 10 Too many pods, 2 Insufficient cpu.');
});

test('filters across 60 nodes: every reason counted once per node, resources may add several', (t) => {
  const nodes: Node[] = [];
  for (let i = 0; i < 10; i++) nodes.push(node(`cordoned-${i}`, { unschedulable: true }));
  for (let i = 0; i < 8; i++) nodes.push(node(`notready-${i}`, { ready: 'False' }));
  for (let i = 0; i < 7; i++) nodes.push(node(`gpu-${i}`, { taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }] }));
  for (let i = 0; i < 6; i++) nodes.push(node(`evict-${i}`, { taints: [{ key: 'maint', effect: 'NoExecute' }] }));
  for (let i = 0; i < 9; i++) nodes.push(node(`zone-b-${i}`, { labels: { zone: 'b' } }));
  for (let i = 0; i < 5; i++) nodes.push(node(`small-cpu-${i}`, { labels: { zone: 'a' }, cpu: '1' }));
  for (let i = 0; i < 4; i++) nodes.push(node(`small-mem-${i}`, { labels: { zone: 'a' }, memory: '1Gi' }));
  for (let i = 0; i < 3; i++) nodes.push(node(`tiny-${i}`, { labels: { zone: 'a' }, cpu: '1', memory: '1Gi' }));
  for (let i = 0; i < 4; i++) nodes.push(node(`full-${i}`, { labels: { zone: 'a' }, pods: '1' }));
  for (let i = 0; i < 4; i++) nodes.push(node(`ported-${i}`, { labels: { zone: 'a' } }));
  t.true(nodes.length >= 60);
  const bound: Pod[] = [];
  for (let i = 0; i < 4; i++) bound.push(pod(`occupant-${i}`, { nodeName: `full-${i}` }));
  for (let i = 0; i < 4; i++) bound.push(pod(`web-${i}`, { nodeName: `ported-${i}`, hostPort: 8080 }));
  const p = pod('big', { cpu: '2', memory: '2Gi', nodeSelector: { zone: 'a' }, hostPort: 8080 });
  const r = failure(schedule(p, nodes, bound));
  t.deepEqual(r.reasons, {
    'node(s) were unschedulable': 10,
    'node(s) had untolerated taint {node.kubernetes.io/not-ready: }': 8,
    'node(s) had untolerated taint {gpu: true}': 7,
    'node(s) had untolerated taint {maint: }': 6,
    "node(s) didn't match Pod's node affinity/selector": 9,
    'Insufficient cpu': 5 + 3,
    'Insufficient memory': 4 + 3,
    'Too many pods': 4,
    "node(s) didn't have free ports for the requested pod ports": 4,
  });
  t.is(
    r.unschedulable,
    `0/${nodes.length} nodes are available: 10 node(s) were unschedulable, 4 Too many pods, 4 node(s) didn't have free ports for the requested pod ports, 6 node(s) had untolerated taint {maint: }, 7 Insufficient memory, 7 node(s) had untolerated taint {gpu: true}, 8 Insufficient cpu, 8 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 9 node(s) didn't match Pod's node affinity/selector. preemption: 0/${nodes.length} nodes are available: ${nodes.length} Preemption is not helpful for scheduling.`,
  );
  // add one good node: it is the only choice
  nodes.push(node('good', { labels: { zone: 'a' } }));
  t.is(nodeOf(schedule(p, nodes, bound)), 'good');
});

const filterCases: { name: string; nodes: Node[]; bound?: Pod[]; pod: Pod; want: string | Record<string, number> }[] = [
  { name: 'cordoned node', nodes: [node('a', { unschedulable: true })], pod: pod('p'), want: { 'node(s) were unschedulable': 1 } },
  {
    name: 'cordoned node tolerated',
    nodes: [node('a', { unschedulable: true })],
    pod: pod('p', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] }),
    want: 'a',
  },
  { name: 'not ready', nodes: [node('a', { ready: 'False' })], pod: pod('p'), want: { 'node(s) had untolerated taint {node.kubernetes.io/not-ready: }': 1 } },
  { name: 'unreachable', nodes: [node('a', { ready: 'Unknown' })], pod: pod('p'), want: { 'node(s) had untolerated taint {node.kubernetes.io/unreachable: }': 1 } },
  { name: 'not ready tolerated', nodes: [node('a', { ready: 'False' })], pod: pod('p', { tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }] }), want: 'a' },
  { name: 'taint with value', nodes: [node('a', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] })], pod: pod('p'), want: { 'node(s) had untolerated taint {dedicated: db}': 1 } },
  { name: 'taint tolerated Equal', nodes: [node('a', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] })], pod: pod('p', { tolerations: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }), want: 'a' },
  { name: 'taint: wrong effect', nodes: [node('a', { taints: [{ key: 'k', effect: 'NoExecute' }] })], pod: pod('p', { tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }] }), want: { 'node(s) had untolerated taint {k: }': 1 } },
  { name: 'tolerate everything', nodes: [node('a', { ready: 'False', taints: [{ key: 'x', value: 'y', effect: 'NoExecute' }] })], pod: pod('p', { tolerations: [{ operator: 'Exists' }] }), want: 'a' },
  { name: 'PreferNoSchedule does not filter', nodes: [node('a', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] })], pod: pod('p'), want: 'a' },
  {
    name: 'first untolerated taint is the one reported',
    nodes: [node('a', { taints: [{ key: 'one', value: '1', effect: 'NoSchedule' }, { key: 'two', value: '2', effect: 'NoSchedule' }] })],
    pod: pod('p', { tolerations: [{ key: 'one', operator: 'Exists' }] }),
    want: { 'node(s) had untolerated taint {two: 2}': 1 },
  },
  { name: 'nodeSelector mismatch', nodes: [node('a', { labels: { disk: 'hdd' } })], pod: pod('p', { nodeSelector: { disk: 'ssd' } }), want: { "node(s) didn't match Pod's node affinity/selector": 1 } },
  { name: 'nodeSelector match', nodes: [node('a', { labels: { disk: 'hdd' } }), node('b', { labels: { disk: 'ssd' } })], pod: pod('p', { nodeSelector: { disk: 'ssd' } }), want: 'b' },
  {
    name: 'required node affinity In / Gt',
    nodes: [node('a', { labels: { gen: '3' } }), node('b', { labels: { gen: '5' } })],
    pod: pod('p', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['4'] }] }] } } } }),
    want: 'b',
  },
  {
    name: 'required node affinity by metadata.name field',
    nodes: [node('a'), node('b')],
    pod: pod('p', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] }] } } } }),
    want: 'a',
  },
  {
    name: 'required node affinity: empty term matches nothing',
    nodes: [node('a')],
    pod: pod('p', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{}] } } } }),
    want: { "node(s) didn't match Pod's node affinity/selector": 1 },
  },
  { name: 'host port clash', nodes: [node('a')], bound: [pod('o', { nodeName: 'a', hostPort: 80 })], pod: pod('p', { hostPort: 80 }), want: { "node(s) didn't have free ports for the requested pod ports": 1 } },
  { name: 'host port: other protocol is fine', nodes: [node('a')], bound: [pod('o', { nodeName: 'a', hostPort: 53, protocol: 'UDP' })], pod: pod('p', { hostPort: 53 }), want: 'a' },
  { name: 'host port: distinct host IPs are fine', nodes: [node('a')], bound: [pod('o', { nodeName: 'a', hostPort: 80, hostIP: '10.0.0.1' })], pod: pod('p', { hostPort: 80, hostIP: '10.0.0.2' }), want: 'a' },
  { name: 'host port: 0.0.0.0 overlaps a specific IP', nodes: [node('a')], bound: [pod('o', { nodeName: 'a', hostPort: 80, hostIP: '10.0.0.1' })], pod: pod('p', { hostPort: 80 }), want: { "node(s) didn't have free ports for the requested pod ports": 1 } },
  { name: 'host port: hostNetwork binds the containerPort', nodes: [node('a')], bound: [pod('o', { nodeName: 'a', hostNetwork: true, containerPort: 9100 })], pod: pod('p', { hostPort: 9100 }), want: { "node(s) didn't have free ports for the requested pod ports": 1 } },
  { name: 'host port: a terminal pod frees it', nodes: [node('a')], bound: [pod('o', { nodeName: 'a', hostPort: 80, phase: 'Succeeded' })], pod: pod('p', { hostPort: 80 }), want: 'a' },
  { name: 'too many pods', nodes: [node('a', { pods: '2' })], bound: [pod('o1', { nodeName: 'a' }), pod('o2', { nodeName: 'a' })], pod: pod('p'), want: { 'Too many pods': 1 } },
  { name: 'insufficient cpu from bound pods', nodes: [node('a', { cpu: '1' })], bound: [pod('o', { nodeName: 'a', cpu: '600m' })], pod: pod('p', { cpu: '500m' }), want: { 'Insufficient cpu': 1 } },
  { name: 'exact fit', nodes: [node('a', { cpu: '1' })], bound: [pod('o', { nodeName: 'a', cpu: '500m' })], pod: pod('p', { cpu: '500m' }), want: 'a' },
  { name: 'limits only count as requests', nodes: [node('a', { memory: '1Gi' })], pod: pod('p', { memory: '2Gi', limitsOnly: true }), want: { 'Insufficient memory': 1 } },
  { name: 'cpu, memory and pods at once', nodes: [node('a', { cpu: '1', memory: '1Gi', pods: '1' })], bound: [pod('o', { nodeName: 'a' })], pod: pod('p', { cpu: '2', memory: '2Gi' }), want: { 'Too many pods': 1, 'Insufficient cpu': 1, 'Insufficient memory': 1 } },
  { name: 'best-effort pod fits a full node', nodes: [node('a', { cpu: '1' })], bound: [pod('o', { nodeName: 'a', cpu: '1' })], pod: pod('p'), want: 'a' },
  { name: 'a node without reported capacity is unlimited', nodes: [{ ...node('a'), status: { conditions: [{ type: 'Ready', status: 'True' }] } }], pod: pod('p', { cpu: '64', memory: '1Ti' }), want: 'a' },
  { name: 'unschedulable wins over the other reasons', nodes: [node('a', { unschedulable: true, ready: 'False', labels: {} })], pod: pod('p', { nodeSelector: { x: 'y' } }), want: { 'node(s) were unschedulable': 1 } },
];
for (const c of filterCases) {
  test(`filter: ${c.name}`, (t) => {
    const r = schedule(c.pod, c.nodes, c.bound ?? [], { rand: first });
    if (typeof c.want === 'string') t.is(nodeOf(r), c.want);
    else t.deepEqual(failure(r).reasons, c.want);
  });
}

test('spec.nodeName set: bound as is, no filter', (t) => {
  t.deepEqual(schedule(pod('p', { nodeName: 'cordoned' }), [node('cordoned', { unschedulable: true })], []), { node: 'cordoned' });
  t.deepEqual(schedule(pod('p', { nodeName: 'elsewhere' }), [], []), { node: 'elsewhere' });
});

test('no nodes at all', (t) => {
  t.deepEqual(schedule(pod('p'), [], []), { unschedulable: 'no nodes available to schedule pods', reasons: {} });
});

test('needsScheduling and the PodScheduled condition', (t) => {
  t.true(needsScheduling(pod('p')));
  t.false(needsScheduling(pod('p', { nodeName: 'a' })));
  t.false(needsScheduling(pod('p', { phase: 'Failed' })));
  const other = pod('p');
  other.spec.schedulerName = 'my-scheduler';
  t.false(needsScheduling(other));
  const c = unschedulableCondition('0/1 nodes are available: 1 Too many pods.', new Date('2024-01-02T03:04:05.678Z'));
  t.deepEqual(c, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Too many pods.', lastProbeTime: null, lastTransitionTime: '2024-01-02T03:04:05Z' });
});

// ---------- scoring ----------

test('spread: the node with fewest siblings of the same controller wins over emptier nodes', (t) => {
  const nodes = [node('a'), node('b'), node('c', { cpu: '64', memory: '256Gi' })];
  const bound = [pod('w1', { nodeName: 'a', owner: 'web' }), pod('w2', { nodeName: 'c', owner: 'web' }), pod('x', { nodeName: 'b', cpu: '3', memory: '6Gi', owner: 'other' })];
  // c is far emptier, but a and c already run a web pod; b has none
  t.is(nodeOf(schedule(pod('w3', { owner: 'web' }), nodes, bound, { rand: first })), 'b');
  // a pod of another controller goes by allocation only: c
  t.is(nodeOf(schedule(pod('y', { owner: 'solo' }), nodes, bound, { rand: first })), 'c');
});

test('least allocated: the emptiest node (cpu and memory fractions, non-zero defaults) wins', (t) => {
  const nodes = [node('a'), node('b'), node('c')];
  const bound = [pod('o1', { nodeName: 'a', cpu: '2', memory: '1Gi' }), pod('o2', { nodeName: 'b', cpu: '1', memory: '4Gi' }), pod('o3', { nodeName: 'c', cpu: '500m', memory: '512Mi' })];
  t.is(nodeOf(schedule(pod('p', { cpu: '100m', memory: '100Mi' }), nodes, bound, { rand: first })), 'c');
  // best-effort pods on nodes count with 100m/200Mi each, so they spread too
  const be = [pod('b1', { nodeName: 'a' }), pod('b2', { nodeName: 'a' }), pod('b3', { nodeName: 'b' })];
  t.is(nodeOf(schedule(pod('p'), [node('a', { cpu: '1', memory: '1Gi' }), node('b', { cpu: '1', memory: '1Gi' }), node('c', { cpu: '1', memory: '1Gi' })], be, { rand: first })), 'c');
});

test('ties are broken by the injected rand among the best nodes only', (t) => {
  const nodes = [node('busy', { cpu: '4' }), node('t1'), node('t2'), node('t3')];
  const bound = [pod('o', { nodeName: 'busy', cpu: '3' })];
  const seen = new Set<string>();
  for (const r of [0, 0.34, 0.67, 0.999]) seen.add(nodeOf(schedule(pod('p'), nodes, bound, { rand: () => r })));
  t.deepEqual([...seen].sort(), ['t1', 't2', 't3']);
});

// ---------- batches ----------

test('batch: each decision accounts for the previous ones (resources)', (t) => {
  const nodes = [node('a', { cpu: '2', memory: '4Gi' }), node('b', { cpu: '2', memory: '4Gi' })];
  const pending = Array.from({ length: 5 }, (_, i) => pod(`p${i}`, { cpu: '1', created: `2024-01-01T00:00:0${i}Z` }));
  const r = scheduleBatch(pending, nodes, [], { rand: first });
  const placed = [...r.values()].filter(isScheduled).map((x) => x.node);
  t.is(placed.length, 4);
  t.is(placed.filter((n) => n === 'a').length, 2);
  t.is(placed.filter((n) => n === 'b').length, 2);
  // the youngest pod is the one left over
  t.deepEqual(failure(r.get('default/p4')!).reasons, { 'Insufficient cpu': 2 });
});

test('batch: replicas of one controller spread evenly, host ports are not double-booked', (t) => {
  const nodes = Array.from({ length: 5 }, (_, i) => node(`n${i}`));
  const pending = Array.from({ length: 15 }, (_, i) => pod(`web-${String(i).padStart(2, '0')}`, { owner: 'web' }));
  const r = scheduleBatch(pending, nodes, []);
  const counts = new Map<string, number>();
  for (const x of r.values()) counts.set(nodeOf(x), (counts.get(nodeOf(x)) ?? 0) + 1);
  t.deepEqual([...counts.values()], [3, 3, 3, 3, 3]);

  const ported = Array.from({ length: 6 }, (_, i) => pod(`hp-${i}`, { hostPort: 443 }));
  const r2 = scheduleBatch(ported, nodes, []);
  const hosts = [...r2.values()].filter(isScheduled).map((x) => x.node);
  t.is(new Set(hosts).size, 5);
  t.is([...r2.values()].filter((x) => !isScheduled(x)).length, 1);
});

test('batch: priority first, then age; pre-bound pods are honoured and counted', (t) => {
  const nodes = [node('a', { cpu: '1' })];
  const pending = [
    pod('old-low', { cpu: '600m', created: '2024-01-01T00:00:00Z' }),
    pod('new-high', { cpu: '600m', created: '2024-01-02T00:00:00Z', priority: 1000 }),
  ];
  const r = scheduleBatch(pending, nodes, []);
  t.deepEqual(r.get('default/new-high'), { node: 'a' });
  t.false(isScheduled(r.get('default/old-low')!));
  t.deepEqual([...r.keys()], ['default/new-high', 'default/old-low']);

  const r2 = scheduleBatch([pod('free', { cpu: '600m' }), pod('fixed', { cpu: '600m', nodeName: 'a' })], nodes, []);
  t.deepEqual(r2.get('default/fixed'), { node: 'a' });
  t.deepEqual(failure(r2.get('default/free')!).reasons, { 'Insufficient cpu': 1 });
});

test('speed: 100 nodes x 1,000 pending pods (with 2,000 bound) in well under a second', (t) => {
  const nodes = Array.from({ length: 100 }, (_, i) =>
    node(`node-${i}`, { cpu: '32', memory: '128Gi', labels: { zone: `z${i % 3}` }, taints: i % 10 === 0 ? [{ key: 'gpu', effect: 'NoSchedule' }] : undefined }),
  );
  const bound = Array.from({ length: 2000 }, (_, i) => pod(`b-${i}`, { nodeName: `node-${i % 100}`, cpu: '100m', memory: '128Mi', owner: `rs-${i % 40}` }));
  const pending = Array.from({ length: 1000 }, (_, i) => pod(`p-${i}`, { cpu: '200m', memory: '256Mi', owner: `rs-${i % 20}`, nodeSelector: i % 2 ? { zone: `z${i % 3}` } : undefined }));
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const start = process.hrtime.bigint();
  const r = scheduleBatch(pending, nodes, bound, { rand });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  t.log(`scheduleBatch 1000 pods x 100 nodes: ${ms.toFixed(1)} ms`);
  t.is([...r.values()].filter(isScheduled).length, 1000);
  // the shared 2-core machine is noisy: the target is < 1 s, fail only on a gross regression
  t.true(ms < 3000, `took ${ms} ms`);
});

test('VolumeBinding: a Pod whose claim is bound to a node-local volume only fits that node', async (t) => {
  const { volumeNodeMatcher } = await import('../../../src/scheduler/volume-binding.js');
  const { schedule, REASON_VOLUME_NODE_AFFINITY } = await import('../../../src/scheduler/schedule.js');
  const mk = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: {}, status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] } }) as never;
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'i' }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data-web-0' } }] } } as never;
  const claim = { metadata: { name: 'data-web-0' }, spec: { volumeName: 'pvc-1' } } as never;
  const volume = { metadata: { name: 'pvc-1' }, spec: { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['b'] }] }] } } } } as never;
  const volumeNodes = (p: Parameters<typeof volumeNodeMatcher>[0]) => volumeNodeMatcher(p, () => claim, () => volume);
  t.deepEqual(schedule(pod, [mk('a'), mk('b'), mk('c')], [], { volumeNodes, rand: () => 0 }), { node: 'b' });
  const r = schedule(pod, [mk('a')], [], { volumeNodes, preemptionMessage: false });
  t.deepEqual(r, { unschedulable: `0/1 nodes are available: 1 ${REASON_VOLUME_NODE_AFFINITY}.`, reasons: { [REASON_VOLUME_NODE_AFFINITY]: 1 } });
  t.is(volumeNodeMatcher(pod, () => undefined, () => undefined), undefined, 'an unbound claim does not restrict the node');
});
