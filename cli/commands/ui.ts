// `kubelite ui`: a one-time login link to the live picture served at /ui/ on the API port. The link
// carries a code (good once, for a minute) in its fragment, which browsers never send to the server,
// so neither the token nor the code ends up in a server log; the page trades the code for a session.

import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { CliError, cliContext, run, type GlobalOptions } from '../context.js';

interface UiFlags {
  open?: boolean;
}

/** Starts the desktop's browser on `url` (argument array, detached; its output is not ours). */
function openBrowser(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('xdg-open', [url], { detached: true, stdio: 'ignore' });
    child.once('error', (err: NodeJS.ErrnoException) => reject(new CliError(err.code === 'ENOENT' ? 'error: --open needs xdg-open (package xdg-utils); open the link above by hand' : `error: xdg-open: ${err.message}`)));
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}

export function registerUi(program: Command): void {
  program
    .command('ui')
    .description('Print a one-time login link to the live picture of the cluster (the page at /ui/ on the API port)')
    .option('--open', "open the link in the desktop's browser (xdg-open)")
    .action((_o: unknown, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<GlobalOptions & UiFlags>();
        const { client } = cliContext(opts);
        const base = client.conn.server.replace(/\/+$/, '');
        const res = await client.raw('POST', '/ui/api/login-codes');
        if (res.status === 404) throw new CliError(`error: ${base} serves no UI (was the server started with --disable ui?)`);
        if (res.status === 401) throw new CliError('error: the server refused the kubeconfig\'s token (401 Unauthorized)');
        if (res.status !== 200) throw new CliError(`error: asking ${base} for a login code: HTTP ${res.status}: ${res.body.slice(0, 200)}`);
        const { code, expiresInSeconds } = JSON.parse(res.body) as { code: string; expiresInSeconds: number };
        const url = `${base}/ui/#code=${code}`;
        process.stdout.write(`${url}\n`);
        process.stderr.write(`Open the link within ${expiresInSeconds} s; it logs in one browser once. Later visits to ${base}/ui/ ask for the token (or run kubelite ui again).\n`);
        if (opts.open) await openBrowser(url);
      }),
    );
}
