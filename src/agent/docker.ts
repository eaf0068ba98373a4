// The thin dockerode adapter: everything the agent says to the Docker engine goes through here
// (containers, images, the pod network, exec, logs, the events stream with its reconnect). No
// decisions: callers decide, this file only talks and maps answers to our types.

import './dockerode-lean.js';
import Dockerode from 'dockerode';
import { PassThrough, Readable, type Duplex } from 'node:stream';
import { FrameDemuxer } from './frames.js';
import { fromInspect, fromSummary } from './observed.js';
import type { ObservedContainer } from './types.js';
import type { NetworkSummary, WantedNetwork } from './network.js';
import type { DockerFacts } from './node-status.js';
import type { LeveledLogger } from '../util/log.js';

type Logger = Pick<LeveledLogger, 'debug' | 'info' | 'warn'>;

interface DockerodeError extends Error {
  statusCode?: number;
  json?: { message?: string } | null;
}

/** Docker's own words for a failure, without docker-modem's "(HTTP code 500) server error - " prefix. */
export function dockerMessage(err: unknown): string {
  const e = err as DockerodeError;
  const fromJson = e?.json && typeof e.json === 'object' ? e.json.message : undefined;
  const msg = (fromJson || e?.message || String(err)).replace(/^\(HTTP code \d+\) [^-]*- /, '');
  return msg.trim();
}

export function isNotFound(err: unknown): boolean {
  return (err as DockerodeError)?.statusCode === 404;
}

function isConflict(err: unknown): boolean {
  return (err as DockerodeError)?.statusCode === 409;
}

function isNotModified(err: unknown): boolean {
  return (err as DockerodeError)?.statusCode === 304;
}

export interface DockerEvent {
  Type: string;
  Action: string;
  id: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  time: number;
  timeNano: number;
}

export interface EventWatch {
  stop(): void;
  /** Breaks the current stream as a dying daemon or a dropped socket would (tests); it reconnects. */
  interrupt(): void;
  readonly connected: boolean;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export class DockerRuntime {
  constructor(
    readonly docker: Dockerode = new Dockerode(),
    private readonly logger?: Logger,
  ) {}

  /** Resolves when the engine answers within timeoutMs; rejects with why otherwise. */
  async ping(timeoutMs = 3000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.docker.ping(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async facts(): Promise<DockerFacts> {
    const info = (await this.docker.info()) as Record<string, unknown>;
    return {
      ncpu: Number(info.NCPU) || 1,
      memTotal: Number(info.MemTotal) || 0,
      serverVersion: String(info.ServerVersion ?? ''),
      kernelVersion: String(info.KernelVersion ?? ''),
      operatingSystem: String(info.OperatingSystem ?? ''),
      architecture: String(info.Architecture ?? ''),
      osType: String(info.OSType ?? 'linux'),
      rootDir: typeof info.DockerRootDir === 'string' ? info.DockerRootDir : undefined,
    };
  }

  /** Every container labelled instanceLabel=instanceValue, running or not. */
  async listOurs(instanceLabel: string, instanceValue: string, network: string): Promise<ObservedContainer[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [`${instanceLabel}=${instanceValue}`] } });
    return list.map((c) => fromSummary(c, network)).filter((c): c is ObservedContainer => c !== undefined);
  }

  async inspectRaw(id: string): Promise<Dockerode.ContainerInspectInfo | undefined> {
    try {
      return await this.docker.getContainer(id).inspect();
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** One reading of a container's counters (Docker's one-shot stats: no second sample, no wait). */
  async statsOnce(id: string): Promise<Record<string, unknown> | undefined> {
    try {
      return (await this.docker.getContainer(id).stats({ stream: false, 'one-shot': true })) as unknown as Record<string, unknown>;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async inspect(id: string, network: string, hostIP?: string): Promise<ObservedContainer | undefined> {
    const raw = await this.inspectRaw(id);
    return raw ? fromInspect(raw, network, hostIP) : undefined;
  }

  /** Creates a container; a name taken by a leftover of ours is reported as a conflict error. */
  async create(opts: Dockerode.ContainerCreateOptions): Promise<string> {
    const c = await this.docker.createContainer(opts);
    return c.id;
  }

  async start(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
    } catch (err) {
      if (isNotModified(err)) return; // already running
      throw err;
    }
  }

  /** SIGTERM (or the image's stop signal), SIGKILL after timeoutSec. */
  async stop(id: string, timeoutSec: number): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: Math.max(0, Math.ceil(timeoutSec)) });
    } catch (err) {
      if (isNotModified(err) || isNotFound(err)) return;
      throw err;
    }
  }

  async kill(id: string, signal = 'SIGKILL'): Promise<void> {
    try {
      await this.docker.getContainer(id).kill({ signal });
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return; // gone or not running
      throw err;
    }
  }

  /** Force-removes (SIGKILL if running) with its anonymous volumes; a missing container is fine. */
  async remove(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      if (isNotFound(err)) return;
      // "removal of container ... is already in progress"
      if (isConflict(err) && /already in progress/.test(dockerMessage(err))) return;
      throw err;
    }
  }

  async imagePresent(ref: string): Promise<boolean> {
    try {
      await this.docker.getImage(ref).inspect();
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** Pulls ref; rejects with the registry's message (from the response or from the progress stream). */
  async pull(ref: string): Promise<void> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.docker.pull(ref);
    } catch (err) {
      throw new Error(dockerMessage(err));
    }
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(new Error(dockerMessage(err))) : resolve()));
    });
  }

  async networks(): Promise<NetworkSummary[]> {
    const list = await this.docker.listNetworks();
    return list.map((n) => ({
      id: n.Id,
      name: n.Name,
      driver: n.Driver,
      subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => !!s),
      bridgeName: n.Options?.['com.docker.network.bridge.name'],
      labels: n.Labels ?? {},
    }));
  }

  async networkContainers(id: string): Promise<number> {
    const info = (await this.docker.getNetwork(id).inspect()) as { Containers?: Record<string, unknown> };
    return Object.keys(info.Containers ?? {}).length;
  }

  async createNetwork(want: WantedNetwork, gateway: string): Promise<string> {
    const n = await this.docker.createNetwork({
      Name: want.name,
      Driver: 'bridge',
      CheckDuplicate: true,
      IPAM: { Driver: 'default', Config: [{ Subnet: want.subnet, Gateway: gateway }] },
      Options: { 'com.docker.network.bridge.name': want.bridge },
      Labels: { [want.instanceLabel]: want.instanceValue },
    });
    return n.id;
  }

  async removeNetwork(id: string): Promise<void> {
    try {
      await this.docker.getNetwork(id).remove();
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Runs cmd in a container and collects its output (probes, hooks); gives up after timeoutMs. */
  async execCollect(id: string, cmd: string[], timeoutMs: number, maxBytes = 64 * 1024): Promise<ExecResult> {
    const exec = await this.docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, AttachStdin: false, Tty: false });
    const stream = (await exec.start({ hijack: true, stdin: false })) as Duplex;
    const demux = new FrameDemuxer();
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const ended = await new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      stream.on('data', (chunk: Buffer) => {
        for (const f of demux.push(chunk)) {
          if (f.stream === 2) {
            if (stderr.length < maxBytes) stderr += f.data.toString();
          } else if (stdout.length < maxBytes) stdout += f.data.toString();
        }
      });
      stream.on('end', () => resolve(true));
      stream.on('close', () => resolve(true));
      stream.on('error', () => resolve(true));
    });
    clearTimeout(timer);
    if (!ended) {
      stream.destroy();
      return { exitCode: -1, stdout, stderr, timedOut: true };
    }
    const info = await exec.inspect();
    return { exitCode: info.ExitCode ?? -1, stdout, stderr, timedOut: false };
  }

  /** An interactive exec: the hijacked connection (multiplexed unless tty) and the exec handle. */
  async execInteractive(id: string, opts: { cmd: string[]; stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean; size?: { width: number; height: number } }): Promise<{ stream: Duplex; exec: Dockerode.Exec }> {
    const exec = await this.docker.getContainer(id).exec({
      Cmd: opts.cmd,
      AttachStdin: opts.stdin,
      AttachStdout: opts.stdout,
      AttachStderr: opts.stderr,
      Tty: opts.tty,
      ...(opts.size ? { ConsoleSize: [opts.size.height, opts.size.width] as [number, number] } : {}),
    });
    const stream = (await exec.start({ hijack: true, stdin: opts.stdin, Tty: opts.tty })) as Duplex;
    return { stream, exec };
  }

  /**
   * Attaches to a running container's own stdin/stdout/stderr (kubectl attach, kubectl run -i): the
   * hijacked connection, multiplexed unless the container has a TTY; it ends when the container stops.
   */
  async attachInteractive(id: string, opts: { stdin: boolean; stdout: boolean; stderr: boolean }): Promise<{ stream: Duplex; tty: boolean }> {
    const container = this.docker.getContainer(id);
    const info = await container.inspect();
    const stream = (await container.attach({ stream: true, hijack: true, stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr, logs: false })) as Duplex;
    return { stream, tty: info.Config?.Tty === true };
  }

  async containerResize(id: string, width: number, height: number): Promise<void> {
    await this.docker.getContainer(id).resize({ h: height, w: width });
  }

  async execResize(exec: Dockerode.Exec, width: number, height: number): Promise<void> {
    await exec.resize({ h: height, w: width });
  }

  async execExitCode(exec: Dockerode.Exec): Promise<number | undefined> {
    const info = await exec.inspect();
    if (info.Running) return undefined;
    return info.ExitCode ?? undefined;
  }

  /** The container's log stream (raw Docker bytes: multiplexed unless the container has a TTY). */
  async logs(id: string, opts: { follow: boolean; tail?: number; timestamps?: boolean; since?: number }): Promise<Readable> {
    const c = this.docker.getContainer(id);
    const base = { stdout: true, stderr: true, timestamps: !!opts.timestamps, ...(opts.tail !== undefined ? { tail: opts.tail } : {}), ...(opts.since !== undefined ? { since: opts.since } : {}) };
    if (opts.follow) return (await c.logs({ ...base, follow: true })) as unknown as Readable;
    const buf = (await c.logs({ ...base, follow: false })) as unknown as Buffer;
    const out = new PassThrough();
    out.end(buf);
    return out;
  }

  /**
   * Follows Docker's events (filtered), reconnecting with back-off when the stream breaks; onConnect
   * runs after every (re)connect so the caller can re-list what it may have missed meanwhile.
   */
  watchEvents(filters: Record<string, string[]>, onEvent: (ev: DockerEvent) => void, hooks: { onConnect?(): void; onDisconnect?(err?: Error): void } = {}): EventWatch {
    let stopped = false;
    let current: (Readable & { destroy(err?: Error): void }) | undefined;
    let delay = 100;
    let retry: NodeJS.Timeout | undefined;
    let connected = false;
    // Where a new stream resumes: the last event's time, or when the first stream was asked for.
    let lastEventNano: number | undefined;
    let firstAskedAtMs: number | undefined;
    const schedule = (err?: Error) => {
      connected = false;
      current = undefined;
      if (stopped) return;
      hooks.onDisconnect?.(err);
      clearTimeout(retry);
      retry = setTimeout(() => void connect(), delay);
      // A restarted dockerd is back within seconds: look every second at most (a refused connect costs nothing).
      delay = Math.min(delay * 2, 1000);
    };
    const connect = async () => {
      if (stopped) return;
      let stream: Readable;
      // dockerd answers an events request before it subscribes it (headers first): a stream opened
      // without `since` can miss what happens meanwhile, and everything while it was broken. With
      // `since`, dockerd replays what its event log still holds from then on (as a watch resumes
      // from a resourceVersion); the relist the agent runs on every reconnect covers the rest.
      const since = resumeSince(lastEventNano, firstAskedAtMs);
      firstAskedAtMs ??= Date.now();
      try {
        stream = (await this.docker.getEvents({ filters, ...(since ? { since: since as unknown as number } : {}) })) as unknown as Readable; // (dockerode types it a number; the API takes the string)
      } catch (err) {
        this.logger?.warn({ err: dockerMessage(err) }, 'docker events: cannot connect; retrying');
        return schedule(err as Error);
      }
      if (stopped) {
        stream.destroy();
        return;
      }
      current = stream as typeof current;
      connected = true;
      delay = 100;
      let buf = '';
      let done = false;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        if (!stopped) this.logger?.warn({ err: err?.message }, 'docker events stream ended; reconnecting');
        schedule(err);
      };
      stream.on('data', (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          try {
            const ev = JSON.parse(line) as DockerEvent;
            if (typeof ev.timeNano === 'number' && ev.timeNano > (lastEventNano ?? 0)) lastEventNano = ev.timeNano;
            onEvent(ev);
          } catch (err) {
            this.logger?.warn({ err: String(err) }, 'docker events: bad line');
          }
        }
      });
      stream.on('end', () => finish());
      stream.on('close', () => finish());
      stream.on('error', (err) => finish(err));
      hooks.onConnect?.();
    };
    void connect();
    return {
      stop() {
        stopped = true;
        clearTimeout(retry);
        current?.destroy();
      },
      interrupt() {
        current?.destroy(new Error('interrupted'));
      },
      get connected() {
        return connected;
      },
    };
  }
}

/**
 * Docker's `since` (seconds.nanoseconds) for a stream that resumes: from the last event received (a
 * microsecond early: timeNano loses precision as a JS number, and seeing that event twice is harmless),
 * else from a second before the first stream was asked for; undefined for the first stream.
 */
export function resumeSince(lastEventNano: number | undefined, firstAskedAtMs: number | undefined): string | undefined {
  let secs: number;
  let frac: number;
  if (lastEventNano !== undefined && lastEventNano > 0) {
    const nano = lastEventNano - 1000;
    secs = Math.floor(nano / 1e9);
    frac = Math.max(0, Math.min(999_999_999, Math.floor(nano - secs * 1e9)));
  } else if (firstAskedAtMs !== undefined) {
    const ms = Math.floor(firstAskedAtMs) - 1000;
    secs = Math.floor(ms / 1000);
    frac = (ms - secs * 1000) * 1_000_000;
  } else return undefined;
  return `${secs}.${String(frac).padStart(9, '0')}`;
}
