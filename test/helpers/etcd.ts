// Debian's etcd (etcd-server 3.4, /usr/bin/etcd) for tests and benchmarks: one member or a cluster
// on loopback, data in a temp dir, always stopped (register `stop` as a teardown). Client ports come
// from 23790-23799 and peer ports from 23800-23809 (this work's range); a port another run holds is
// skipped.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const ETCD_BIN = process.env.KUBELITE_ETCD_BIN ?? '/usr/bin/etcd';
const CLIENT_PORTS = [23790, 23799] as const;
const PEER_OFFSET = 10;

export interface EtcdMember {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  proc?: ChildProcess;
  log: string;
}

export interface EtcdCluster {
  members: EtcdMember[];
  /** `etcd://127.0.0.1:P1,127.0.0.1:P2,...` for `kubelite server --store`. */
  url: string;
  /** `http://127.0.0.1:P` per member. */
  hosts: string[];
  /** SIGKILLs one member. */
  kill(i: number): void;
  /** Starts a killed member again with its data. */
  restart(i: number): Promise<void>;
  stop(): Promise<void>;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * A port pair stays claimed (a file naming our pid) while the cluster lives, also while a member is
 * killed on purpose: another test file must not start its etcd on a port ours will come back to.
 */
function claim(port: number): boolean {
  const file = path.join(os.tmpdir(), `kubelite-etcd-port-${port}.claim`);
  try {
    fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    const pid = Number(fs.readFileSync(file, 'utf8'));
    try {
      if (pid && pid !== process.pid) {
        process.kill(pid, 0);
        return false; // alive: theirs
      }
    } catch {
      // its owner is gone: stale
    }
    if (pid === process.pid) return false;
    fs.writeFileSync(file, String(process.pid));
    return true;
  }
}

function unclaim(port: number): void {
  const file = path.join(os.tmpdir(), `kubelite-etcd-port-${port}.claim`);
  try {
    if (Number(fs.readFileSync(file, 'utf8')) === process.pid) fs.rmSync(file, { force: true });
  } catch {
    // already gone
  }
}

async function pickPorts(n: number, avoid: Set<number>): Promise<number[]> {
  const out: number[] = [];
  for (let p = CLIENT_PORTS[0]; p <= CLIENT_PORTS[1] && out.length < n; p++) {
    if (avoid.has(p)) continue;
    if (!(await portFree(p)) || !(await portFree(p + PEER_OFFSET))) continue;
    if (claim(p)) out.push(p);
  }
  if (out.length < n) out.forEach(unclaim);
  if (out.length < n) throw new Error(`no ${n} free etcd port pair(s) in ${CLIENT_PORTS.join('-')} (+${PEER_OFFSET} for peers): is another run still holding them?`);
  return out;
}

async function healthy(port: number, timeoutMs: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`etcd on ${port} exited with ${proc.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      const body = (await res.json()) as { health?: string };
      if (body.health === 'true') {
        // Another run's etcd may hold the port while ours failed to bind: ours must still be running.
        await new Promise((r) => setTimeout(r, 300));
        if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`etcd on ${port} exited (the port is another run's)`);
        return;
      }
    } catch (err) {
      if (/exited/.test((err as Error).message)) throw err;
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`etcd on 127.0.0.1:${port} was not healthy within ${timeoutMs} ms`);
}

function launch(m: EtcdMember, cluster: string, state: 'new' | 'existing'): ChildProcess {
  const args = [
    '--name', m.name,
    '--data-dir', m.dataDir,
    '--listen-client-urls', `http://127.0.0.1:${m.clientPort}`,
    '--advertise-client-urls', `http://127.0.0.1:${m.clientPort}`,
    '--listen-peer-urls', `http://127.0.0.1:${m.peerPort}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peerPort}`,
    '--initial-cluster', cluster,
    '--initial-cluster-state', state,
    '--initial-cluster-token', `kubelite-test-${process.pid}`,
    '--logger', 'zap',
    '--log-level', 'warn',
    '--heartbeat-interval', '50',
    '--election-timeout', '500',
  ];
  const proc = spawn(ETCD_BIN, args, { stdio: ['ignore', 'ignore', fs.openSync(m.log, 'a')] });
  proc.on('error', () => undefined);
  return proc;
}

async function stopProc(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(t);
}

/** Starts `members` etcd members (1 or 3, say) on loopback and waits until each is healthy. */
export async function startEtcd(opts: { members?: number; avoidPorts?: number[] } = {}): Promise<EtcdCluster> {
  if (!fs.existsSync(ETCD_BIN)) throw new Error(`${ETCD_BIN} is missing: install Debian's etcd-server (apt-get install etcd-server)`);
  const n = opts.members ?? 1;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-etcd-'));
  const members: EtcdMember[] = [];
  let lastErr: unknown;
  for (let tries = 0; tries < 3; tries++) {
    const ports = await pickPorts(n, new Set(opts.avoidPorts ?? []));
    members.length = 0;
    ports.forEach((p, i) => {
      const dataDir = path.join(root, `m${i}-${tries}`);
      members.push({ name: `m${i}`, clientPort: p, peerPort: p + PEER_OFFSET, dataDir, log: `${dataDir}.log` });
    });
    const cluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(',');
    for (const m of members) m.proc = launch(m, cluster, 'new');
    try {
      await Promise.all(members.map((m) => healthy(m.clientPort, 20_000, m.proc!)));
      lastErr = undefined;
      break;
    } catch (err) {
      // Lost a race for a port with another run: stop these and pick again.
      lastErr = err;
      await Promise.all(members.map((m) => stopProc(m.proc)));
      members.forEach((m) => unclaim(m.clientPort));
    }
  }
  if (lastErr) {
    const logs = members.map((m) => (fs.existsSync(m.log) ? fs.readFileSync(m.log, 'utf8').slice(-2000) : '')).join('\n');
    fs.rmSync(root, { recursive: true, force: true });
    throw new Error(`${(lastErr as Error).message}\n${logs}`);
  }
  const cluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(',');
  let stopped = false;
  return {
    members,
    url: `etcd://${members.map((m) => `127.0.0.1:${m.clientPort}`).join(',')}`,
    hosts: members.map((m) => `http://127.0.0.1:${m.clientPort}`),
    kill(i) {
      members[i]!.proc?.kill('SIGKILL');
    },
    async restart(i) {
      const m = members[i]!;
      await stopProc(m.proc);
      m.proc = launch(m, cluster, 'existing');
      await healthy(m.clientPort, 20_000, m.proc);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(members.map((m) => stopProc(m.proc)));
      members.forEach((m) => unclaim(m.clientPort));
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
