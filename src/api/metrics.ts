// metrics.k8s.io/v1beta1: the resource metrics API `kubectl top` and the autoscaler read. Served by
// the API server from the summaries each node's agent reports (as metrics-server is an aggregated API
// fed by the kubelets); listed in discovery once the server serves it. Conversions here are pure.

import type { NodeMetrics, NodeStatsSummary, PodMetrics } from './types.js';
import type { ResourceInfo } from './resources.js';

function metricsResource(kind: string, plural: string, namespaced: boolean): ResourceInfo {
  return {
    group: 'metrics.k8s.io',
    version: 'v1beta1',
    apiVersion: 'metrics.k8s.io/v1beta1',
    kind,
    listKind: `${kind}List`,
    plural,
    singular: '',
    namespaced,
    shortNames: [],
    categories: [],
    verbs: ['get', 'list'],
    subresources: [],
    hasStatus: false,
  };
}

export const METRICS = {
  nodes: metricsResource('NodeMetrics', 'nodes', false),
  pods: metricsResource('PodMetrics', 'pods', true),
} as const;

/** CPU as metrics-server writes it: nanocores. */
export function cpuQuantity(nanoCores: number): string {
  return `${Math.max(0, Math.round(nanoCores))}n`;
}

/** Memory as metrics-server writes it: KiB. */
export function memoryQuantity(bytes: number): string {
  return `${Math.max(0, Math.round(bytes / 1024))}Ki`;
}

/** Go's duration text of a window in seconds (`15.002s`). */
export function windowText(seconds: number): string {
  return `${Number(seconds.toFixed(3))}s`;
}

export function nodeMetricsOf(summary: NodeStatsSummary, labels?: Record<string, string>): NodeMetrics {
  const n = summary.node;
  return {
    apiVersion: 'metrics.k8s.io/v1beta1',
    kind: 'NodeMetrics',
    metadata: { name: n.nodeName, creationTimestamp: n.time, ...(labels && Object.keys(labels).length ? { labels } : {}) },
    timestamp: n.time,
    window: windowText(n.windowSeconds),
    usage: { cpu: cpuQuantity(n.usageNanoCores), memory: memoryQuantity(n.workingSetBytes) },
  };
}

/** One PodMetrics per Pod of the summary; `labels` gives each Pod's labels (or undefined for a Pod that is gone). */
export function podMetricsOf(summary: NodeStatsSummary, labelsOf: (namespace: string, name: string, uid: string) => Record<string, string> | undefined): PodMetrics[] {
  const out: PodMetrics[] = [];
  for (const p of summary.pods) {
    const labels = labelsOf(p.podRef.namespace, p.podRef.name, p.podRef.uid);
    if (labels === undefined || p.containers.length === 0) continue;
    const time = p.containers.reduce((t, c) => (c.time > t ? c.time : t), p.containers[0].time);
    const window = Math.max(...p.containers.map((c) => c.windowSeconds));
    out.push({
      apiVersion: 'metrics.k8s.io/v1beta1',
      kind: 'PodMetrics',
      metadata: { name: p.podRef.name, namespace: p.podRef.namespace, creationTimestamp: time, ...(Object.keys(labels).length ? { labels } : {}) },
      timestamp: time,
      window: windowText(window),
      containers: p.containers.map((c) => ({ name: c.name, usage: { cpu: cpuQuantity(c.usageNanoCores), memory: memoryQuantity(c.workingSetBytes) } })),
    });
  }
  return out;
}

/** A summary as the API receives it: a 400-worthy reason when it is not one, else undefined. */
export function summaryProblem(body: unknown, nodeName: string): string | undefined {
  const s = body as NodeStatsSummary;
  if (!s || typeof s !== 'object' || Array.isArray(s)) return 'the body must be a NodeStatsSummary object';
  if (s.kind !== 'NodeStatsSummary') return `kind must be NodeStatsSummary, not ${JSON.stringify(s.kind)}`;
  const n = s.node;
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (!n || typeof n !== 'object' || n.nodeName !== nodeName) return `node.nodeName must be the node named in the path (${nodeName})`;
  if (!num(n.usageNanoCores) || !num(n.workingSetBytes) || !num(n.windowSeconds) || Number.isNaN(Date.parse(n.time))) return 'node usage must have finite, non-negative numbers and an RFC 3339 time';
  if (!Array.isArray(s.pods) || s.pods.length > 100_000) return 'pods must be a list (at most 100000)';
  for (const p of s.pods) {
    if (!p || typeof p.podRef !== 'object' || typeof p.podRef?.name !== 'string' || typeof p.podRef?.namespace !== 'string' || !Array.isArray(p.containers)) return 'each pod needs podRef {namespace, name, uid} and containers';
    for (const c of p.containers) {
      if (!c || typeof c.name !== 'string' || !num(c.usageNanoCores) || !num(c.workingSetBytes) || !num(c.windowSeconds) || Number.isNaN(Date.parse(c.time))) return `container usage of pod ${p.podRef.namespace}/${p.podRef.name} must have a name, finite non-negative numbers and an RFC 3339 time`;
    }
  }
  return undefined;
}
