// kubelite's own package as the node image takes it: where it is, a digest of what decides its build,
// the compiled code (from the sources when they are here, else the shipped dist/), and the production
// node_modules listed by package-lock.json.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execOk } from '../util/exec.js';
import { fileDigest, treeDigest } from './host-inputs.js';
import { productionPackages, sha256 } from './node-image-plan.js';

export interface KubelitePackage {
  root: string;
  /** True when src/ and the TypeScript compiler are here: the image gets a fresh compile. */
  fromSources: boolean;
}

/** The directory of kubelite's package.json, found upwards from this module (src/ or dist/src/). */
export function findPackageRoot(from: string = path.dirname(fileURLToPath(import.meta.url))): KubelitePackage {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if ((JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: string }).name === 'kubelite') {
          const fromSources = fs.existsSync(path.join(dir, 'src')) && fs.existsSync(path.join(dir, 'cli')) && fs.existsSync(tscPath(dir));
          return { root: dir, fromSources };
        }
      } catch {
        /* not ours; keep looking */
      }
    }
    if (path.dirname(dir) === dir) throw new Error(`cannot find kubelite's package.json above ${from}`);
  }
}

function tscPath(root: string): string {
  return path.join(root, 'node_modules/typescript/bin/tsc');
}

const BUILD_FILES = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'bin/kubelite'];

/** What decides the compiled code: the sources, the build config and the compiler's version. */
export async function kubeliteDigest(pkg: KubelitePackage): Promise<string> {
  const parts: string[] = [];
  const trees = pkg.fromSources ? ['src', 'cli'] : ['dist'];
  for (const t of trees) {
    const dir = path.join(pkg.root, t);
    if (!fs.existsSync(dir)) throw new Error(`${dir} is missing: run \`npm run build\` in ${pkg.root}`);
    parts.push(`${t}:${await treeDigest(dir)}`);
  }
  for (const f of BUILD_FILES) {
    const file = path.join(pkg.root, f);
    if (fs.existsSync(file)) parts.push(`${f}:${await fileDigest(file)}`);
  }
  if (pkg.fromSources) parts.push(`tsc:${await fileDigest(path.join(pkg.root, 'node_modules/typescript/package.json'))}`);
  return sha256(parts.join('\n'));
}

/** kubelite compiled into outDir (from the sources), or the shipped dist/ (returned as is). */
export async function compiledKubelite(pkg: KubelitePackage, outDir: string): Promise<string> {
  if (!pkg.fromSources) return path.join(pkg.root, 'dist');
  await execOk(process.execPath, [tscPath(pkg.root), '-p', path.join(pkg.root, 'tsconfig.build.json'), '--outDir', outDir, '--sourceMap', 'false'], { timeoutMs: 5 * 60_000 });
  if (!fs.existsSync(path.join(outDir, 'cli/main.js'))) throw new Error(`compiling kubelite into ${outDir} produced no cli/main.js`);
  return outDir;
}

interface Lock {
  packages?: Record<string, { dev?: boolean; link?: boolean; version?: string; integrity?: string; resolved?: string }>;
}

/**
 * What is installed: npm's hidden lockfile (node_modules/.package-lock.json, written by every install)
 * when there is one, else package-lock.json.
 */
function readLock(pkg: KubelitePackage): { file: string; lock: Lock } {
  for (const rel of ['node_modules/.package-lock.json', 'package-lock.json']) {
    const file = path.join(pkg.root, rel);
    if (!fs.existsSync(file)) continue;
    try {
      return { file, lock: JSON.parse(fs.readFileSync(file, 'utf8')) as Lock };
    } catch (err) {
      throw new Error(`cannot read ${file}: ${(err as Error).message}`);
    }
  }
  throw new Error(`no package-lock.json in ${pkg.root}`);
}

/** The production node_modules directories (relative to the root) that are installed here. */
export function productionModules(pkg: KubelitePackage): string[] {
  // optional packages for other platforms are in the lockfile but not on disk
  return productionPackages(readLock(pkg).lock).filter((m) => fs.existsSync(path.join(pkg.root, m, 'package.json')));
}

/**
 * A digest of the installed production packages from the lockfile's version and integrity of each
 * (and of the packages nested in them): reading the files themselves takes seconds, this takes none.
 */
export function modulesDigest(pkg: KubelitePackage, modules: readonly string[]): string {
  const { lock } = readLock(pkg);
  const parts: string[] = [];
  for (const [p, meta] of Object.entries(lock.packages ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!modules.some((m) => p === m || p.startsWith(m + '/'))) continue;
    parts.push(`${p}@${meta.version ?? ''}#${meta.integrity ?? meta.resolved ?? ''}`);
  }
  return sha256(parts.join('\n'));
}
