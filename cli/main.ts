#!/usr/bin/env node
// The `kubelite` command: one binary for the server and a kubectl-like client of its API.

import { Command } from 'commander';
import { KUBELITE_VERSION } from '../src/version.js';
import { registerServer } from './commands/server.js';
import { registerApply } from './commands/apply.js';
import { registerGet } from './commands/get.js';
import { registerDelete } from './commands/delete.js';
import { registerVersion } from './commands/version.js';
import { registerDescribe } from './commands/describe.js';
import { registerImages } from './commands/images.js';

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

await program.parseAsync(process.argv);
