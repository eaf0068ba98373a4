// `kubelite rollout status|restart|undo|history|pause|resume deploy/NAME`: kubectl's rollout commands,
// with kubectl's messages and exit codes, done through the API as kubectl 1.32 does them (undo is a
// client-side JSON patch of the template, restart a template annotation).

import type { Command } from 'commander';
import YAML from 'yaml';
import type { Deployment } from '../../src/api/types.js';
import { R, qualifiedPlural, qualifiedSingular, type ResourceInfo } from '../../src/api/resources.js';
import type { HttpClient } from '../../src/client/http-client.js';
import type { Watch } from '../../src/client/types.js';
import { deploymentHistory, deploymentRolloutStatus, restartDeployment, rollbackDeployment, RolloutError, setPaused } from '../../src/controllers/rollout.js';
import { CliError, cliContext, run, type GlobalOptions } from '../context.js';
import { parseTargets } from './scale.js';

interface StatusOptions extends GlobalOptions {
  timeout?: string;
  watch?: boolean;
  revision?: string;
}

/** Go-style durations as kubectl takes them: `90s`, `5m`, `1m30s`, `0`; a bare number is seconds. */
export function parseDuration(s: string): number {
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = s;
  const re = /^(\d+(?:\.\d+)?)(ms|s|m|h)/;
  if (!rest) throw new CliError(`error: invalid duration ""`);
  while (rest) {
    const m = re.exec(rest);
    if (!m) throw new CliError(`error: invalid argument "${s}" for "--timeout" flag: time: invalid duration "${s}"`);
    total += Number(m[1]) * units[m[2]];
    rest = rest.slice(m[0].length);
  }
  return total;
}

function deploymentsOnly(targets: string[]): { res: ResourceInfo; name: string }[] {
  const out = parseTargets(targets);
  for (const t of out) if (t.res !== R.deployments) throw new CliError(`error: no rollout support for ${qualifiedPlural(t.res)}: only deployments can be rolled out`);
  return out;
}

function revisionFlag(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new CliError(`error: invalid argument "${v}" for "${flag}" flag: must be a non-negative integer`);
  return Number(v);
}

function rolloutError(err: unknown): never {
  if (err instanceof RolloutError) throw new CliError(`error: ${err.message}`);
  throw err;
}

async function status(client: HttpClient, namespace: string, name: string, opts: { timeoutMs: number; watch: boolean; revision?: number }): Promise<number> {
  const deadline = opts.timeoutMs > 0 ? Date.now() + opts.timeoutMs : Infinity;
  let wake: (() => void) | undefined;
  let watch: Watch | undefined;
  let last = '';
  try {
    for (;;) {
      const d = await client.get<Deployment>(R.deployments, namespace, name);
      const st = deploymentRolloutStatus(d, opts.revision);
      if (st.error) throw new CliError(`error: ${st.error}`);
      if (st.message !== last) process.stdout.write(st.message + '\n');
      last = st.message;
      if (st.done || !opts.watch) return 0;
      // Woken by the watch; the poll is only a safety net for a watch that broke.
      watch ??= client.watch(R.deployments, { namespace, fieldSelector: `metadata.name=${name}`, resourceVersion: d.metadata.resourceVersion }, {
        onEvent: () => wake?.(),
        onClose: () => {
          watch = undefined;
        },
      });
      const left = deadline - Date.now();
      if (left <= 0) throw new CliError('error: timed out waiting for the condition');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(1000, left));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    watch?.stop();
  }
}

export function registerRollout(program: Command): void {
  const rollout = program.command('rollout').description('Manage the rollout of a Deployment: status, history, undo, restart, pause, resume');

  rollout
    .command('status')
    .description('Watch a rollout until it completes: rollout status deploy/web')
    .argument('<targets...>', 'deploy/NAME or deploy NAME')
    .option('--timeout <duration>', 'give up after this long (e.g. 90s, 5m; 0 waits forever)', '0')
    .option('-w, --watch', 'watch until the rollout completes (default)', true)
    .option('--no-watch', 'print the current status and exit')
    .option('--revision <n>', 'fail unless the deployment runs this revision')
    .action((targets: string[], _o: unknown, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<StatusOptions>();
        const { client, namespace } = cliContext(opts);
        const timeoutMs = parseDuration(opts.timeout ?? '0');
        for (const t of deploymentsOnly(targets)) {
          const code = await status(client, namespace, t.name, { timeoutMs, watch: opts.watch !== false, revision: revisionFlag(opts.revision, '--revision') });
          if (code !== 0) return code;
        }
        return 0;
      }),
    );

  rollout
    .command('history')
    .description('List the revisions of a Deployment: rollout history deploy/web [--revision N]')
    .argument('<targets...>', 'deploy/NAME or deploy NAME')
    .option('--revision <n>', 'show the pod template of this revision')
    .action((targets: string[], _o: unknown, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<GlobalOptions & { revision?: string }>();
        const { client, namespace } = cliContext(opts);
        const want = revisionFlag(opts.revision, '--revision');
        for (const t of deploymentsOnly(targets)) {
          const { revisions } = await deploymentHistory(client, namespace, t.name);
          const label = `${qualifiedSingular(t.res)}/${t.name}`;
          if (want) {
            const r = revisions.find((x) => x.revision === want);
            if (!r) throw new CliError(`error: unable to find the specified revision`);
            const body = YAML.stringify(r.template).trimEnd().split('\n').map((l) => `  ${l}`).join('\n');
            process.stdout.write(`${label} with revision #${want}\nPod Template:\n${body}\n`);
            continue;
          }
          const rows = [['REVISION', 'CHANGE-CAUSE'], ...revisions.map((r) => [String(r.revision), r.changeCause || '<none>'])];
          const w = Math.max(...rows.map((r) => r[0].length)) + 2;
          process.stdout.write(`${label} \n${rows.map((r) => r[0].padEnd(w) + r[1]).join('\n')}\n\n`);
        }
      }),
    );

  rollout
    .command('undo')
    .description('Roll back to the previous (or a given) revision: rollout undo deploy/web [--to-revision N]')
    .argument('<targets...>', 'deploy/NAME or deploy NAME')
    .option('--to-revision <n>', 'the revision to roll back to (default: the previous one)')
    .action((targets: string[], _o: unknown, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<GlobalOptions & { toRevision?: string }>();
        const { client, namespace } = cliContext(opts);
        const to = revisionFlag(opts.toRevision, '--to-revision');
        for (const t of deploymentsOnly(targets)) {
          const r = await rollbackDeployment(client, namespace, t.name, to).catch(rolloutError);
          const label = `${qualifiedSingular(t.res)}/${t.name}`;
          process.stdout.write(r.kind === 'skipped' ? `${label} ${r.message}\n` : `${label} rolled back\n`);
        }
      }),
    );

  rollout
    .command('restart')
    .description('Replace every pod of a Deployment with a rolling update: rollout restart deploy/web')
    .argument('<targets...>', 'deploy/NAME or deploy NAME')
    .action((targets: string[], _o: unknown, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<GlobalOptions>();
        const { client, namespace } = cliContext(opts);
        for (const t of deploymentsOnly(targets)) {
          await restartDeployment(client, namespace, t.name).catch(rolloutError);
          process.stdout.write(`${qualifiedSingular(t.res)}/${t.name} restarted\n`);
        }
      }),
    );

  for (const [verb, paused] of [['pause', true], ['resume', false]] as const) {
    rollout
      .command(verb)
      .description(paused ? 'Stop rolling out template changes: rollout pause deploy/web' : 'Continue a paused rollout: rollout resume deploy/web')
      .argument('<targets...>', 'deploy/NAME or deploy NAME')
      .action((targets: string[], _o: unknown, cmd: Command) =>
        run(async () => {
          const opts = cmd.optsWithGlobals<GlobalOptions>();
          const { client, namespace } = cliContext(opts);
          let failed = false;
          for (const t of deploymentsOnly(targets)) {
            if (await setPaused(client, namespace, t.name, paused)) {
              process.stdout.write(`${qualifiedSingular(t.res)}/${t.name} ${paused ? 'paused' : 'resumed'}\n`);
            } else {
              process.stderr.write(`error: ${qualifiedPlural(t.res)} "${t.name}" ${paused ? 'is already paused' : 'is not paused'}\n`);
              failed = true;
            }
          }
          return failed ? 1 : 0;
        }),
      );
  }
}
