// Small helpers for integration tests on the real Docker engine: availability, throwaway networks and
// containers (always labelled, so cleanup removes exactly what a test made), exec, and clients that only
// talk to addresses on local bridges.

import Dockerode from 'dockerode';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { randomBytes } from 'node:crypto';

/** Label every test-created container and network carries; the value names the test run. */
export const TEST_LABEL = 'io.kubelite.test';

let shared: Dockerode | undefined;
export function dockerClient(): Dockerode {
  shared ??= new Dockerode();
  return shared;
}

/** 6 random characters of [a-z0-9], for names like `kltest-images-<tag>`. */
export function randomTag(length = 6): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join('');
}

export async function dockerAvailable(docker: Dockerode = dockerClient(), timeoutMs = 3000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      docker.ping().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Polls fn until it returns a truthy value (returned) or throws on timeout with the last error seen. */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, intervalMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const why = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`waitFor: nothing after ${timeoutMs} ms (last: ${why})`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Force-removes every container carrying label=value; returns how many. */
export async function removeContainersByLabel(label: string, value: string, docker: Dockerode = dockerClient()): Promise<number> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${label}=${value}`] } });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
  return list.length;
}

/** Removes every network carrying label=value (its containers must be gone first); returns how many. */
export async function removeNetworksByLabel(label: string, value: string, docker: Dockerode = dockerClient()): Promise<number> {
  const list = await docker.listNetworks({ filters: { label: [`${label}=${value}`] } });
  await Promise.all(list.map((n) => docker.getNetwork(n.Id).remove().catch(() => undefined)));
  return list.length;
}

/** A bridge network with a name of the test's choosing; Docker picks a free local subnet. */
export async function createTestNetwork(name: string, labels: Record<string, string>, docker: Dockerode = dockerClient()): Promise<string> {
  const network = await docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: labels });
  return network.id;
}

export interface RunOptions {
  name: string;
  image: string;
  network: string;
  labels: Record<string, string>;
  cmd?: string[];
  env?: Record<string, string>;
  hostname?: string;
}

/** Creates and starts a container on network; returns its id and its address there. */
export async function runContainer(opts: RunOptions, docker: Dockerode = dockerClient()): Promise<{ id: string; ip: string }> {
  const container = await docker.createContainer({
    name: opts.name,
    Image: opts.image,
    Cmd: opts.cmd,
    Env: Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`),
    Hostname: opts.hostname,
    Labels: opts.labels,
    HostConfig: { NetworkMode: opts.network, RestartPolicy: { Name: 'no' } },
  });
  await container.start();
  const info = await container.inspect();
  const ip = info.NetworkSettings.Networks[opts.network]?.IPAddress ?? '';
  return { id: container.id, ip };
}

/** Runs cmd in a running container; stdout and stderr are collected separately. */
export async function execIn(id: string, cmd: string[], docker: Dockerode = dockerClient()): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const exec = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  docker.modem.demuxStream(stream, out, err);
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  const info = await exec.inspect();
  return { exitCode: info.ExitCode ?? -1, stdout, stderr };
}

/** True once PID 1 of the container has a handler for the signal (from /proc/1/status SigCgt). */
export async function pid1Catches(id: string, signal: number, docker: Dockerode = dockerClient()): Promise<boolean> {
  const { stdout } = await execIn(id, ['cat', '/proc/1/status'], docker);
  const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(stdout);
  return m !== null && ((BigInt(`0x${m[1]}`) >> BigInt(signal - 1)) & 1n) === 1n;
}

/**
 * Sends a signal and waits for the container to exit; returns the time that took and the exit code.
 * Gives up after timeoutMs (the container is then killed) so a test fails instead of hanging.
 */
export async function signalAndWait(
  id: string,
  signal = 'SIGTERM',
  timeoutMs = 10_000,
  docker: Dockerode = dockerClient(),
): Promise<{ ms: number; exitCode: number }> {
  const container = docker.getContainer(id);
  const start = performance.now();
  const waited = container.wait() as Promise<{ StatusCode: number }>;
  await container.kill({ signal });
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      waited,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${id.slice(0, 12)} still running ${timeoutMs} ms after ${signal}`)), timeoutMs))),
    ]);
    return { ms: performance.now() - start, exitCode: result.StatusCode };
  } catch (err) {
    await container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Everything the container wrote to stdout and stderr so far (demultiplexed, as text). */
export async function containerLogs(id: string, docker: Dockerode = dockerClient()): Promise<string> {
  const raw = (await docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false })) as Buffer;
  // without a TTY every chunk has an 8-byte header: stream, 0, 0, 0, big-endian length
  let out = '';
  for (let i = 0; i + 8 <= raw.length; ) {
    const len = raw.readUInt32BE(i + 4);
    out += raw.subarray(i + 8, i + 8 + len).toString();
    i += 8 + len;
  }
  return out;
}

/**
 * Removes containers and networks labelled `label=<prefix>...` created more than maxAgeMs ago: what a
 * run killed before its cleanup (an ava timeout, say) left behind. Younger ones may be a parallel run's.
 */
export async function removeStale(label: string, prefix: string, maxAgeMs = 10 * 60_000, docker: Dockerode = dockerClient()): Promise<number> {
  const cutoff = Date.now() - maxAgeMs;
  let removed = 0;
  const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
  for (const c of containers) {
    if (c.Labels?.[label]?.startsWith(prefix) && c.Created * 1000 < cutoff) {
      await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
      removed++;
    }
  }
  const networks = await docker.listNetworks({ filters: { label: [label] } });
  for (const n of networks) {
    if (n.Labels?.[label]?.startsWith(prefix) && Date.parse(n.Created) < cutoff) {
      await docker.getNetwork(n.Id).remove().catch(() => undefined);
      removed++;
    }
  }
  return removed;
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}

/** One request without agents or proxies (a fresh connection each time); rejects on timeout. */
export function httpRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false, timeout: opts.timeoutMs ?? 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: performance.now() - start }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within ${opts.timeoutMs ?? 5000} ms`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Sends payload over TCP, half-closes, and returns everything read until the peer closes. */
export function tcpExchange(host: string, port: number, payload: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let data = '';
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`tcp ${host}:${port}: timeout`)));
    socket.on('connect', () => socket.end(payload));
    socket.on('data', (d) => (data += d.toString()));
    socket.on('close', (hadError) => (hadError ? undefined : resolve(data)));
    socket.on('error', reject);
  });
}

/** Sends one datagram and resolves with the first reply. */
export function udpExchange(host: string, port: number, payload: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`udp ${host}:${port}: no reply within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(msg.toString());
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      socket.close();
      reject(err);
    });
    socket.send(payload, port, host);
  });
}
