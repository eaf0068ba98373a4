// The agent's half of `kubectl top`: every resolution interval it reads each running app container's
// counters from Docker (one-shot stats, many at a time) and the host's /proc, turns them into rates
// against the previous reading (stats.ts), and posts the node's summary to the API server
// (`POST /api/v1/nodes/NAME/stats`), which keeps the latest one in memory and serves metrics.k8s.io
// from it. A remote agent does the same over HTTP, so the numbers of every node come from its own
// agent; nothing is sampled when a client asks.

import fs from 'node:fs/promises';
import { R } from '../api/resources.js';
import type { ApiClient } from '../client/types.js';
import type { Logger } from '../util/log.js';
import { rfc3339 } from '../util/time.js';
import type { DockerRuntime } from './docker.js';
import type { RuntimeCache } from './runtime-cache.js';
import { buildSummary, nodeNanoCores, parseMeminfo, parseProcStat, rateBetween, sampleOf, type ContainerReading, type CpuMemSample, type DockerStats } from './stats.js';

export const DEFAULT_METRIC_RESOLUTION_MS = 15_000;
// Docker 20.10 answers a one-shot stats request at its stats collector's next 1 s tick, however cheap
// the read: requests in flight together finish together, so a pass over N containers takes about
// ceil(N / PARALLEL) seconds (with 4 in flight, 100 Pods took 25 s a pass, longer than the resolution).
const PARALLEL = 64;

export interface StatsCollectorOptions {
  client: ApiClient;
  runtime: DockerRuntime;
  cache: RuntimeCache;
  nodeName: () => string;
  logger: Logger;
  resolutionMs?: number;
  /** /proc of the host (tests point it elsewhere). */
  procDir?: string;
}

export class StatsCollector {
  private timer?: NodeJS.Timeout;
  private running = false;
  private stopped = false;
  private readonly previous = new Map<string, CpuMemSample>();
  private previousNode?: { busy: number; at: number };

  constructor(private readonly o: StatsCollectorOptions) {}

  start(): void {
    const every = this.o.resolutionMs ?? DEFAULT_METRIC_RESOLUTION_MS;
    // A first reading at once, so rates (which need two) are ready one interval later.
    void this.tick();
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      const summary = await this.collect();
      if (summary && !this.stopped) await this.o.client.createSubresource(R.nodes, undefined, this.o.nodeName(), 'stats', summary);
    } catch (err) {
      this.o.logger.debug({ err: (err as Error).message }, 'stats report failed');
    } finally {
      this.running = false;
    }
  }

  private async readNode(): Promise<{ busy: number; at: number; workingSetBytes: number } | undefined> {
    const proc = this.o.procDir ?? '/proc';
    try {
      const [stat, mem] = await Promise.all([fs.readFile(`${proc}/stat`, 'utf8'), fs.readFile(`${proc}/meminfo`, 'utf8')]);
      const cpu = parseProcStat(stat);
      const ws = parseMeminfo(mem);
      if (!cpu || ws === undefined) return undefined;
      return { busy: cpu.busy, at: Date.now(), workingSetBytes: ws };
    } catch {
      return undefined;
    }
  }

  async collect(): Promise<ReturnType<typeof buildSummary> | undefined> {
    const containers = this.o.cache.all().filter((c) => c.role === 'app' && c.state === 'running');
    const readings: ContainerReading[] = [];
    const seen = new Set<string>();
    let next = 0;
    const worker = async () => {
      while (next < containers.length) {
        const c = containers[next++];
        seen.add(c.id);
        let raw: Record<string, unknown> | undefined;
        try {
          raw = await this.o.runtime.statsOnce(c.id);
        } catch {
          continue;
        }
        const sample = raw ? sampleOf(raw as DockerStats, Date.now()) : undefined;
        if (!sample) continue;
        const rate = rateBetween(this.previous.get(c.id), sample);
        this.previous.set(c.id, sample);
        if (!rate) continue;
        readings.push({
          podNamespace: c.podNamespace,
          podName: c.podName,
          podUid: c.podUid,
          containerName: c.containerName,
          stats: { name: c.containerName, time: rfc3339(new Date(sample.at)), windowSeconds: rate.windowSeconds, usageNanoCores: rate.usageNanoCores, workingSetBytes: sample.workingSetBytes },
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, containers.length) }, worker));
    for (const id of this.previous.keys()) if (!seen.has(id)) this.previous.delete(id);

    const node = await this.readNode();
    if (!node) return undefined;
    const cores = nodeNanoCores(this.previousNode, node);
    const window = this.previousNode ? (node.at - this.previousNode.at) / 1000 : 0;
    this.previousNode = { busy: node.busy, at: node.at };
    if (cores === undefined) return undefined;
    return buildSummary(this.o.nodeName(), { nodeName: this.o.nodeName(), time: rfc3339(new Date(node.at)), windowSeconds: window, usageNanoCores: cores, workingSetBytes: node.workingSetBytes }, readings);
  }
}
