// One image build at a time per image on a host: ava runs test files in parallel processes and each may
// ensure the same images; without the lock they would all import it and leave dangling copies behind.
// A lock directory holds the owner's pid; a lock whose owner is gone is taken over.

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function withBuildLock<T>(name: string, fn: () => Promise<T>, timeoutMs = 10 * 60_000): Promise<T> {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`lock name ${JSON.stringify(name)}`);
  const dir = path.join(os.tmpdir(), `kubelite-image-${name}.lock`);
  const owner = path.join(dir, 'pid');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fs.mkdir(dir);
      await fs.writeFile(owner, String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(await fs.readFile(owner, 'utf8').catch(() => ''));
      const stat = await fs.stat(dir).catch(() => undefined);
      // no pid yet: the owner is between mkdir and writeFile, unless that was long ago
      const orphaned = pid > 0 ? !alive(pid) : stat !== undefined && Date.now() - stat.mtimeMs > 10_000;
      if (orphaned) {
        await fs.rm(dir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${dir} (held by pid ${pid || '?'})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
