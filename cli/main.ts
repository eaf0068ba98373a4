#!/usr/bin/env node
// The `kubelite` command: one binary for the server and a kubectl-like client of its API.

// First: keeps dockerode from loading ssh2 and gRPC (unused here, ~15 MiB resident) whoever imports it.
import '../src/agent/dockerode-lean.js';
import { Command } from 'commander';
import { KUBELITE_VERSION } from '../src/version.js';

type Register = (program: Command) => void;

// Each command's module is loaded only when it can run: the long-running `kubelite server` process
// then never keeps the client commands' code (and their dependencies) in memory.
const COMMANDS: [string, () => Promise<Register>][] = [
  ['server', async () => (await import('./commands/server.js')).registerServer],
  ['apply', async () => (await import('./commands/apply.js')).registerApply],
  ['get', async () => (await import('./commands/get.js')).registerGet],
  ['describe', async () => (await import('./commands/describe.js')).registerDescribe],
  ['delete', async () => (await import('./commands/delete.js')).registerDelete],
  ['version', async () => (await import('./commands/version.js')).registerVersion],
  ['images', async () => (await import('./commands/images.js')).registerImages],
  ['logs', async () => (await import('./commands/logs.js')).registerLogs],
  ['exec', async () => (await import('./commands/exec.js')).registerExec],
  ['scale', async () => (await import('./commands/scale.js')).registerScale],
  ['rollout', async () => (await import('./commands/rollout.js')).registerRollout],
  ['cleanup', async () => (await import('./commands/cleanup.js')).registerCleanup],
  ['dns', async () => (await import('./commands/dns.js')).registerDns],
  ['tls', async () => (await import('./commands/tls.js')).registerTls],
  ['cluster', async () => (await import('./commands/cluster.js')).registerCluster],
  ['ui', async () => (await import('./commands/ui.js')).registerUi],
  ['store', async () => (await import('./commands/store.js')).registerStore],
];

const program = new Command();
program
  .name('kubelite')
  .description('Kubernetes\' Service model on plain Docker hosts')
  .version(KUBELITE_VERSION, '--kubelite-version')
  .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG, /var/lib/kubelite/kubeconfig, ~/.kube/config)')
  .option('--context <name>', 'kubeconfig context')
  .option('-n, --namespace <ns>', 'namespace (default: the context\'s, else default)')
  .showHelpAfterError();

// The first word that names a command decides; anything else (help, typos) gets every command.
const named = process.argv.slice(2).find((a) => COMMANDS.some(([name]) => name === a));
for (const [name, load] of COMMANDS) if (!named || name === named) (await load())(program);

await program.parseAsync(process.argv);
