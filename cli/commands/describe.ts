// `kubelite describe KIND NAME`: the object, what it owns or routes to, and its Events.

import type { Command } from 'commander';
import type { Endpoints, Event, KObject, ReplicaSet } from '../../src/api/types.js';
import { R } from '../../src/api/resources.js';
import { isStatusError } from '../../src/api/errors.js';
import { checkName, cliContext, resourceOrDie, run, type GlobalOptions, splitKindName } from '../context.js';
import { describe } from '../describe.js';
import { describeIngress } from '../../src/ingress/describe.js';
import type { Endpoints as EP, Service } from '../../src/api/types.js';

export function registerDescribe(program: Command): void {
  program
    .command('describe')
    .description('Show an object in detail with its Events: describe pod web-1, describe svc my-backend')
    .argument('<kind>', 'kind or short name, or KIND/NAME')
    .argument('[names...]', 'names (default: every object of the kind in the namespace)')
    .option('-l, --selector <selector>', 'describe objects matching this label selector')
    .action((kind: string, names: string[], _o: unknown, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<GlobalOptions & { selector?: string }>();
        ({ kind, names } = splitKindName(kind, names));
        const res = resourceOrDie(kind);
        for (const n of names) checkName(res, n);
        const { client, namespace } = cliContext(opts);
        const ns = res.namespaced ? namespace : undefined;
        const objs: KObject[] = names.length ? await Promise.all(names.map((n) => client.get(res, ns, n))) : (await client.list(res, { namespace: ns, labelSelector: opts.selector })).items;
        const out: string[] = [];
        for (const o of objs) {
          o.kind ??= res.kind;
          const events = (await client.list<Event>(R.events, { namespace: o.metadata.namespace, fieldSelector: `involvedObject.uid=${o.metadata.uid}` })).items;
          let replicaSets: ReplicaSet[] | undefined;
          let endpoints: Endpoints | undefined;
          if (res === R.deployments) replicaSets = (await client.list<ReplicaSet>(R.replicasets, { namespace: ns })).items;
          if (res === R.services) {
            try {
              endpoints = await client.get<Endpoints>(R.endpoints, ns, o.metadata.name!);
            } catch (err) {
              if (!isStatusError(err, 'NotFound')) throw err;
            }
          }
          if (res === R.ingresses) {
            // kubectl's layout, with each backend's endpoints.
            const svcs = (await client.list<Service>(R.services, { namespace: o.metadata.namespace })).items;
            const eps = (await client.list<EP>(R.endpoints, { namespace: o.metadata.namespace })).items;
            const find = <T extends { metadata: { namespace?: string; name?: string } }>(list: T[], ns: string, name: string) => list.find((x) => x.metadata.namespace === ns && x.metadata.name === name);
            out.push(describeIngress(o as import('../../src/api/types.js').Ingress, { service: (ns, n) => find(svcs, ns, n), endpoints: (ns, n) => find(eps, ns, n) }, events));
            continue;
          }
          out.push(describe(o, events, { replicaSets, endpoints }));
        }
        if (objs.length === 0) process.stderr.write(ns ? `No resources found in ${ns} namespace.\n` : 'No resources found\n');
        process.stdout.write(out.join('\n\n'));
      }),
    );
}
