// `kubelite images build`: the local images examples and Pods use (no registry is reachable here), and
// on request the node image kubelite runs in as a Docker-in-Docker node (`cluster-node`).

import type { Command } from 'commander';
import Docker from 'dockerode';
import { buildImages } from '../../src/images/index.js';
import { CLUSTER_NODE_IMAGE_KEY } from '../../src/images/node-image-plan.js';
import { run } from '../context.js';

export function registerImages(program: Command): void {
  const images = program.command('images').description('Local images built from Debian\'s busybox-static (no registry needed)');
  images
    .command('build')
    .description('Build kubelite/echo:1 and kubelite/pause:1 (and kubelite/node:20 with --all; the node image with `cluster-node`); skips up-to-date images')
    .argument('[names...]', 'images to build: echo, pause, node, cluster-node (default: echo and pause)')
    .option('--all', 'also build kubelite/node:20 (WebSocket/UDP echo, ~100 MB)')
    .option('--only <names...>', 'build only these (echo, pause, node, cluster-node)')
    .option('--force', 'rebuild even if up to date')
    .option('--mirror <url>', 'Debian mirror for the node image\'s debootstrap (default $KUBELITE_DEBIAN_MIRROR, else http://deb.debian.org/debian)')
    .action((names: string[], opts: { all?: boolean; only?: string[]; force?: boolean; mirror?: string }) =>
      run(async () => {
        const docker = new Docker();
        const log = (line: string) => process.stderr.write(line + '\n');
        const asked = [...names, ...(opts.only ?? [])];
        const wantsNode = asked.includes(CLUSTER_NODE_IMAGE_KEY);
        const others = asked.filter((n) => n !== CLUSTER_NODE_IMAGE_KEY);
        const only = others.length ? others : opts.all ? ['all'] : asked.length ? [] : undefined;
        if (only === undefined || only.length) {
          const built = await buildImages({ docker, force: opts.force, only, log });
          for (const b of built) process.stdout.write(`${b.ref} ${b.built ? `built in ${b.seconds.toFixed(2)}s` : 'up to date'} (${(b.sizeBytes / 1e6).toFixed(1)} MB)\n`);
        }
        if (wantsNode) {
          const { buildNodeImage } = await import('../../src/images/node-image.js');
          const b = await buildNodeImage({ docker, force: opts.force, log, mirror: opts.mirror });
          process.stdout.write(`${b.ref} ${b.built ? `built in ${b.seconds.toFixed(2)}s${b.baseBuilt ? ' (with debootstrap)' : ''}` : 'up to date'} (${(b.sizeBytes / 1e6).toFixed(1)} MB)\n`);
        }
      }),
    );
}
