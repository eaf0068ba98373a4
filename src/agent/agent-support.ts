// Small pieces of the agent's start-up and informer wiring, kept out of agent.ts: the per-instance
// lock, reading a host file, and which Pods a ConfigMap or Secret change concerns.

import fs from 'node:fs';
import net from 'node:net';
import type Dockerode from 'dockerode';
import type { Pod } from '../api/types.js';
import type { BackoffConfig } from './backoff.js';

/**
 * One agent per instance on a host: two would each take the other's containers for orphans and
 * remove them. An abstract unix socket is the lock — the kernel frees it when the process dies, even
 * after a kill -9, so a restart never finds a stale one.
 */
export function instanceLock(instance: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((c) => c.destroy());
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`another kubelite agent of instance "${instance}" is running on this host: run one server per --instance (or stop the other one)`) : err),
    );
    server.listen({ path: `\0kubelite-agent-${instance}` }, () => {
      server.unref();
      resolve(server);
    });
  });
}

export function readTrim(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Does the Pod use this ConfigMap/Secret (env, envFrom, volumes)? Its containers may need a retry or a refresh. */
export function refersTo(pod: Pod, kind: 'configMap' | 'secret', name: string): boolean {
  for (const v of pod.spec.volumes ?? []) {
    if (kind === 'configMap' && v.configMap?.name === name) return true;
    if (kind === 'secret' && v.secret?.secretName === name) return true;
    for (const src of v.projected?.sources ?? []) {
      if (kind === 'configMap' && src.configMap?.name === name) return true;
      if (kind === 'secret' && src.secret?.name === name) return true;
    }
  }
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    for (const e of c.envFrom ?? []) {
      if (kind === 'configMap' && e.configMapRef?.name === name) return true;
      if (kind === 'secret' && e.secretRef?.name === name) return true;
    }
    for (const e of c.env ?? []) {
      if (kind === 'configMap' && e.valueFrom?.configMapKeyRef?.name === name) return true;
      if (kind === 'secret' && e.valueFrom?.secretKeyRef?.name === name) return true;
    }
  }
  return false;
}

export interface AgentOptions {
  docker?: Dockerode;
  backoff?: BackoffConfig;
  /** Pod syncs running at once (default 32, env KUBELITE_AGENT_WORKERS): a sync mostly waits for Docker. */
  workers?: number;
  /** Data-plane settle time after a terminating Pod's IP left the endpoints (default 250 ms). */
  settleMs?: number;
  /** Longest wait for the endpoints to drop a terminating Pod (default 5 s; also capped by its grace). */
  endpointsWaitCapMs?: number;
  heartbeatMs?: number;
  /** The server's own node (default) carries the control-plane role; a joined agent's does not. */
  controlPlane?: boolean;
  /** The port of this node's kubelet endpoint, published in its Node status (a joined agent). */
  kubeletPort?: number;
}

// 'create' is left out: a container is only interesting once it runs or stops (a relist finds half-made ones).
export const WATCHED_EVENTS = ['start', 'die', 'oom', 'destroy'];
/** How long before its events stream breaks a stopping dockerd may already stop containers (their stop timeout is 10 s). */
export const ENGINE_STOP_GRACE_MS = 10_000;
/** After it answers again, dockerd may still be marking containers it lost as stopped (their finishedAt is then). */
export const ENGINE_RESTORE_MS = 5_000;

/** Whether resourceVersion `a` is newer than `b` (numeric where both parse). */
export function rvNewer(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  try {
    return BigInt(a) > BigInt(b);
  } catch {
    return a > b;
  }
}

export function isTerminalPhase(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}
