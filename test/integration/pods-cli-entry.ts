// A `kubelite` entry with just the logs and exec commands, so the pods integration tests run them as a
// separate process (as a user would) even before cli/main.ts registers them.

import { Command } from 'commander';
import { registerLogs } from '../../cli/commands/logs.js';
import { registerExec } from '../../cli/commands/exec.js';

const program = new Command();
program.name('kubelite').option('--kubeconfig <file>').option('--context <name>').option('-n, --namespace <ns>');
registerLogs(program);
registerExec(program);
await program.parseAsync(process.argv);
