// The node image (kubelite/cluster-node): what goes into it, decided from its inputs. Pure.
//
// Two layers. The base is a Debian rootfs made by debootstrap with the engine and network tools; it is
// slow to make (about a minute) and changes only when the package list below does, so it is an image of
// its own, tagged by the hash of its recipe, and kept as the cache. The top layer is kubelite itself:
// the host's `node` binary (Debian 12's nodejs is 18; the host runs the same glibc), kubelite compiled
// from its sources, its production node_modules, the entry point, and kubelite's own images saved as
// tarballs for the inner engine to load at start.

import { createHash } from 'node:crypto';
import type { ImageConfig } from './changes.js';
import { dockerChanges } from './changes.js';
import { normalizeEntries, type RootfsEntry } from './recipes.js';
import { splitRef } from './refs.js';

/** The name `kubelite images build` knows the node image by. */
export const CLUSTER_NODE_IMAGE_KEY = 'cluster-node';
export const NODE_IMAGE_REPO = 'kubelite/cluster-node';
export const NODE_BASE_REPO = 'kubelite/cluster-node-base';
/** Bump when the way the top layer is assembled changes. */
export const NODE_IMAGE_RECIPE_VERSION = 1;

export const NODE_IMAGE_LABELS = {
  /** Which of our images this is: `cluster-node` or `cluster-node-base`. */
  image: 'io.kubelite.image',
  hash: 'io.kubelite.image.hash',
  /** On the node image: the hash of the base it was built on. */
  base: 'io.kubelite.image.base',
} as const;

export function nodeImageRef(version: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(version)) throw new Error(`kubelite version ${JSON.stringify(version)} is not a valid image tag`);
  return `${NODE_IMAGE_REPO}:${version}`;
}

export interface BaseRecipe {
  suite: string;
  variant: string;
  packages: string[];
  /** Paths removed from the rootfs after debootstrap (package caches, docs, tools nobody runs here). */
  trim: string[];
  version: number;
}

export const BASE_RECIPE: BaseRecipe = {
  suite: 'bookworm',
  variant: 'minbase',
  packages: [
    'docker.io', // dockerd, containerd, runc, the docker CLI
    'iptables',
    'nftables',
    'conntrack',
    'iproute2',
    'haproxy', // the ingress proxy
    'busybox-static', // kubelite builds its own images from it
    'ca-certificates',
    'procps',
    'tini', // PID 1: forwards signals, reaps the orphans of the inner engine
    'libstdc++6', // the host's node links it
    'curl', // fetching the served kubeconfig in CI jobs and for debugging
  ],
  trim: [
    '/var/cache/apt/archives',
    '/var/lib/apt/lists',
    '/usr/share/doc',
    '/usr/share/man',
    '/usr/share/locale',
    '/usr/share/info',
    '/usr/bin/dnet',
    '/usr/sbin/ovrouter',
    '/usr/bin/ctr',
  ],
  version: 1,
};

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function baseHash(recipe: BaseRecipe = BASE_RECIPE): string {
  return sha256(JSON.stringify({ suite: recipe.suite, variant: recipe.variant, packages: [...recipe.packages].sort(), trim: [...recipe.trim].sort(), v: recipe.version }));
}

export function baseImageRef(hash: string): string {
  return `${NODE_BASE_REPO}:${hash.slice(0, 12)}`;
}

/** `debootstrap` arguments (target and mirror last). Package names are checked: they reach a program. */
export function debootstrapArgs(recipe: BaseRecipe, target: string, mirror: string): string[] {
  for (const p of recipe.packages) if (!/^[a-z0-9][a-z0-9+.-]+$/.test(p)) throw new Error(`package name ${JSON.stringify(p)}`);
  if (!/^https?:\/\/[^\s]+$/.test(mirror)) throw new Error(`mirror ${JSON.stringify(mirror)}: expected an http(s) URL`);
  return [`--variant=${recipe.variant}`, `--include=${recipe.packages.join(',')}`, recipe.suite, target, mirror];
}

// ---------- production node_modules from package-lock.json ----------

interface LockPackage {
  dev?: boolean;
  link?: boolean;
}

/**
 * The node_modules directories a production install has, from a lockfile (v2/v3 `packages`): every
 * entry not marked dev, minus those nested in another selected one (they come with their parent's tree).
 */
export function productionPackages(lock: { packages?: Record<string, LockPackage> }): string[] {
  if (!lock.packages) throw new Error('package-lock.json has no "packages" map (lockfile v2 or later is needed)');
  const dirs = Object.entries(lock.packages)
    .filter(([p, meta]) => p.startsWith('node_modules/') && !meta.dev && !meta.link)
    .map(([p]) => p)
    .sort();
  const out: string[] = [];
  for (const d of dirs) {
    if (out.some((parent) => d.startsWith(parent + '/'))) continue;
    out.push(d);
  }
  return out;
}

// ---------- the top layer ----------

export const NODE_IMAGE_PATHS = {
  root: '/opt/kubelite',
  node: '/usr/local/bin/node',
  kubelite: '/usr/local/bin/kubelite',
  entrypoint: '/usr/local/bin/kubelite-node',
  /** `docker save` of kubelite's own images, loaded by the entry point. */
  images: '/usr/share/kubelite/images.tar',
} as const;

export interface LayerInputs {
  /** The node binary to copy. */
  node: string;
  /** Compiled kubelite (holds `cli/` and `src/`). */
  dist: string;
  /** kubelite's package.json (`"type": "module"` must be beside dist). */
  packageJson: string;
  /** The `bin/kubelite` wrapper. */
  bin: string;
  /** The package root and the node_modules directories (relative to it) to copy. */
  root: string;
  modules: string[];
  /** The entry point script. */
  entrypoint: string;
  /** `docker save` of the images the inner engine gets at start. */
  imagesTar: string;
}

export function layerEntries(i: LayerInputs): RootfsEntry[] {
  const r = NODE_IMAGE_PATHS.root;
  const entries: RootfsEntry[] = [
    { kind: 'copy', path: NODE_IMAGE_PATHS.node, mode: 0o755, source: i.node },
    { kind: 'copy', path: `${r}/package.json`, mode: 0o644, source: i.packageJson },
    { kind: 'copy', path: `${r}/bin/kubelite`, mode: 0o755, source: i.bin },
    { kind: 'tree', path: `${r}/dist`, source: i.dist },
    { kind: 'symlink', path: NODE_IMAGE_PATHS.kubelite, target: `${r}/bin/kubelite` },
    { kind: 'copy', path: NODE_IMAGE_PATHS.entrypoint, mode: 0o755, source: i.entrypoint },
  ];
  for (const m of i.modules) {
    if (!/^node_modules\/[^\0]+$/.test(m) || m.split('/').some((p) => p === '..' || p === '.' || p === '')) throw new Error(`module dir ${JSON.stringify(m)}`);
    entries.push({ kind: 'tree', path: `${r}/${m}`, source: `${i.root}/${m}` });
  }
  entries.push({ kind: 'copy', path: NODE_IMAGE_PATHS.images, mode: 0o644, source: i.imagesTar });
  return normalizeEntries(entries);
}

export const NODE_IMAGE_PORTS = { api: 6443, dockerTcp: 2375 } as const;

export function nodeImageConfig(labels: Record<string, string>): ImageConfig {
  return {
    entrypoint: ['/usr/bin/tini', '--', NODE_IMAGE_PATHS.entrypoint],
    cmd: ['kubelite', 'server', '--bind-address', '0.0.0.0'],
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
    exposedPorts: [`${NODE_IMAGE_PORTS.api}/tcp`, `${NODE_IMAGE_PORTS.dockerTcp}/tcp`],
    volumes: ['/var/lib/docker'],
    workdir: '/',
    labels,
  };
}

/** What decides the node image's bytes, each as a digest: the same manifest, no rebuild. */
export interface NodeImageManifest {
  ref: string;
  baseHash: string;
  node: string;
  /** Of kubelite's sources (or of dist/ when there are none), package.json and bin/kubelite. */
  kubelite: string;
  modules: string;
  entrypoint: string;
  /** Image ref -> id of what is saved into the image. */
  images: Record<string, string>;
}

export function nodeImageHash(m: NodeImageManifest): string {
  const changes = dockerChanges(nodeImageConfig({}));
  const images = Object.fromEntries(Object.entries(m.images).sort(([a], [b]) => a.localeCompare(b)));
  return sha256(JSON.stringify({ v: NODE_IMAGE_RECIPE_VERSION, ...m, images, changes }));
}

export { splitRef };
