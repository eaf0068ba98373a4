// Turns a recipe's entries into a directory tree, and that tree into a tar stream for `docker import`.

import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { listTree } from './host-inputs.js';
import type { RootfsEntry } from './recipes.js';

export async function makeTempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Writes entries (parents first, as normalizeEntries orders them) below root; returns the bytes written. */
export async function materializeRootfs(root: string, entries: readonly RootfsEntry[]): Promise<number> {
  let bytes = 0;
  for (const e of entries) {
    const dest = path.join(root, e.path);
    switch (e.kind) {
      case 'dir':
        await fs.mkdir(dest, { recursive: true });
        // mkdir's mode goes through the umask; /tmp must end up exactly 1777
        await fs.chmod(dest, e.mode);
        break;
      case 'file':
        await fs.writeFile(dest, e.content);
        await fs.chmod(dest, e.mode);
        bytes += Buffer.byteLength(e.content);
        break;
      case 'copy':
        // a copy, never a hard link: the chmod below must not touch the host's file
        await fs.copyFile(e.source, dest);
        await fs.chmod(dest, e.mode);
        bytes += (await fs.stat(dest)).size;
        break;
      case 'tree':
        await fs.mkdir(dest, { recursive: true });
        for (const f of await listTree(e.source)) {
          const target = path.join(dest, f.rel);
          await fs.mkdir(path.dirname(target), { recursive: true });
          await fs.copyFile(f.abs, target);
          await fs.chmod(target, f.executable ? 0o755 : 0o644);
          bytes += (await fs.stat(target)).size;
        }
        break;
      case 'symlink':
        await fs.symlink(e.target, dest);
        break;
    }
  }
  return bytes;
}

/**
 * `tar -c` of root as a stream, owned by root whatever user builds it. `done` settles when tar exits and
 * rejects with tar's message if it failed, so a truncated stream never passes for a good one; `abort`
 * ends tar when the stream's reader failed.
 */
export function tarDirectory(root: string): { stream: Readable; done: Promise<void>; abort: () => void } {
  const child = spawn('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', '-', '.'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (err) => reject(new Error(`tar: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`tar of ${root} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
    });
  });
  // the importer may fail first; this rejection is then reported there, not as an unhandled one
  done.catch(() => undefined);
  // if the reader gives up, tar would block forever on a full pipe
  const abort = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return { stream: child.stdout, done, abort };
}
