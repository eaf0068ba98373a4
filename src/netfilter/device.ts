// The kubelite-owned local device: the service CIDR and the LoadBalancer pool are routed to it, so a
// packet to an address no rule matches dies here instead of leaving through the uplink. The kernel
// here has no `dummy` links; an empty bridge that is up does the same job. LoadBalancer pool addresses
// live on it as /32s, which makes the host answer for them.

import { exec, execOk } from '../util/exec.js';
import { normalizeCIDR } from '../util/ip.js';

export interface DeviceState {
  exists: boolean;
  up: boolean;
  /** Destinations routed to the device in the main table, as CIDRs. */
  routes: string[];
  /** IPv4 addresses on it (we only ever add /32s). */
  addresses: string[];
}

export interface DeviceDesired {
  routes: string[];
  addresses: string[];
}

export type DeviceAction =
  | { op: 'create' }
  | { op: 'up' }
  | { op: 'route-replace'; cidr: string }
  | { op: 'route-del'; cidr: string }
  | { op: 'addr-add'; ip: string }
  | { op: 'addr-del'; ip: string };

const DEVICE_RE = /^[A-Za-z0-9_.-]{1,15}$/;

function checkDevice(dev: string): void {
  if (!DEVICE_RE.test(dev)) throw new Error(`unsafe device name ${JSON.stringify(dev)}`);
}

function asCIDR(dst: string): string {
  return normalizeCIDR(dst.includes('/') ? dst : `${dst}/32`);
}

/** The steps from `state` to `desired`. Pure. */
export function planDevice(state: DeviceState, desired: DeviceDesired): DeviceAction[] {
  const out: DeviceAction[] = [];
  if (!state.exists) out.push({ op: 'create' });
  if (!state.exists || !state.up) out.push({ op: 'up' });
  const haveRoutes = new Set(state.exists ? state.routes.map(asCIDR) : []);
  const wantRoutes = new Set(desired.routes.map(asCIDR));
  for (const r of wantRoutes) if (!haveRoutes.has(r)) out.push({ op: 'route-replace', cidr: r });
  for (const r of haveRoutes) if (!wantRoutes.has(r)) out.push({ op: 'route-del', cidr: r });
  const haveAddrs = new Set(state.exists ? state.addresses : []);
  const wantAddrs = new Set(desired.addresses);
  for (const a of wantAddrs) if (!haveAddrs.has(a)) out.push({ op: 'addr-add', ip: a });
  for (const a of haveAddrs) if (!wantAddrs.has(a)) out.push({ op: 'addr-del', ip: a });
  return out;
}

export async function readDevice(dev: string): Promise<DeviceState> {
  checkDevice(dev);
  const link = await exec('ip', ['-json', 'link', 'show', 'dev', dev]);
  if (link.code !== 0) return { exists: false, up: false, routes: [], addresses: [] };
  const [info] = JSON.parse(link.stdout) as { flags?: string[] }[];
  const routes = JSON.parse((await execOk('ip', ['-json', '-4', 'route', 'show', 'dev', dev])).stdout || '[]') as { dst: string; type?: string }[];
  const addrs = JSON.parse((await execOk('ip', ['-json', '-4', 'addr', 'show', 'dev', dev])).stdout || '[]') as {
    addr_info?: { family?: string; local?: string }[];
  }[];
  return {
    exists: true,
    up: (info?.flags ?? []).includes('UP'),
    routes: routes.filter((r) => r.dst && r.dst !== 'default' && (r.type ?? 'unicast') === 'unicast').map((r) => r.dst),
    addresses: (addrs[0]?.addr_info ?? []).filter((a) => a.family === 'inet' && a.local).map((a) => a.local!),
  };
}

export async function applyDevice(dev: string, actions: DeviceAction[]): Promise<void> {
  checkDevice(dev);
  for (const a of actions) {
    switch (a.op) {
      case 'create':
        await execOk('ip', ['link', 'add', dev, 'type', 'bridge']);
        break;
      case 'up':
        await execOk('ip', ['link', 'set', dev, 'up']);
        break;
      case 'route-replace':
        await execOk('ip', ['route', 'replace', normalizeCIDR(a.cidr), 'dev', dev]);
        break;
      case 'route-del':
        await execOk('ip', ['route', 'del', normalizeCIDR(a.cidr), 'dev', dev]);
        break;
      case 'addr-add':
        await execOk('ip', ['addr', 'add', `${asCIDR(a.ip).split('/')[0]}/32`, 'dev', dev]);
        break;
      case 'addr-del':
        await execOk('ip', ['addr', 'del', `${asCIDR(a.ip).split('/')[0]}/32`, 'dev', dev]);
        break;
    }
  }
}

/** Reads, plans and applies; returns what it did. */
export async function syncDevice(dev: string, desired: DeviceDesired): Promise<DeviceAction[]> {
  const actions = planDevice(await readDevice(dev), desired);
  await applyDevice(dev, actions);
  return actions;
}

/** Deletes the device (its routes and addresses go with it). False when it was not there. */
export async function removeDevice(dev: string): Promise<boolean> {
  checkDevice(dev);
  const r = await exec('ip', ['link', 'del', dev]);
  if (r.code === 0) return true;
  if (/Cannot find device|does not exist/i.test(r.stderr)) return false;
  throw new Error(`ip link del ${dev}: ${r.stderr.trim()}`);
}
