// Link and route changes on this host as they happen: one `ip -o monitor link route` child (iproute2,
// rtnetlink) per server process, shared by every component that subscribes. The components that own
// host plumbing (the proxy: the service device and its routes; the agent: the pod bridge) react within
// milliseconds when someone deletes a route or a device by hand, instead of at their next periodic
// resync. Parsing is pure; the monitor restarts its child if it dies, and a host without `ip` only
// loses the fast path (the periodic resyncs still repair everything).

import { spawn, type ChildProcess } from 'node:child_process';
import type { LeveledLogger } from '../util/log.js';

export type NetlinkEvent =
  | { kind: 'link'; deleted: boolean; name: string; index: number; up: boolean; master?: string }
  | { kind: 'route'; deleted: boolean; dst: string; dev?: string; family: 4 | 6 };

/**
 * One line of `ip -o monitor link route` -> an event; undefined for lines we do not use (IPv6 link-local
 * and multicast routes, `ip`'s own notices). Pure. Examples:
 *   `1037: kl0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 ... master br0 state UP ...`
 *   `Deleted 1037: kl0: <BROADCAST,MULTICAST> mtu 1500 ...`
 *   `10.96.0.0/12 dev klsvc scope link`, `Deleted 10.96.0.0/12 dev klsvc scope link`
 */
export function parseMonitorLine(line: string): NetlinkEvent | undefined {
  let text = line.trim();
  if (!text) return undefined;
  // `ip monitor` prefixes with the object type when asked for several (older versions), e.g. "[LINK]".
  text = text.replace(/^\[[A-Z]+\]\s*/, '');
  let deleted = false;
  if (text.startsWith('Deleted ')) {
    deleted = true;
    text = text.slice('Deleted '.length);
  }
  const link = /^(\d+):\s+([^:@\s]+)(?:@[^:\s]+)?:\s+<([^>]*)>(.*)$/.exec(text);
  if (link) {
    const flags = link[3].split(',');
    const master = /\bmaster (\S+)/.exec(link[4])?.[1];
    return { kind: 'link', deleted, index: Number(link[1]), name: link[2], up: flags.includes('UP'), ...(master ? { master } : {}) };
  }
  const words = text.split(/\s+/);
  let i = 0;
  // route types before the destination: `local`, `broadcast`, `unreachable`, `multicast`, ...
  if (/^(unicast|local|broadcast|multicast|unreachable|prohibit|blackhole|throw|anycast|nat)$/.test(words[0])) {
    if (words[0] !== 'unicast') return undefined;
    i = 1;
  }
  const dst = words[i];
  if (!dst) return undefined;
  const v4 = /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(dst);
  const v6 = !v4 && /^[0-9a-f:]+(\/\d+)?$/i.test(dst) && dst.includes(':');
  if (!v4 && !v6 && dst !== 'default') return undefined;
  const devAt = words.indexOf('dev', i + 1);
  const dev = devAt > 0 ? words[devAt + 1] : undefined;
  return { kind: 'route', deleted, dst: dst === 'default' ? '0.0.0.0/0' : dst.includes('/') ? dst : `${dst}/${v4 ? 32 : 128}`, ...(dev ? { dev } : {}), family: v6 ? 6 : 4 };
}

type Listener = (ev: NetlinkEvent) => void;

const RESTART_MIN_MS = 200;
const RESTART_MAX_MS = 10_000;

/** The shared monitor: starts its child on the first subscription and stops it after the last one leaves. */
export class NetlinkMonitor {
  private child?: ChildProcess;
  private readonly listeners = new Set<Listener>();
  private restartMs = RESTART_MIN_MS;
  private restartTimer?: NodeJS.Timeout;
  private warned = false;

  constructor(
    private readonly logger?: Pick<LeveledLogger, 'warn' | 'debug'>,
    private readonly command: [string, string[]] = ['ip', ['-o', 'monitor', 'link', 'route']],
  ) {}

  /** Calls `fn` for every change until the returned function is called. */
  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    if (!this.child && !this.restartTimer) this.start();
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0) this.stop();
    };
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  private start(): void {
    let child: ChildProcess;
    try {
      child = spawn(this.command[0], this.command[1], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      this.failed(err as Error);
      return;
    }
    this.child = child;
    const startedAt = Date.now();
    let buf = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const ev = parseMonitorLine(line);
        if (!ev) continue;
        for (const l of [...this.listeners]) {
          try {
            l(ev);
          } catch (err) {
            this.logger?.warn({ err: (err as Error).message }, 'netlink listener failed');
          }
        }
      }
    });
    child.stderr!.resume();
    child.on('error', (err) => this.failed(err));
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (this.listeners.size === 0) return;
      // A child that ran a while before it died starts a fresh back-off.
      if (Date.now() - startedAt > 60_000) this.restartMs = RESTART_MIN_MS;
      this.logger?.debug({ code, signal }, 'netlink monitor exited; restarting');
      this.scheduleRestart();
    });
    child.unref();
    (child.stdout as unknown as { unref?(): void }).unref?.();
    (child.stderr as unknown as { unref?(): void }).unref?.();
  }

  private failed(err: Error): void {
    if (!this.warned) {
      this.warned = true;
      this.logger?.warn({ err: err.message }, 'cannot watch link and route changes (is iproute2 installed?): host plumbing is repaired by the periodic resync only');
    }
    this.child = undefined;
    if (this.listeners.size > 0) this.scheduleRestart();
  }

  private scheduleRestart(): void {
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.listeners.size > 0 && !this.child) this.start();
    }, this.restartMs);
    this.restartTimer.unref();
    this.restartMs = Math.min(this.restartMs * 2, RESTART_MAX_MS);
  }

  private stop(): void {
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const c = this.child;
    this.child = undefined;
    c?.kill('SIGTERM');
  }
}

let shared: NetlinkMonitor | undefined;

/** The process-wide monitor (one `ip monitor` child whatever the number of subscribers). */
export function netlinkMonitor(logger?: Pick<LeveledLogger, 'warn' | 'debug'>): NetlinkMonitor {
  shared ??= new NetlinkMonitor(logger);
  return shared;
}
