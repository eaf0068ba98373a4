// metrics.k8s.io/v1beta1 (what `kubectl top` reads) and the stats summary each node's agent reports
// to the server (the shape of the kubelet's stats/v1alpha1 Summary, trimmed to cpu and memory).

import type { KObject } from './types.js';

export interface ResourceUsage {
  /** Quantities: cpu in nanocores (`12345678n`), memory in Ki (`20480Ki`). */
  cpu: string;
  memory: string;
}

export interface NodeMetrics extends KObject {
  apiVersion: 'metrics.k8s.io/v1beta1';
  kind: 'NodeMetrics';
  timestamp: string;
  window: string;
  usage: ResourceUsage;
}

export interface PodMetrics extends KObject {
  apiVersion: 'metrics.k8s.io/v1beta1';
  kind: 'PodMetrics';
  timestamp: string;
  window: string;
  containers: { name: string; usage: ResourceUsage }[];
}

/** One sample of one container, as the agent measured it. */
export interface ContainerStats {
  name: string;
  /** When the later of the two samples the rate comes from was taken (RFC 3339). */
  time: string;
  /** Seconds between the two samples. */
  windowSeconds: number;
  /** CPU in nanocores over the window. */
  usageNanoCores: number;
  /** Memory working set (usage minus inactive file pages), bytes. */
  workingSetBytes: number;
}

export interface PodStats {
  podRef: { namespace: string; name: string; uid: string };
  containers: ContainerStats[];
}

/** What a node's agent posts to `nodes/NAME/stats`: its own usage and its Pods'. */
export interface NodeStatsSummary extends KObject {
  apiVersion: 'v1';
  kind: 'NodeStatsSummary';
  node: { nodeName: string; time: string; windowSeconds: number; usageNanoCores: number; workingSetBytes: number };
  pods: PodStats[];
}
