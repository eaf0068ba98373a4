// A `kubelite` entry with just the scale and rollout commands, so their integration tests run the
// commands as a separate process even before cli/main.ts registers them.

import { Command } from 'commander';
import { registerScale } from '../../cli/commands/scale.js';
import { registerRollout } from '../../cli/commands/rollout.js';

const program = new Command();
program.name('kubelite').option('--kubeconfig <file>').option('--context <name>').option('-n, --namespace <ns>');
registerScale(program);
registerRollout(program);
await program.parseAsync(process.argv);
