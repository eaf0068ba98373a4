// The resource metrics API (metrics.k8s.io/v1beta1 NodeMetrics and PodMetrics), served the way an
// aggregated metrics-server would be: each node's agent posts its latest usage summary to
// `nodes/NAME/stats`, the server keeps the newest one per node in memory, and GET/LIST of the metrics
// resources answer from those (nothing is sampled per request). Discovery lists metrics.k8s.io from
// the moment this is mounted; a node that stopped reporting drops out after `staleAfterMs`.

import type { KList, KObject, Node, NodeStatsSummary, Pod } from '../api/types.js';
import { R } from '../api/resources.js';
import { errors, successStatus } from '../api/errors.js';
import { METRICS, nodeMetricsOf, podMetricsOf, summaryProblem } from '../api/metrics.js';
import { parseFieldSelector, parseLabelSelector } from '../api/selectors.js';
import type { ListOptions } from '../client/types.js';
import type { Registry } from './registry.js';

export interface MetricsAPIOptions {
  /** Summaries older than this are dropped (default 3 minutes). */
  staleAfterMs?: number;
  now?: () => number;
}

export interface MetricsAPI {
  /** The latest summary of each node (tests, benchmarks). */
  summaries(): ReadonlyMap<string, NodeStatsSummary>;
  stop(): void;
}

export function serveMetricsAPI(registry: Registry, opts: MetricsAPIOptions = {}): MetricsAPI {
  const now = opts.now ?? Date.now;
  const staleAfterMs = opts.staleAfterMs ?? 3 * 60_000;
  const latest = new Map<string, { summary: NodeStatsSummary; at: number }>();
  const fresh = () => {
    const cutoff = now() - staleAfterMs;
    for (const [node, s] of latest) if (s.at < cutoff) latest.delete(node);
    return [...latest.values()].map((s) => s.summary);
  };

  registry.addSubresourceHandler(R.nodes, 'stats', async (_ns, name, body) => {
    const problem = summaryProblem(body, name);
    if (problem) throw errors.badRequest(`invalid stats summary for node ${name}: ${problem}`);
    // Only registered nodes report (a summary for a node that does not exist has nowhere to go).
    await registry.get(R.nodes, undefined, name);
    latest.set(name, { summary: body as NodeStatsSummary, at: now() });
    return successStatus() as unknown as KObject;
  });

  const matcher = (o: ListOptions, res: typeof METRICS.nodes) => {
    const label = o.labelSelector ? parseLabelSelector(o.labelSelector) : undefined;
    const field = o.fieldSelector ? parseFieldSelector(res, o.fieldSelector) : undefined;
    return (obj: KObject) => (!label || label(obj.metadata.labels)) && (!field || field(obj));
  };

  const allPodMetrics = async (namespace: string | undefined) => {
    const pods = await registry.store.list(R.pods, namespace);
    const byKey = new Map<string, Pod>();
    for (const p of pods.items as Pod[]) byKey.set(`${p.metadata.namespace}/${p.metadata.name}`, p);
    const out: KObject[] = [];
    for (const summary of fresh()) {
      out.push(
        ...podMetricsOf(summary, (ns, name, uid) => {
          if (namespace && ns !== namespace) return undefined;
          const pod = byKey.get(`${ns}/${name}`);
          return pod && (!uid || pod.metadata.uid === uid) ? (pod.metadata.labels ?? {}) : undefined;
        }),
      );
    }
    return out.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  };

  const allNodeMetrics = async () => {
    const nodes = new Map(((await registry.store.list(R.nodes)).items as Node[]).map((n) => [n.metadata.name!, n]));
    return fresh()
      .filter((s) => nodes.has(s.node.nodeName))
      .map((s) => nodeMetricsOf(s, nodes.get(s.node.nodeName)!.metadata.labels) as KObject)
      .sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
  };

  const list = (kind: string, items: KObject[]): KList => ({ apiVersion: 'metrics.k8s.io/v1beta1', kind, metadata: {}, items });

  registry.serveVirtual(METRICS.nodes, {
    async get(_ns, name) {
      const found = (await allNodeMetrics()).find((m) => m.metadata.name === name);
      if (!found) throw errors.notFound(METRICS.nodes, name);
      return found;
    },
    async list(o) {
      return list('NodeMetricsList', (await allNodeMetrics()).filter(matcher(o, METRICS.nodes)));
    },
  });
  registry.serveVirtual(METRICS.pods, {
    async get(ns, name) {
      const found = (await allPodMetrics(ns ?? 'default')).find((m) => m.metadata.name === name);
      if (!found) throw errors.notFound(METRICS.pods, name);
      return found;
    },
    async list(o) {
      return list('PodMetricsList', (await allPodMetrics(o.namespace)).filter(matcher(o, METRICS.pods)));
    },
  });
  registry.resources.set('metrics.k8s.io', [METRICS.nodes, METRICS.pods]);

  return {
    summaries() {
      fresh();
      return new Map([...latest].map(([n, s]) => [n, s.summary]));
    },
    stop() {
      registry.resources.delete('metrics.k8s.io');
    },
  };
}
