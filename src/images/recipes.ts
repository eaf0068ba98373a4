// What goes into each image: its rootfs entries and its config, decided from the host's inputs (where
// busybox is, its applets, node and its libraries). Pure: materializing and importing happen elsewhere.

import path from 'node:path';
import type { ImageConfig } from './changes.js';
import { ECHO_SERVER, HTTP_ECHO, TCP_ECHO, UDP_ECHO_UNSUPPORTED } from './echo-scripts.js';
import { UDP_ECHO, WS_ECHO } from './node-scripts.js';
import { PAUSE } from './pause-script.js';
import { ECHO_PORTS, IMAGE_LABELS, IMAGES, NODE_PORTS, type ImageKey } from './refs.js';

export type RootfsEntry =
  | { kind: 'dir'; path: string; mode: number }
  | { kind: 'file'; path: string; mode: number; content: string }
  /** A host file's content (symlinks followed). */
  | { kind: 'copy'; path: string; mode: number; source: string }
  /** A host directory, recursively (regular files and directories only). */
  | { kind: 'tree'; path: string; source: string }
  | { kind: 'symlink'; path: string; target: string };

export interface ImageRecipe {
  key: ImageKey;
  ref: string;
  /** Sorted by path, parents before children, one entry per path. */
  entries: RootfsEntry[];
  config: ImageConfig;
}

export interface HostInputs {
  /** A statically linked busybox. */
  busybox: string;
  /** `busybox --list`, parsed. */
  applets: string[];
  /** Only needed for the node image. */
  node?: NodeInputs;
}

export interface NodeInputs {
  /** The node binary (real path). */
  binary: string;
  /** Absolute paths of its shared objects and loader, as `ldd` names them. */
  libs: string[];
  /** The `ws` package directory, installed as /usr/lib/node_modules/ws. */
  wsDir: string;
}

/** Bump when the way a recipe turns into an image changes, so existing images get rebuilt. */
export const RECIPE_VERSION = 1;

const PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const OUR_PROGRAMS = new Set(['echo-server', 'http-echo', 'tcp-echo', 'udp-echo', 'pause', 'ws-echo', 'node']);

const STATIC_PAGE = 'kubelite static page\n';
const STATIC_INDEX = '<!doctype html><title>kubelite/echo</title><p>kubelite/echo static server: GET /static</p>\n';

export function checkRootfsPath(p: string): string {
  if (!p.startsWith('/') || p === '/' || p.endsWith('/') || p.includes('//') || p.includes('\0')) {
    throw new Error(`rootfs path ${JSON.stringify(p)} must be absolute, normalized and not the root`);
  }
  if (p.split('/').some((part) => part === '.' || part === '..')) throw new Error(`rootfs path ${JSON.stringify(p)} must not contain . or ..`);
  return p;
}

/**
 * One entry per path (later ones win, so an image's own program replaces an applet of the same name),
 * each path's parent directories present, sorted so that parents come first.
 */
export function normalizeEntries(entries: RootfsEntry[]): RootfsEntry[] {
  const byPath = new Map<string, RootfsEntry>();
  for (const e of entries) byPath.set(checkRootfsPath(e.path), e);
  for (const p of [...byPath.keys()]) {
    for (let dir = path.posix.dirname(p); dir !== '/'; dir = path.posix.dirname(dir)) {
      const parent = byPath.get(dir);
      if (!parent) byPath.set(dir, { kind: 'dir', path: dir, mode: 0o755 });
      else if (parent.kind !== 'dir') throw new Error(`rootfs path ${p} lies below ${dir}, which is a ${parent.kind}, not a directory`);
    }
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** busybox and its applets, a merged /usr, the few /etc files tools look for, a sticky /tmp. */
function baseEntries(inputs: HostInputs): RootfsEntry[] {
  const entries: RootfsEntry[] = [
    { kind: 'dir', path: '/bin', mode: 0o755 },
    { kind: 'dir', path: '/etc', mode: 0o755 },
    { kind: 'dir', path: '/root', mode: 0o700 },
    { kind: 'dir', path: '/tmp', mode: 0o1777 },
    { kind: 'dir', path: '/usr', mode: 0o755 },
    { kind: 'symlink', path: '/sbin', target: 'bin' },
    { kind: 'symlink', path: '/usr/bin', target: '../bin' },
    { kind: 'symlink', path: '/usr/sbin', target: '../bin' },
    { kind: 'copy', path: '/bin/busybox', mode: 0o755, source: inputs.busybox },
    { kind: 'file', path: '/etc/passwd', mode: 0o644, content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' },
    { kind: 'file', path: '/etc/group', mode: 0o644, content: 'root:x:0:\nnogroup:x:65534:\n' },
  ];
  for (const applet of inputs.applets) {
    if (OUR_PROGRAMS.has(applet)) continue;
    entries.push({ kind: 'symlink', path: `/bin/${applet}`, target: 'busybox' });
  }
  return entries;
}

function labels(key: ImageKey): Record<string, string> {
  return { [IMAGE_LABELS.image]: key };
}

export function echoRecipe(inputs: HostInputs): ImageRecipe {
  return {
    key: 'echo',
    ref: IMAGES.echo,
    entries: normalizeEntries([
      ...baseEntries(inputs),
      { kind: 'file', path: '/bin/echo-server', mode: 0o755, content: ECHO_SERVER },
      { kind: 'file', path: '/bin/http-echo', mode: 0o755, content: HTTP_ECHO },
      { kind: 'file', path: '/bin/tcp-echo', mode: 0o755, content: TCP_ECHO },
      { kind: 'file', path: '/bin/udp-echo', mode: 0o755, content: UDP_ECHO_UNSUPPORTED },
      { kind: 'dir', path: '/www', mode: 0o755 },
      { kind: 'file', path: '/www/static', mode: 0o644, content: STATIC_PAGE },
      { kind: 'file', path: '/www/index.html', mode: 0o644, content: STATIC_INDEX },
    ]),
    config: {
      cmd: ['echo-server'],
      env: { PATH: PATH_ENV },
      exposedPorts: [`${ECHO_PORTS.http}/tcp`, `${ECHO_PORTS.static}/tcp`, `${ECHO_PORTS.tcpEcho}/tcp`],
      workdir: '/',
      labels: labels('echo'),
    },
  };
}

export function pauseRecipe(inputs: HostInputs): ImageRecipe {
  return {
    key: 'pause',
    ref: IMAGES.pause,
    entries: normalizeEntries([...baseEntries(inputs), { kind: 'file', path: '/bin/pause', mode: 0o755, content: PAUSE }]),
    config: { cmd: ['pause'], env: { PATH: PATH_ENV }, exposedPorts: [], workdir: '/', labels: labels('pause') },
  };
}

export function nodeRecipe(inputs: HostInputs): ImageRecipe {
  const node = inputs.node;
  if (!node) throw new Error('the node image needs the host node binary and its libraries');
  const libs: RootfsEntry[] = node.libs.map((lib) => ({ kind: 'copy', path: lib, mode: 0o755, source: lib }));
  return {
    key: 'node',
    ref: IMAGES.node,
    entries: normalizeEntries([
      ...baseEntries(inputs),
      ...libs,
      { kind: 'copy', path: '/bin/node', mode: 0o755, source: node.binary },
      { kind: 'tree', path: '/usr/lib/node_modules/ws', source: node.wsDir },
      { kind: 'file', path: '/bin/udp-echo', mode: 0o755, content: UDP_ECHO },
      { kind: 'file', path: '/bin/ws-echo', mode: 0o755, content: WS_ECHO },
    ]),
    config: {
      cmd: ['ws-echo'],
      env: { PATH: PATH_ENV, NODE_PATH: '/usr/lib/node_modules' },
      exposedPorts: [`${NODE_PORTS.ws}/tcp`, `${NODE_PORTS.udpEcho}/udp`],
      workdir: '/',
      labels: labels('node'),
    },
  };
}

export function recipeFor(key: ImageKey, inputs: HostInputs): ImageRecipe {
  switch (key) {
    case 'echo':
      return echoRecipe(inputs);
    case 'pause':
      return pauseRecipe(inputs);
    case 'node':
      return nodeRecipe(inputs);
  }
}
