// `kubelite delete -f FILE | KIND NAME...`: like kubectl, waits until the objects are really gone
// (graceful Pod termination included) unless --wait=false.

import type { Command } from 'commander';
import type { KObject } from '../../src/api/types.js';
import { isStatusError } from '../../src/api/errors.js';
import type { ResourceInfo } from '../../src/api/resources.js';
import { formatManifestError, readManifests } from '../../src/client/manifests.js';
import type { HttpClient } from '../../src/client/http-client.js';
import { checkName, cliContext, errorLine, resourceOrDie, run, type GlobalOptions, splitKindName } from '../context.js';
import { target } from './apply.js';
import { qualifiedPlural } from '../../src/api/resources.js';

interface DeleteOptions extends GlobalOptions {
  filename?: string[];
  wait?: boolean;
  gracePeriod?: string;
  force?: boolean;
  all?: boolean;
  selector?: string;
  ignoreNotFound?: boolean;
  cascade?: string;
  timeout?: string;
}

async function waitGone(client: HttpClient, res: ResourceInfo, ns: string | undefined, name: string, uid: string | undefined, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    try {
      const obj = await client.get(res, ns, name);
      if (uid && obj.metadata.uid !== uid) return true;
    } catch (err) {
      if (isStatusError(err, 'NotFound')) return true;
      throw err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

export function registerDelete(program: Command): void {
  program
    .command('delete')
    .description('Delete objects by file or by kind and name: delete -f app.yaml, delete deploy web, delete po -l app=web')
    .argument('[kind]', 'kind or short name, or KIND/NAME')
    .argument('[names...]', 'object names')
    .option('-f, --filename <path...>', 'manifest file, directory or -')
    .option('-l, --selector <selector>', 'delete every object matching this label selector')
    .option('--all', 'delete every object of the kind in the namespace')
    .option('--grace-period <seconds>', 'seconds a Pod gets to stop (0 with --force: immediately)')
    .option('--force', 'with --grace-period=0: remove at once')
    .option('--cascade <mode>', 'background | foreground | orphan', 'background')
    .option('--ignore-not-found', 'treat a missing object as deleted')
    .option('--no-wait', 'return without waiting for the objects to be gone')
    .option('--timeout <seconds>', 'how long to wait', '120')
    .action((kind: string | undefined, names: string[], _o: unknown, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<DeleteOptions>();
        const { client, namespace, explicitNamespace } = cliContext(opts);
        const targets: { res: ResourceInfo; ns?: string; name: string }[] = [];
        let failed = false;
        if (opts.filename) {
          const { manifests, errors } = readManifests(opts.filename);
          for (const e of errors) process.stderr.write(formatManifestError(e) + '\n');
          failed = errors.length > 0;
          for (const m of manifests) {
            try {
              const t = target(m.object, namespace, explicitNamespace);
              targets.push({ res: t.res, ns: t.namespace, name: m.object.metadata.name! });
            } catch (err) {
              failed = true;
              process.stderr.write(errorLine(err) + '\n');
            }
          }
        } else {
          if (!kind) throw new Error('You must provide one or more resources by argument or filename (delete KIND NAME or delete -f FILE).');
          ({ kind, names } = splitKindName(kind, names));
          const res = resourceOrDie(kind);
          for (const n of names) checkName(res, n);
          const ns = res.namespaced ? namespace : undefined;
          if (opts.all || opts.selector) {
            const list = await client.list(res, { namespace: ns, labelSelector: opts.selector });
            for (const o of list.items) targets.push({ res, ns, name: o.metadata.name! });
            if (list.items.length === 0) process.stderr.write(ns ? `No resources found in ${ns} namespace.\n` : 'No resources found\n');
          } else {
            if (names.length === 0) throw new Error(`resource(s) were provided, but no name was specified`);
            for (const name of names) targets.push({ res, ns, name });
          }
        }
        const grace = opts.gracePeriod !== undefined ? Number(opts.gracePeriod) : opts.force ? 0 : undefined;
        const policy = ({ background: 'Background', foreground: 'Foreground', orphan: 'Orphan' } as const)[opts.cascade ?? 'background'];
        if (!policy) throw new Error(`invalid --cascade value ${JSON.stringify(opts.cascade)}: background, foreground or orphan`);
        const pending: { res: ResourceInfo; ns?: string; name: string; uid?: string }[] = [];
        for (const t of targets) {
          try {
            const out = (await client.delete(t.res, t.ns, t.name, { gracePeriodSeconds: grace, propagationPolicy: policy })) as KObject;
            process.stdout.write(`${t.res.group ? `${t.res.singular}.${t.res.group}` : t.res.singular} "${t.name}" deleted${t.ns && explicitNamespace ? ` from ${t.ns} namespace` : ''}\n`);
            pending.push({ ...t, uid: out?.metadata?.uid });
          } catch (err) {
            if (opts.ignoreNotFound && isStatusError(err, 'NotFound')) continue;
            failed = true;
            process.stderr.write(errorLine(err) + '\n');
          }
        }
        if (opts.wait !== false) {
          const deadline = Date.now() + Number(opts.timeout ?? 120) * 1000;
          for (const p of pending) {
            if (!(await waitGone(client, p.res, p.ns, p.name, p.uid, deadline))) {
              failed = true;
              process.stderr.write(`error: timed out waiting for ${qualifiedPlural(p.res)} "${p.name}" to be deleted\n`);
            }
          }
        }
        return failed ? 1 : 0;
      }),
    );
}
