// `kubelite cleanup` of the pod network: our routes inside the instance's pod CIDR (they carry our
// route protocol), the VXLAN device, and the forwarding/no-masquerade chains with their jumps.

import type { HostNames } from '../config.js';
import { exec } from '../util/exec.js';
import { diffPodNetwork } from './diff.js';
import { apply, readKernel } from './ip.js';
import { removeRules, podNetChains } from './rules.js';

export interface PodNetCleanup {
  routesDeleted: number;
  vxlanRemoved: boolean;
}

export async function cleanupPodNet(names: HostNames, podCIDR?: string): Promise<PodNetCleanup> {
  const out: PodNetCleanup = { routesDeleted: 0, vxlanRemoved: false };
  const kernel = await readKernel(names.vxlanDevice).catch(() => undefined);
  if (kernel && podCIDR) {
    const cmds = diffPodNetwork(kernel, { routes: [], neighbours: [], fdb: [], problems: [] }, podCIDR, names.vxlanDevice);
    out.routesDeleted = cmds.filter((c) => c.args[0] === 'route').length;
    out.vxlanRemoved = cmds.some((c) => c.args[0] === 'link');
    await apply(cmds).catch(() => undefined);
  } else if (kernel?.vxlan) {
    out.vxlanRemoved = (await exec('ip', ['link', 'del', names.vxlanDevice])).code === 0;
  }
  await removeRules(podNetChains(names.chainPrefix)).catch(() => undefined);
  return out;
}
