// `kubelite scale deploy/NAME --replicas N`: kubectl's scale, through the Scale subresource
// (`PATCH .../scale` with a merge patch), so it works the same on any Kubernetes-shaped server.

import type { Command } from 'commander';
import type { Scale } from '../../src/api/types.js';
import { qualifiedSingular, type ResourceInfo } from '../../src/api/resources.js';
import { checkName, CliError, cliContext, resourceOrDie, run, type GlobalOptions } from '../context.js';

interface ScaleOptions extends GlobalOptions {
  replicas?: string;
  currentReplicas?: string;
}

/** `deploy/web`, `deploy web other`, `deploy/web rs/x` -> kind and name pairs (kubectl's argument forms). */
export function parseTargets(args: string[]): { res: ResourceInfo; name: string }[] {
  if (args.length === 0) throw new CliError('error: you must specify the type of resource to scale and its name, e.g. deployment/web');
  const out: { res: ResourceInfo; name: string }[] = [];
  if (args.every((a) => a.includes('/'))) {
    for (const a of args) {
      const [kind, name] = a.split('/', 2);
      if (!name) throw new CliError(`error: arguments in resource/name form must have a single resource and name: "${a}"`);
      const res = resourceOrDie(kind);
      out.push({ res, name: checkName(res, name) });
    }
    return out;
  }
  if (args.some((a) => a.includes('/'))) throw new CliError('error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form');
  const [kind, ...names] = args;
  if (names.length === 0) throw new CliError(`error: you must specify the name of the ${kind} to act on`);
  const res = resourceOrDie(kind);
  for (const name of names) out.push({ res, name: checkName(res, name) });
  return out;
}

function count(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new CliError(`error: invalid argument "${value}" for "${flag}" flag: must be a non-negative integer`);
  return Number(value);
}

export function registerScale(program: Command): void {
  program
    .command('scale')
    .description('Set the replica count of a Deployment or ReplicaSet: scale deploy/web --replicas 5')
    .argument('<targets...>', 'KIND/NAME, or KIND NAME...')
    .requiredOption('--replicas <n>', 'the new number of replicas')
    .option('--current-replicas <n>', 'precondition: only scale if the current count is this')
    .action((targets: string[], _o: unknown, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<ScaleOptions>();
        const replicas = count(opts.replicas, '--replicas')!;
        const current = count(opts.currentReplicas, '--current-replicas');
        const { client, namespace } = cliContext(opts);
        let failed = false;
        for (const { res, name } of parseTargets(targets)) {
          if (!res.subresources.includes('scale')) throw new CliError(`error: cannot scale ${res.plural}: only deployments and replicasets have a scale subresource`);
          const ns = res.namespaced ? namespace : undefined;
          if (current !== undefined) {
            const scale = await client.get<Scale>(res, ns, name, 'scale');
            const now = scale.spec.replicas ?? 0;
            if (now !== current) {
              process.stderr.write(`error: Expected replicas to be ${current}, was ${now}\n`);
              failed = true;
              continue;
            }
            // The read is the precondition: a change in between fails with a conflict instead of scaling blind.
            await client.patch(res, ns, name, 'merge', { metadata: { resourceVersion: scale.metadata.resourceVersion }, spec: { replicas } }, { subresource: 'scale' });
          } else {
            await client.patch(res, ns, name, 'merge', { spec: { replicas } }, { subresource: 'scale' });
          }
          process.stdout.write(`${qualifiedSingular(res)}/${name} scaled\n`);
        }
        return failed ? 1 : 0;
      }),
    );
}
