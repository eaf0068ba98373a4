// Runs a real `kubelite server` as a child process for integration tests: its own data dir, API port,
// instance tag and address ranges, so test files run side by side on one host without touching each
// other (or a kubelite the developer runs). Always stopped and cleaned up, even when a test fails.

import { spawn, type ChildProcess, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpClient } from '../../src/client/http-client.js';
import { loadConnection } from '../../src/client/kubeconfig.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Address plan for a test slot (1-60). Each integration test file takes its own slot:
 *  1 cli-e2e, 2 pods, 3 deployments, 4 services, 5 dns, 6 kubectl, 7 client-node, 8 ingress,
 *  9 faults, 10 rollout, 11 restart, 12 services (second file), 13 kubectl-workloads, 14 kubectl-portforward,
 *  15-20 spare, 21 services in the iptables mode (services-iptables.test.ts); benches use 40+.
 */
export function slotConfig(slot: number) {
  if (!Number.isInteger(slot) || slot < 1 || slot > 60) throw new Error(`slot ${slot} out of range`);
  return {
    instance: `t${slot}`,
    podCIDR: `10.200.${slot}.0/24`,
    serviceCIDR: `10.201.${slot}.0/24`,
    clusterDNS: `10.201.${slot}.10`,
    lbPool: `10.202.${slot}.0/24`,
    nodePortRange: [20000 + slot * 100, 20000 + slot * 100 + 99] as [number, number],
    ingressHttpPort: 18000 + slot * 2,
    ingressHttpsPort: 18000 + slot * 2 + 1,
  };
}

export interface TestServer {
  dataDir: string;
  kubeconfig: string;
  client: HttpClient;
  slot: ReturnType<typeof slotConfig>;
  proc: ChildProcess;
  logs(): string;
  /** Runs `kubelite ARGS` against this server; resolves with exit code and output. */
  cli(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Stops the server (SIGTERM, then SIGKILL after 10 s). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same data dir (after stop()). */
  restart(): Promise<void>;
}

export interface StartOptions {
  slot: number;
  /** extra `kubelite server` flags */
  args?: string[];
  dataDir?: string;
  env?: Record<string, string>;
}

function binArgs(): string[] {
  // `npm test` builds first and sets KUBELITE_TEST_DIST=1 so the built binary is what gets tested; a
  // developer running one file with `npx ava` gets the sources through tsx (never a stale dist/).
  const dist = path.join(ROOT, 'dist/cli/main.js');
  if (process.env.KUBELITE_TEST_DIST === '1' && fs.existsSync(dist)) return [dist];
  return ['--import', 'tsx', path.join(ROOT, 'cli/main.ts')];
}

export function runCli(kubeconfig: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...binArgs(), '--kubeconfig', kubeconfig, ...args], { cwd: ROOT, env: { ...process.env, KUBECONFIG: kubeconfig } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

export async function startTestServer(opts: StartOptions): Promise<TestServer> {
  const slot = slotConfig(opts.slot);
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `kubelite-${slot.instance}-`));
  const kubeconfig = path.join(dataDir, 'kubeconfig');
  let logs = '';
  const args = [
    'server',
    '--data-dir', dataDir,
    '--api-port', '0',
    '--instance', slot.instance,
    '--pod-cidr', slot.podCIDR,
    '--service-cidr', slot.serviceCIDR,
    '--cluster-dns', slot.clusterDNS,
    '--service-node-port-range', `${slot.nodePortRange[0]}-${slot.nodePortRange[1]}`,
    '--ingress-http-port', String(slot.ingressHttpPort),
    '--ingress-https-port', String(slot.ingressHttpsPort),
    '--log-level', 'debug',
    // Never forward a test's DNS queries to the host's real resolver (beyond the uplink): a closed
    // loopback port answers SERVFAIL at once. Tests that need forwarding pass their own stub.
    ...(opts.args?.includes('--upstream-dns') ? [] : ['--upstream-dns', '127.0.0.1:9']),
    ...(opts.args ?? []),
  ];
  const server: TestServer = {
    dataDir,
    kubeconfig,
    slot,
    client: undefined as unknown as HttpClient,
    proc: undefined as unknown as ChildProcess,
    logs: () => logs,
    cli: (a, input) => runCli(kubeconfig, a, input),
    async stop(signal = 'SIGTERM') {
      const p = server.proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill(signal);
      const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      server.client?.close();
    },
    async restart() {
      await launch();
    },
  };
  const launch = async () => {
    try {
      fs.rmSync(kubeconfig, { force: true });
    } catch {
      /* first start */
    }
    const proc = spawn(process.execPath, [...binArgs(), ...args], { cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    server.proc = proc;
    proc.stdout!.on('data', (d) => (logs += d));
    proc.stderr!.on('data', (d) => {
      logs += d;
      if (logs.length > 4_000_000) logs = logs.slice(-2_000_000);
    });
    const deadline = Date.now() + 60_000;
    while (!fs.existsSync(kubeconfig)) {
      if (proc.exitCode !== null) throw new Error(`kubelite server exited with ${proc.exitCode}:\n${logs.slice(-4000)}`);
      if (Date.now() > deadline) throw new Error(`kubelite server did not start within 60 s:\n${logs.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // The kubeconfig is written once the API listens; components start right after. The server writes
    // it in place, so a read can catch it empty: read again until it parses.
    for (;;) {
      try {
        server.client = new HttpClient(loadConnection(kubeconfig));
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    while (Date.now() < deadline) {
      try {
        const r = await server.client.raw('GET', '/readyz');
        if (r.status === 200) {
          // Read the kubeconfig again: a server that joined an etcd cluster now uses the cluster's CA and token.
          server.client.close();
          server.client = new HttpClient(loadConnection(kubeconfig));
          return;
        }
      } catch {
        // Not yet; or a server that joined an etcd cluster rewrote its kubeconfig with the cluster's CA.
        server.client.close();
        server.client = new HttpClient(loadConnection(kubeconfig));
      }
      if (proc.exitCode !== null) throw new Error(`kubelite server exited with ${proc.exitCode}:\n${logs.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`kubelite server not ready within 60 s:\n${logs.slice(-4000)}`);
  };
  await launch();
  return server;
}

/** Removes a test server's data dir and runs `kubelite cleanup` for its instance (containers, chains, routes, devices). */
export function cleanupInstance(server: TestServer | undefined, opts: { keepDataDir?: boolean } = {}): void {
  if (!server) return;
  const r = spawnSync(process.execPath, [...binArgs(), 'cleanup', '--instance', server.slot.instance, '--service-cidr', server.slot.serviceCIDR, '--lb-pool', server.slot.lbPool, '--data-dir', server.dataDir], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0 && !/unknown command/.test(r.stderr)) process.stderr.write(`cleanup of ${server.slot.instance} failed: ${r.stderr}\n`);
  if (!opts.keepDataDir) fs.rmSync(server.dataDir, { recursive: true, force: true });
}

/** Polls `fn` until it returns a truthy value or the timeout passes. */
export async function waitFor<T>(fn: () => Promise<T> | T, timeoutMs = 30_000, what = 'condition', intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/**
 * Waits until the slot's service CIDR is routed to the instance's service device, so no packet to a VIP
 * can leave through the uplink before the data plane owns the range.
 */
export async function waitForServiceRoute(slot: ReturnType<typeof slotConfig>): Promise<void> {
  const { exec } = await import('../../src/util/exec.js');
  const { hostNames } = await import('../../src/config.js');
  const probe = slot.serviceCIDR.replace(/0\/24$/, '2');
  await waitFor(async () => {
    const r = await exec('ip', ['-json', 'route', 'get', probe]);
    return r.code === 0 && (JSON.parse(r.stdout) as { dev?: string }[])[0]?.dev === hostNames({ instance: slot.instance }).serviceDevice;
  }, 60_000, 'the service CIDR routed to the service device');
}
