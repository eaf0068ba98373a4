// Usage from Docker's stats and /proc: the working set (cgroup v1 and v2 names), CPU rates between two
// samples (and no rate across a counter reset), node CPU from jiffies, MemTotal - MemAvailable; the
// node summary; and what the metrics API makes of it (metrics-server's units, a Pod that is gone left
// out) and refuses.

import test from 'ava';
import { buildSummary, nodeNanoCores, parseMeminfo, parseProcStat, rateBetween, sampleOf } from '../../../src/agent/stats.js';
import { cpuQuantity, memoryQuantity, nodeMetricsOf, podMetricsOf, summaryProblem, windowText } from '../../../src/api/metrics.js';

const T0 = Date.parse('2024-06-01T12:00:00Z');

test('sampleOf: the working set is usage less inactive file pages (v1 total_inactive_file, v2 inactive_file)', (t) => {
  t.deepEqual(sampleOf({ read: '2024-06-01T12:00:00Z', cpu_stats: { cpu_usage: { total_usage: 5e9 } }, memory_stats: { usage: 10_000, stats: { total_inactive_file: 4000 } } }, 1), { at: T0, cpuNs: 5e9, workingSetBytes: 6000 });
  t.is(sampleOf({ cpu_stats: { cpu_usage: { total_usage: 1 } }, memory_stats: { usage: 10_000, stats: { inactive_file: 3000 } } }, 7)!.workingSetBytes, 7000);
  // Docker's zero time ("0001-01-01T00:00:00Z") of a stopped container: our clock is used.
  t.is(sampleOf({ read: '0001-01-01T00:00:00Z', cpu_stats: { cpu_usage: { total_usage: 1 } }, memory_stats: { usage: 5 } }, 42)!.at, 42);
  t.is(sampleOf({ memory_stats: { usage: 5 } }, 1), undefined);
});

test('rateBetween: nanocores over the window; none without a previous sample, across a reset or without time', (t) => {
  const a = { at: T0, cpuNs: 1e9, workingSetBytes: 1 };
  // 0.5 s of CPU in 2 s: a quarter of a core.
  t.deepEqual(rateBetween(a, { at: T0 + 2000, cpuNs: 1.5e9, workingSetBytes: 1 }), { usageNanoCores: 250_000_000, windowSeconds: 2 });
  t.is(rateBetween(undefined, a), undefined);
  t.is(rateBetween(a, { ...a, cpuNs: 0, at: T0 + 1000 }), undefined);
  t.is(rateBetween(a, { ...a, cpuNs: 2e9 }), undefined);
});

test('/proc: busy jiffies exclude idle and iowait; node nanocores at USER_HZ 100; memory in use', (t) => {
  const stat = 'cpu  100 0 50 1000 25 5 5 0 0 0\ncpu0 50 0 25 500 12 2 2 0 0 0\n';
  t.deepEqual(parseProcStat(stat), { busy: 160, total: 1185 });
  t.is(parseProcStat('intr 1 2 3'), undefined);
  // 200 busy jiffies in 1 s on USER_HZ 100: two cores busy.
  t.is(nodeNanoCores({ busy: 0, at: T0 }, { busy: 200, at: T0 + 1000 }), 2e9);
  t.is(nodeNanoCores(undefined, { busy: 200, at: T0 }), undefined);
  t.is(parseMeminfo('MemTotal:       4000 kB\nMemFree:  100 kB\nMemAvailable:   1000 kB\n'), 3000 * 1024);
  t.is(parseMeminfo('MemTotal: 4000 kB\n'), undefined);
});

const summary = () =>
  buildSummary('vm', { nodeName: 'vm', time: '2024-06-01T12:00:00Z', windowSeconds: 15.0004, usageNanoCores: 412_345_678, workingSetBytes: 1630 * 1024 * 1024 }, [
    { podNamespace: 'default', podName: 'web', podUid: 'u1', containerName: 'side', stats: { name: 'side', time: '2024-06-01T12:00:01Z', windowSeconds: 14, usageNanoCores: 1_000_000, workingSetBytes: 2048 } },
    { podNamespace: 'default', podName: 'web', podUid: 'u1', containerName: 'app', stats: { name: 'app', time: '2024-06-01T12:00:00Z', windowSeconds: 15, usageNanoCores: 199_000_000, workingSetBytes: 1536 } },
    { podNamespace: 'default', podName: 'gone', podUid: 'u2', containerName: 'app', stats: { name: 'app', time: '2024-06-01T12:00:00Z', windowSeconds: 15, usageNanoCores: 5, workingSetBytes: 5 } },
  ]);

test('buildSummary groups containers by Pod, sorted by name', (t) => {
  const s = summary();
  t.is(s.kind, 'NodeStatsSummary');
  t.deepEqual(s.pods.map((p) => [p.podRef.name, p.containers.map((c) => c.name)]), [['web', ['app', 'side']], ['gone', ['app']]]);
  t.is(summaryProblem(s, 'vm'), undefined);
});

test('metrics objects: nanocores and KiB as metrics-server writes them, the newest time and widest window of a Pod', (t) => {
  t.is(cpuQuantity(199_000_000.4), '199000000n');
  t.is(cpuQuantity(-3), '0n');
  t.is(memoryQuantity(1536), '2Ki');
  t.is(windowText(15.0004), '15s');
  t.is(windowText(14.5), '14.5s');
  const node = nodeMetricsOf(summary(), { 'kubernetes.io/hostname': 'vm' });
  t.deepEqual(node.usage, { cpu: '412345678n', memory: `${1630 * 1024}Ki` });
  t.like(node.metadata, { name: 'vm', labels: { 'kubernetes.io/hostname': 'vm' } });
  const pods = podMetricsOf(summary(), (ns, name) => (name === 'web' ? { app: 'web' } : undefined));
  t.is(pods.length, 1);
  t.like(pods[0], { metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } }, timestamp: '2024-06-01T12:00:01Z', window: '15s' });
  t.deepEqual(pods[0].containers, [
    { name: 'app', usage: { cpu: '199000000n', memory: '2Ki' } },
    { name: 'side', usage: { cpu: '1000000n', memory: '2Ki' } },
  ]);
});

test('summaryProblem: a report that is not one, or for another node, or with bad numbers, is refused with the reason', (t) => {
  t.is(summaryProblem([], 'vm'), 'the body must be a NodeStatsSummary object');
  t.is(summaryProblem({ kind: 'Pod' }, 'vm'), 'kind must be NodeStatsSummary, not "Pod"');
  t.is(summaryProblem(summary(), 'other'), 'node.nodeName must be the node named in the path (other)');
  const neg = summary();
  neg.node.usageNanoCores = -1;
  t.regex(summaryProblem(neg, 'vm')!, /finite, non-negative/);
  const badPod = summary();
  badPod.pods[0].containers[0].time = 'yesterday';
  t.is(summaryProblem(badPod, 'vm'), 'container usage of pod default/web must have a name, finite non-negative numbers and an RFC 3339 time');
});
