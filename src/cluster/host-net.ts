// The host side of a cluster's network: routes (`ip`), what the host already uses (routes, resolvers),
// and systemd-resolved where it runs. Thin: the plans come from routes.ts and resolver.ts.

import fs from 'node:fs';
import { exec, execOk } from '../util/exec.js';
import { isIPv4 } from '../util/ip.js';
import { parseIpRoutes, parseRouteGet, type HostRoute } from './routes.js';
import type { TakenRange } from './cidrs.js';

export async function hostRoutes(): Promise<HostRoute[]> {
  const r = await execOk('ip', ['-j', '-4', 'route', 'show', 'table', 'main'], { timeoutMs: 10_000 });
  return parseIpRoutes(r.stdout);
}

export async function runIp(argLists: readonly string[][]): Promise<void> {
  for (const args of argLists) await execOk('ip', args, { timeoutMs: 10_000 });
}

/** Runs every `ip` command, collecting failures instead of stopping at the first (teardown). */
export async function runIpAll(argLists: readonly string[][]): Promise<string[]> {
  const failures: string[] = [];
  for (const args of argLists) {
    const r = await exec('ip', args, { timeoutMs: 10_000 });
    if (r.code !== 0 && !/No such process|Cannot find device/.test(r.stderr)) failures.push(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  }
  return failures;
}

export async function routeGet(ip: string): Promise<{ dev?: string; gateway?: string }> {
  if (!isIPv4(ip)) throw new Error(`not an IPv4 address: ${ip}`);
  const r = await execOk('ip', ['-j', 'route', 'get', ip], { timeoutMs: 10_000 });
  return parseRouteGet(r.stdout);
}

/** Addresses the host depends on that a cluster range must never cover: its resolvers and gateways. */
export function hostCriticalAddresses(routes: readonly HostRoute[], resolvConf = readResolvConf()): TakenRange[] {
  const out: TakenRange[] = [];
  for (const line of resolvConf.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && isIPv4(m[1])) out.push({ cidr: `${m[1]}/32`, why: "one of the host's DNS resolvers" });
  }
  for (const r of routes) if (r.gateway && isIPv4(r.gateway)) out.push({ cidr: `${r.gateway}/32`, why: 'a gateway of the host' });
  return out;
}

function readResolvConf(): string {
  try {
    return fs.readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}

/** Whether systemd-resolved answers resolvectl here. */
export async function resolvedAvailable(): Promise<boolean> {
  try {
    const r = await exec('resolvectl', ['status'], { timeoutMs: 5000 });
    return r.code === 0;
  } catch {
    return false;
  }
}

export async function runResolvectl(argLists: readonly string[][]): Promise<void> {
  for (const args of argLists) await execOk('resolvectl', args, { timeoutMs: 10_000 });
}
