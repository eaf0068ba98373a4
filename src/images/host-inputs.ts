// Gathers what the recipes take from this host (busybox, its applets, node and the libraries `ldd`
// lists, the ws package) and the content digests of those files. Programs run with argument arrays.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { elfLinkage } from './elf.js';
import { parseAppletList, parseLdd } from './host-parsing.js';
import type { HostInputs, ImageRecipe, NodeInputs } from './recipes.js';
import type { ImageKey } from './refs.js';

export const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];

export async function runProgram(file: string, args: string[], timeoutMs = 30_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => reject(new Error(`${file}: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${file} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

/** The first static busybox of the candidates; a clear error naming the package when there is none. */
export async function findBusybox(candidates: readonly string[] = BUSYBOX_CANDIDATES): Promise<string> {
  for (const candidate of candidates) {
    let head: Buffer;
    try {
      head = await readHead(candidate, 64 * 1024);
    } catch {
      continue;
    }
    const linkage = elfLinkage(head);
    if (linkage === 'static') return candidate;
    throw new Error(
      `${candidate} is ${linkage === 'dynamic' ? 'dynamically linked' : 'not an ELF binary'}: images need a static busybox (apt-get install busybox-static)`,
    );
  }
  throw new Error(`no busybox found (looked at ${candidates.join(', ')}): apt-get install busybox-static`);
}

async function readHead(file: string, bytes: number): Promise<Buffer> {
  const fh = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export async function busyboxApplets(busybox: string): Promise<string[]> {
  const { stdout } = await runProgram(busybox, ['--list']);
  const applets = parseAppletList(stdout);
  for (const needed of ['sh', 'nc', 'httpd', 'sleep', 'usleep', 'ip', 'head', 'cat']) {
    if (!applets.includes(needed)) throw new Error(`${busybox} lacks the ${needed} applet the images need`);
  }
  return applets;
}

/** The node running this process, the libraries it loads, and the ws package kubelite itself uses. */
export async function nodeInputs(): Promise<NodeInputs> {
  const binary = await fs.realpath(process.execPath);
  const { stdout } = await runProgram('ldd', [binary]);
  const libs = parseLdd(stdout);
  if (libs.length === 0) throw new Error(`ldd ${binary} listed no libraries: a static node needs no loader, but this recipe expects one`);
  const require = createRequire(import.meta.url);
  const wsDir = path.dirname(require.resolve('ws/package.json'));
  return { binary, libs, wsDir };
}

let busyboxInputs: Promise<Pick<HostInputs, 'busybox' | 'applets'>> | undefined;
let nodeCache: Promise<NodeInputs> | undefined;

export async function hostInputs(keys: readonly ImageKey[]): Promise<HostInputs> {
  busyboxInputs ??= (async () => {
    const busybox = await findBusybox();
    return { busybox, applets: await busyboxApplets(busybox) };
  })();
  busyboxInputs.catch(() => (busyboxInputs = undefined));
  const base = await busyboxInputs;
  if (!keys.includes('node')) return { ...base };
  nodeCache ??= nodeInputs();
  nodeCache.catch(() => (nodeCache = undefined));
  return { ...base, node: await nodeCache };
}

const fileDigests = new Map<string, { key: string; digest: string }>();

/** sha256 of a file, remembered by (size, mtime) so a server start does not re-read 100 MB of node. */
export async function fileDigest(file: string): Promise<string> {
  const st = await fs.stat(file);
  const key = `${st.size}:${st.mtimeMs}:${st.ino}`;
  const known = fileDigests.get(file);
  if (known && known.key === key) return known.digest;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  const digest = hash.digest('hex');
  fileDigests.set(file, { key, digest });
  return digest;
}

/** Regular files below dir, sorted, with the executable bit: what a `tree` entry copies. */
export async function listTree(dir: string): Promise<Array<{ rel: string; abs: string; executable: boolean }>> {
  const out: Array<{ rel: string; abs: string; executable: boolean }> = [];
  async function walk(rel: string): Promise<void> {
    const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      const abs = path.join(dir, childRel);
      if (e.isDirectory()) await walk(childRel);
      else if (e.isFile()) out.push({ rel: childRel, abs, executable: ((await fs.stat(abs)).mode & 0o111) !== 0 });
    }
  }
  await walk('');
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

export async function treeDigest(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const f of await listTree(dir)) hash.update(`${f.rel}\0${f.executable ? 'x' : '-'}\0${await fileDigest(f.abs)}\n`);
  return hash.digest('hex');
}

/** Digests of every host input of a recipe, keyed by the entry's rootfs path (what recipeHash takes). */
export async function entryDigests(recipe: ImageRecipe): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const e of recipe.entries) {
    if (e.kind === 'copy') digests.set(e.path, await fileDigest(e.source));
    else if (e.kind === 'tree') digests.set(e.path, await treeDigest(e.source));
  }
  return digests;
}
