#!/usr/bin/env node
// The `kubelite` command: one binary for the server and a kubectl-like client of its API.

// First: keeps dockerode from loading ssh2 and gRPC (unused here, ~15 MiB resident) whoever imports it.
import '../src/agent/dockerode-lean.js';
import { Command } from 'commander';
import { KUBELITE_VERSION } from '../src/version.js';
import { registerServer } from './commands/server.js';
import { registerApply } from './commands/apply.js';
import { registerGet } from './commands/get.js';
import { registerDelete } from './commands/delete.js';
import { registerVersion } from './commands/version.js';
import { registerDescribe } from './commands/describe.js';
import { registerImages } from './commands/images.js';
import { registerScale } from './commands/scale.js';
import { registerLogs } from './commands/logs.js';
import { registerExec } from './commands/exec.js';
import { registerRollout } from './commands/rollout.js';
import { registerCleanup } from './commands/cleanup.js';
import { registerDns } from './commands/dns.js';
import { registerTls } from './commands/tls.js';

const program = new Command();
program
  .name('kubelite')
  .description('Kubernetes\' Service model on plain Docker hosts')
  .version(KUBELITE_VERSION, '--kubelite-version')
  .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG, /var/lib/kubelite/kubeconfig, ~/.kube/config)')
  .option('--context <name>', 'kubeconfig context')
  .option('-n, --namespace <ns>', 'namespace (default: the context\'s, else default)')
  .showHelpAfterError();

registerServer(program);
registerApply(program);
registerGet(program);
registerDescribe(program);
registerDelete(program);
registerVersion(program);
registerImages(program);
registerLogs(program);
registerExec(program);
registerScale(program);
registerRollout(program);
registerCleanup(program);
registerDns(program);
registerTls(program);

await program.parseAsync(process.argv);
