// Hairpin mode on the pod bridge's ports. With br_netfilter, a Pod that reaches itself through its
// Service gets its own packet DNATed back to the port it came in on, which a bridge refuses to send
// out unless that port is in hairpin mode. Docker leaves it off (the kubelet's --hairpin-mode sets it
// for Kubernetes), so the proxy component turns it on for every port of the pod bridge. Done through
// sysfs: no process to spawn, and nothing but our own bridge is touched.

import fs from 'node:fs/promises';
import path from 'node:path';

const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;

/** Turns hairpin mode on for each port of `bridge` that has it off; returns the ports changed. A missing bridge is no error. */
export async function ensureHairpin(bridge: string, sysfs = '/sys/class/net'): Promise<string[]> {
  if (!IFNAME_RE.test(bridge)) throw new Error(`unsafe bridge name ${JSON.stringify(bridge)}`);
  let ports: string[];
  try {
    ports = await fs.readdir(path.join(sysfs, bridge, 'brif'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
  const changed: string[] = [];
  for (const port of ports) {
    if (!IFNAME_RE.test(port)) continue;
    const file = path.join(sysfs, bridge, 'brif', port, 'hairpin_mode');
    try {
      if ((await fs.readFile(file, 'utf8')).trim() === '1') continue;
      await fs.writeFile(file, '1');
      changed.push(port);
    } catch (err) {
      // The port went away between the listing and the write (a Pod being removed).
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return changed;
}
