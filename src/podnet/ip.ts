// The thin adapter of the pod network: reads links, our routes, the VXLAN device, its neighbour and
// FDB entries (`ip -j`, `bridge -j`), and runs the commands diff.ts plans, with argument arrays only.

import { exec, ExecError } from '../util/exec.js';
import { ROUTE_PROTO, type Link } from './plan.js';
import type { Command, KernelState } from './diff.js';

async function json<T>(tool: string, args: string[]): Promise<T | undefined> {
  const r = await exec(tool, args, { timeoutMs: 10_000 });
  if (r.code !== 0) {
    if (/does not exist|Cannot find device/i.test(r.stderr)) return undefined;
    throw new ExecError(tool, args, r);
  }
  const text = r.stdout.trim();
  return text ? (JSON.parse(text) as T) : undefined;
}

interface IpAddr {
  ifname: string;
  mtu: number;
  flags?: string[];
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

/** Parses `ip -j addr show`: IPv4 links with their addresses (loopback and our own devices left out). Pure. */
export function parseLinks(rows: IpAddr[], skip: (dev: string) => boolean): Link[] {
  const out: Link[] = [];
  for (const r of rows) {
    if (r.ifname === 'lo' || skip(r.ifname)) continue;
    for (const a of r.addr_info ?? []) if (a.family === 'inet') out.push({ dev: r.ifname, cidr: `${a.local}/${a.prefixlen}`, mtu: r.mtu });
  }
  return out;
}

export async function readLinks(skip: (dev: string) => boolean): Promise<Link[]> {
  return parseLinks((await json<IpAddr[]>('ip', ['-j', 'addr', 'show'])) ?? [], skip);
}

interface IpRoute {
  type?: string;
  metric?: number;
  dst: string;
  gateway?: string;
  dev?: string;
  flags?: string[];
}

interface IpLinkDetail {
  ifname: string;
  mtu: number;
  address?: string;
  flags?: string[];
  link?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number; port?: number; local?: string; link?: string } };
}

interface IpNeigh {
  dst: string;
  lladdr?: string;
  state?: string[];
}

interface BridgeFdb {
  mac: string;
  dst?: string;
}

export async function readKernel(vxlanDev: string): Promise<KernelState> {
  const routes = ((await json<IpRoute[]>('ip', ['-j', 'route', 'show', 'proto', String(ROUTE_PROTO)])) ?? []).map((r) => ({
    type: r.type,
    metric: r.metric,
    dst: r.dst,
    via: r.gateway,
    dev: r.dev,
    onlink: (r.flags ?? []).includes('onlink'),
  }));
  const state: KernelState = { routes, neighbours: [], fdb: [] };
  const link = (await json<IpLinkDetail[]>('ip', ['-j', '-d', 'link', 'show', 'dev', vxlanDev]))?.[0];
  if (!link) return state;
  const addrs = (await json<IpAddr[]>('ip', ['-j', 'addr', 'show', 'dev', vxlanDev]))?.[0];
  const data = link.linkinfo?.info_data ?? {};
  // `link` is the underlying device's name in `ip -d` output (its index when it is in another namespace).
  state.vxlan = {
    vni: data.id,
    port: data.port,
    local: data.local,
    link: link.link ?? data.link,
    mtu: link.mtu,
    mac: link.address,
    up: (link.flags ?? []).includes('UP'),
    addresses: (addrs?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
  };
  state.neighbours = ((await json<IpNeigh[]>('ip', ['-j', 'neigh', 'show', 'dev', vxlanDev])) ?? []).map((n) => ({ ip: n.dst, mac: n.lladdr, permanent: (n.state ?? []).includes('PERMANENT') }));
  state.fdb = ((await json<BridgeFdb[]>('bridge', ['-j', 'fdb', 'show', 'dev', vxlanDev])) ?? []).filter((f) => f.dst).map((f) => ({ mac: f.mac, dst: f.dst }));
  return state;
}

/** Runs the commands in order; a failing one stops the run (the next sync starts from what is there). */
export async function apply(cmds: readonly Command[]): Promise<void> {
  for (const c of cmds) {
    const r = await exec(c.tool, c.args, { timeoutMs: 10_000 });
    // A delete of what is already gone is fine: someone (or the device's removal) did it first.
    if (r.code !== 0 && !(c.args.includes('del') && /No such|Cannot find|not found|does not exist/i.test(r.stderr))) throw new ExecError(c.tool, c.args, r);
  }
}
