// Fake Pods without Docker: a Linux bridge with a gateway address and network namespaces hanging off it
// by veth pairs, each able to run a tiny server naming itself. Plus the safety check every network test
// should use before contacting an address: `assertLocalRoute` (the packet must not leave by the uplink).
// All commands are spawned with argument arrays; names are checked before they reach `ip`.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { exec, execOk } from '../../src/util/exec.js';

const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;
const NETNS_RE = /^[A-Za-z0-9_.-]{1,40}$/;

function checkIf(name: string): string {
  if (!IFNAME_RE.test(name)) throw new Error(`bad interface name ${JSON.stringify(name)}`);
  return name;
}

export interface TestBridge {
  name: string;
  /** e.g. 10.250.0.1 */
  gateway: string;
  prefixLen: number;
  remove(): Promise<void>;
}

/** A bridge with `gatewayCIDR` (e.g. 10.250.0.1/24) on it, up. Replaces a leftover of the same name. */
export async function createBridge(name: string, gatewayCIDR: string): Promise<TestBridge> {
  checkIf(name);
  const [gateway, len] = gatewayCIDR.split('/');
  await exec('ip', ['link', 'del', name]);
  await execOk('ip', ['link', 'add', name, 'type', 'bridge']);
  await execOk('ip', ['addr', 'add', gatewayCIDR, 'dev', name]);
  await execOk('ip', ['link', 'set', name, 'up']);
  return {
    name,
    gateway,
    prefixLen: Number(len),
    remove: async () => {
      await exec('ip', ['link', 'del', name]);
    },
  };
}

export interface FakePod {
  /** Network namespace name. */
  ns: string;
  ip: string;
  /** Runs a command inside the namespace (argument array, no shell). */
  run(cmd: string, args: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  /** busybox httpd on `port` answering every GET / with `body`. */
  serveHttp(port: number, body: string): Promise<void>;
  /** A UDP server answering each datagram with `body`. */
  serveUdp(port: number, body: string): Promise<void>;
  remove(): Promise<void>;
}

/**
 * A namespace `${ns}` with eth0 = `ip`/prefix on `bridge`, default route via the bridge's gateway.
 * The host side of the veth is `hostIf` (<= 15 characters), in hairpin mode unless `hairpin: false`;
 * `mac` fixes the Pod's MAC address.
 */
export async function createPod(bridge: TestBridge, ns: string, hostIf: string, ip: string, opts: { hairpin?: boolean; mac?: string } = {}): Promise<FakePod> {
  if (!NETNS_RE.test(ns)) throw new Error(`bad netns name ${JSON.stringify(ns)}`);
  checkIf(hostIf);
  await exec('ip', ['netns', 'del', ns]);
  await exec('ip', ['link', 'del', hostIf]);
  const peer = `${hostIf}p`.slice(0, 15);
  await execOk('ip', ['netns', 'add', ns]);
  await execOk('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', peer]);
  // A Pod made again with the same address and MAC is not hidden behind stale neighbour entries.
  if (opts.mac) {
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(opts.mac)) throw new Error(`bad MAC address ${JSON.stringify(opts.mac)}`);
    await execOk('ip', ['link', 'set', peer, 'address', opts.mac]);
  }
  await execOk('ip', ['link', 'set', peer, 'netns', ns]);
  await execOk('ip', ['link', 'set', hostIf, 'master', bridge.name, 'up']);
  // With br_netfilter, a packet DNATed back to the Pod that sent it is bridged out of the port it came
  // in on, which a bridge refuses unless the port is in hairpin mode (kubelet's --hairpin-mode does this).
  if (opts.hairpin ?? true) await execOk('ip', ['link', 'set', hostIf, 'type', 'bridge_slave', 'hairpin', 'on']);
  const inNs = (args: string[]) => execOk('ip', ['netns', 'exec', ns, 'ip', ...args]);
  await inNs(['link', 'set', peer, 'name', 'eth0']);
  await inNs(['addr', 'add', `${ip}/${bridge.prefixLen}`, 'dev', 'eth0']);
  await inNs(['link', 'set', 'eth0', 'up']);
  await inNs(['link', 'set', 'lo', 'up']);
  await inNs(['route', 'add', 'default', 'via', bridge.gateway]);

  const children: ChildProcess[] = [];
  let dir: string | undefined;
  const started = (child: ChildProcess) => {
    children.push(child);
    child.stdout?.resume();
    child.stderr?.resume();
  };
  return {
    ns,
    ip,
    run: (cmd, args, timeoutMs = 10_000) => exec('ip', ['netns', 'exec', ns, cmd, ...args], { timeoutMs }),
    async serveHttp(port, body) {
      dir ??= await fs.mkdtemp(path.join(os.tmpdir(), `kl-${ns}-`));
      await fs.writeFile(path.join(dir, 'index.html'), body);
      started(spawn('ip', ['netns', 'exec', ns, 'busybox', 'httpd', '-f', '-p', String(port), '-h', dir], { stdio: ['ignore', 'pipe', 'pipe'] }));
      // curl, not busybox wget: Debian's busybox 1.35 wget segfaults with -T.
      await waitFor(async () => (await exec('ip', ['netns', 'exec', ns, 'curl', '-s', '--max-time', '1', `http://127.0.0.1:${port}/`])).stdout === body);
    },
    async serveUdp(port, body) {
      const script = `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(process.argv[2],r.port,r.address));s.bind(Number(process.argv[1]),()=>console.log('ready'));`;
      const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script, String(port), body], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        child.stdout!.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`udp server in ${ns} exited with ${code}`)));
      });
      child.stdout!.resume();
      child.stderr!.resume();
    },
    async remove() {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
      await exec('ip', ['netns', 'del', ns]);
      await exec('ip', ['link', 'del', hostIf]);
      if (dir) await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000, stepMs = 50): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Devices of the default routes (the uplinks), plus eth0 in any case. */
export async function uplinkDevices(): Promise<Set<string>> {
  const out = new Set(['eth0']);
  const r = await exec('ip', ['-json', '-4', 'route', 'show', 'default']);
  if (r.code === 0 && r.stdout.trim()) for (const route of JSON.parse(r.stdout) as { dev?: string }[]) if (route.dev) out.add(route.dev);
  return out;
}

export interface RouteInfo {
  dst: string;
  dev: string;
  type?: string;
  gateway?: string;
}

/**
 * Throws unless the host would keep a packet to `addr` on this machine: a local address, or a route to
 * a device that is not an uplink and without a gateway. Call it for every address a test contacts.
 */
export async function assertLocalRoute(addr: string): Promise<RouteInfo> {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(addr)) throw new Error(`not an IPv4 address: ${JSON.stringify(addr)}`);
  const r = await execOk('ip', ['-json', 'route', 'get', addr]);
  const [route] = JSON.parse(r.stdout) as RouteInfo[];
  const uplinks = await uplinkDevices();
  if (!route) throw new Error(`no route to ${addr}`);
  if (route.type === 'local') return route;
  if (uplinks.has(route.dev) || route.gateway) {
    throw new Error(`${addr} would leave through ${route.dev}${route.gateway ? ` via ${route.gateway}` : ''}: refusing to send test traffic there`);
  }
  return route;
}

/** The host's first global IPv4 address on an uplink (local, so NodePort tests can use it safely). */
export async function hostUplinkAddress(): Promise<string | undefined> {
  for (const dev of await uplinkDevices()) {
    const r = await exec('ip', ['-json', '-4', 'addr', 'show', 'dev', dev]);
    if (r.code !== 0 || !r.stdout.trim()) continue;
    const [info] = JSON.parse(r.stdout) as { addr_info?: { local?: string; scope?: string }[] }[];
    const a = info?.addr_info?.find((x) => x.scope === 'global' && x.local);
    if (a?.local) return a.local;
  }
  return undefined;
}

/**
 * One HTTP GET on a new connection from the host, after checking the address stays on this machine:
 * the body (trimmed, or mapped by `pick`), or `error:<code>` when the connection fails.
 */
export async function localGet(addr: string, port: number, opts: { timeoutMs?: number; pick?: (body: string) => string } = {}): Promise<string> {
  await assertLocalRoute(addr);
  const { default: http } = await import('node:http');
  return new Promise((resolve) => {
    const req = http.get({ host: addr, port, path: '/', agent: false, timeout: opts.timeoutMs ?? 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(opts.pick ? opts.pick(body) : body.trim()));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(`error:${e.code ?? e.message}`));
  });
}

/** `n` sequential localGet()s, counted by answer. */
export async function localGetMany(addr: string, port: number, n: number, pick?: (body: string) => string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const b = await localGet(addr, port, { pick });
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  return counts;
}
