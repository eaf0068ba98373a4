// `kubelite images build`: the local images examples and Pods use (no registry is reachable here).

import type { Command } from 'commander';
import Docker from 'dockerode';
import { buildImages } from '../../src/images/index.js';
import { run } from '../context.js';

export function registerImages(program: Command): void {
  const images = program.command('images').description('Local images built from Debian\'s busybox-static (no registry needed)');
  images
    .command('build')
    .description('Build kubelite/echo:1 and kubelite/pause:1 (and kubelite/node:20 with --all); skips up-to-date images')
    .option('--all', 'also build kubelite/node:20 (WebSocket/UDP echo, ~100 MB)')
    .option('--only <names...>', 'build only these (echo, pause, node)')
    .option('--force', 'rebuild even if up to date')
    .action((opts: { all?: boolean; only?: string[]; force?: boolean }) =>
      run(async () => {
        const built = await buildImages({
          docker: new Docker(),
          force: opts.force,
          only: opts.only ?? (opts.all ? ['all'] : undefined),
          log: (line) => process.stderr.write(line + '\n'),
        });
        for (const b of built) process.stdout.write(`${b.ref} ${b.built ? `built in ${b.seconds.toFixed(2)}s` : 'up to date'} (${(b.sizeBytes / 1e6).toFixed(1)} MB)\n`);
      }),
    );
}
