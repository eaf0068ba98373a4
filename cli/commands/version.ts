// `kubelite version`: ours, and the server's (the Kubernetes version it reports to kubectl).

import type { Command } from 'commander';
import { KUBELITE_VERSION } from '../../src/version.js';
import { cliContext, run, type GlobalOptions } from '../context.js';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('Print the client and server versions')
    .option('--client', 'client version only')
    .action((_o: unknown, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<GlobalOptions & { client?: boolean }>();
        process.stdout.write(`Client Version: kubelite v${KUBELITE_VERSION} (node ${process.version})\n`);
        if (opts.client) return;
        const { client } = cliContext(opts);
        const v = await client.request<{ gitVersion: string; gitCommit: string }>('GET', '/version');
        process.stdout.write(`Server Version: ${v.gitVersion} (${v.gitCommit})\n`);
      }),
    );
}
