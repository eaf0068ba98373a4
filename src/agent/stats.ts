// Resource usage from Docker's stats and the host's /proc (pure): cumulative CPU counters become a
// rate between two samples (nanocores, as the kubelet's Summary API reports them), and memory is the
// working set the kubelet uses (usage less inactive file pages), for the containers, and for the node
// as a whole (MemTotal - MemAvailable; busy jiffies of /proc/stat).

import type { ContainerStats, NodeStatsSummary, PodStats } from '../api/types.js';

/** The part of Docker's `/containers/ID/stats` answer we read (cgroup v1 and v2 field names). */
export interface DockerStats {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: Record<string, number> };
}

/** One reading of a container's counters. */
export interface CpuMemSample {
  /** ms since epoch */
  at: number;
  /** Cumulative CPU time, ns. */
  cpuNs: number;
  workingSetBytes: number;
}

export function sampleOf(stats: DockerStats, now: number): CpuMemSample | undefined {
  const cpu = stats.cpu_stats?.cpu_usage?.total_usage;
  const usage = stats.memory_stats?.usage;
  if (typeof cpu !== 'number' || typeof usage !== 'number') return undefined;
  const s = stats.memory_stats?.stats ?? {};
  const inactive = s.total_inactive_file ?? s.inactive_file ?? 0;
  const read = stats.read ? Date.parse(stats.read) : NaN;
  // Docker's clock and ours are the same host's; its `read` is when the counters were read.
  const at = Number.isFinite(read) && read > 0 ? read : now;
  return { at, cpuNs: cpu, workingSetBytes: usage > inactive ? usage - inactive : usage };
}

/** The usage between two samples; undefined when they cannot make a rate (counter reset, no time between). */
export function rateBetween(prev: CpuMemSample | undefined, cur: CpuMemSample): { usageNanoCores: number; windowSeconds: number } | undefined {
  if (!prev) return undefined;
  const dt = cur.at - prev.at;
  const dcpu = cur.cpuNs - prev.cpuNs;
  if (dt <= 0 || dcpu < 0) return undefined;
  return { usageNanoCores: Math.round((dcpu / (dt * 1e6)) * 1e9), windowSeconds: dt / 1000 };
}

/** /proc/stat's first line as busy and total jiffies (idle and iowait are not busy). */
export function parseProcStat(text: string): { busy: number; total: number } | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 4 || f.some((n) => !Number.isFinite(n))) return undefined;
  // user nice system idle iowait irq softirq steal (guest and guest_nice are already in user/nice)
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
}

/** Bytes in use by the node: MemTotal - MemAvailable. */
export function parseMeminfo(text: string): number | undefined {
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb('MemTotal');
  const avail = kb('MemAvailable');
  if (total === undefined || avail === undefined) return undefined;
  return total - avail;
}

/** Node CPU between two /proc/stat readings, in nanocores (USER_HZ 100 jiffies a second on Linux). */
export function nodeNanoCores(prev: { busy: number; at: number } | undefined, cur: { busy: number; at: number }, userHz = 100): number | undefined {
  if (!prev) return undefined;
  const dt = (cur.at - prev.at) / 1000;
  const dj = cur.busy - prev.busy;
  if (dt <= 0 || dj < 0) return undefined;
  return Math.round((dj / userHz / dt) * 1e9);
}

export interface ContainerReading {
  podNamespace: string;
  podName: string;
  podUid: string;
  containerName: string;
  stats: ContainerStats;
}

/** The summary a node reports: its own usage and each Pod's containers. */
export function buildSummary(nodeName: string, node: NodeStatsSummary['node'], readings: ContainerReading[]): NodeStatsSummary {
  const pods = new Map<string, PodStats>();
  for (const r of readings) {
    const key = `${r.podNamespace}/${r.podName}/${r.podUid}`;
    let p = pods.get(key);
    if (!p) pods.set(key, (p = { podRef: { namespace: r.podNamespace, name: r.podName, uid: r.podUid }, containers: [] }));
    p.containers.push(r.stats);
  }
  for (const p of pods.values()) p.containers.sort((a, b) => a.name.localeCompare(b.name));
  return { apiVersion: 'v1', kind: 'NodeStatsSummary', metadata: { name: nodeName }, node, pods: [...pods.values()] };
}
