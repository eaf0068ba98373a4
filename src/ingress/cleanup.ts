// Ends an HAProxy that a kubelite server killed without warning (SIGKILL, OOM) left behind holding the
// ingress ports. Only a process whose command line names this run dir's config is touched: never
// another program that happens to have the recorded pid now.

import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid of the HAProxy master running from `runDir`, if one is. */
export function orphanProxyPid(runDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(runDir, 'haproxy.pid'), 'utf8').trim().split('\n')[0]);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.some((a) => a.endsWith('haproxy')) && argv.includes(path.join(runDir, 'haproxy.cfg')) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Stops that HAProxy (its workers follow their master); true when there was one. */
export async function stopOrphanProxy(runDir: string, graceMs = 3000): Promise<boolean> {
  const pid = orphanProxyPid(runDir);
  if (pid === undefined) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(50);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  return true;
}
