// `kubelite get KIND [NAME...]`: the server prints the columns (as for kubectl), we align them.

import type { Command } from 'commander';
import type { KList, KObject } from '../../src/api/types.js';
import { resourcePath } from '../../src/client/http-client.js';
import { qualifiedSingular } from '../../src/api/resources.js';
import { checkName, cliContext, resourceOrDie, run, type GlobalOptions, splitKindName } from '../context.js';
import { align, formatObjects, nameOf, tableLines, type TableDoc } from '../print.js';

interface GetOptions extends GlobalOptions {
  allNamespaces?: boolean;
  selector?: string;
  fieldSelector?: string;
  output?: string;
  watch?: boolean;
  showLabels?: boolean;
  headers?: boolean;
}

const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

export function registerGet(program: Command): void {
  program
    .command('get')
    .description('List objects with kubectl\'s columns: kubelite get pods, get svc -A, get deploy/web -o yaml')
    .argument('<kind>', 'kind or short name (po, svc, deploy, rs, ep, ns, no, ing, cm, ...), or KIND/NAME')
    .argument('[names...]', 'object names')
    .option('-A, --all-namespaces', 'list across all namespaces')
    .option('-l, --selector <selector>', 'label selector, e.g. app=web,tier!=db')
    .option('--field-selector <selector>', 'field selector, e.g. status.phase=Running')
    .option('-o, --output <format>', 'wide | yaml | json | name')
    .option('-w, --watch', 'after listing, watch for changes')
    .option('--show-labels', 'add a LABELS column')
    .option('--no-headers', 'omit the header row')
    .action((kind: string, names: string[], _o: unknown, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<GetOptions>();
        if (kind.includes(',')) {
          // kubectl get deploy,svc: one table per kind, names prefixed with the kind.
          const kinds = kind.split(',').filter(Boolean);
          if (names.length || opts.watch) throw new Error('a list of kinds cannot be combined with names or --watch');
          let code = 0;
          for (const [i, k] of kinds.entries()) {
            const r = resourceOrDie(k);
            const { client, namespace } = cliContext(opts);
            const ns = r.namespaced ? (opts.allNamespaces ? undefined : namespace) : undefined;
            const t = (await client.table(r, { namespace: ns, labelSelector: opts.selector })) as unknown as TableDoc;
            if (t.rows.length === 0) continue;
            for (const row of t.rows) row.cells[0] = `${qualifiedSingular(r)}/${row.cells[0]}`;
            const text = align(tableLines(t, { wide: opts.output === 'wide', allNamespaces: !!opts.allNamespaces && r.namespaced, showLabels: opts.showLabels, noHeaders: opts.headers === false })).text;
            process.stdout.write((i > 0 ? '\n' : '') + text);
            code = 0;
          }
          return code;
        }
        ({ kind, names } = splitKindName(kind, names));
        const res = resourceOrDie(kind);
        for (const n of names) checkName(res, n);
        const { client, namespace } = cliContext(opts);
        const ns = res.namespaced ? (opts.allNamespaces ? undefined : namespace) : undefined;
        const format = opts.output ?? '';
        if (!['', 'wide', 'yaml', 'json', 'name'].includes(format)) throw new Error(`unable to match a printer suitable for the output format "${format}", allowed formats are: json,name,wide,yaml`);

        if (format === 'yaml' || format === 'json' || format === 'name') {
          const objs: KObject[] = names.length
            ? await Promise.all(names.map((n) => client.get(res, ns, n)))
            : (await client.list(res, { namespace: ns, labelSelector: opts.selector, fieldSelector: opts.fieldSelector })).items;
          for (const o of objs) {
            o.apiVersion ??= res.apiVersion;
            o.kind ??= res.kind;
          }
          if (format === 'name') process.stdout.write(objs.map((o) => nameOf(res, o)).join('\n') + (objs.length ? '\n' : ''));
          else process.stdout.write(formatObjects(objs, format, names.length === 1));
          return;
        }

        const tableOpts = { wide: format === 'wide', allNamespaces: !!opts.allNamespaces && res.namespaced, showLabels: opts.showLabels, noHeaders: opts.headers === false };
        let rows: TableDoc['rows'] = [];
        let columns: TableDoc['columnDefinitions'] = [];
        let listRV: string | undefined;
        let failed = false;
        if (names.length) {
          for (const n of names) {
            try {
              const t = (await client.table(res, { namespace: ns, name: n })) as unknown as TableDoc;
              columns = t.columnDefinitions;
              rows.push(...t.rows);
            } catch (err) {
              failed = true;
              process.stderr.write(`Error from server (NotFound): ${(err as Error).message}\n`);
            }
          }
        } else {
          const t = (await client.table(res, { namespace: ns, labelSelector: opts.selector, fieldSelector: opts.fieldSelector })) as unknown as TableDoc & KList;
          columns = t.columnDefinitions;
          rows = t.rows;
          listRV = t.metadata?.resourceVersion;
        }
        let widths: number[] | undefined;
        if (rows.length === 0 && !failed && !opts.watch) {
          process.stderr.write(ns ? `No resources found in ${ns} namespace.\n` : 'No resources found\n');
        } else if (rows.length > 0) {
          const out = align(tableLines({ columnDefinitions: columns, rows }, tableOpts));
          widths = out.widths;
          process.stdout.write(out.text);
        }
        if (!opts.watch) return failed ? 1 : 0;

        await new Promise<void>((resolve, reject) => {
          let headerDone = rows.length > 0 || tableOpts.noHeaders;
          const path = resourcePath(res, ns) + `?watch=1&resourceVersion=${encodeURIComponent(listRV ?? '')}` + (opts.selector ? `&labelSelector=${encodeURIComponent(opts.selector)}` : '') + (names.length === 1 ? `&fieldSelector=${encodeURIComponent(`metadata.name=${names[0]}`)}` : '');
          client.stream(path, TABLE_ACCEPT, (line) => {
            const ev = JSON.parse(line) as { type: string; object: TableDoc & { message?: string } };
            if (ev.type === 'ERROR') return new Error(ev.object.message ?? 'watch failed');
            if (ev.object.columnDefinitions?.length) columns = ev.object.columnDefinitions;
            const lines = tableLines({ columnDefinitions: columns, rows: ev.object.rows ?? [] }, { ...tableOpts, noHeaders: headerDone });
            headerDone = true;
            const out = align(lines, widths);
            widths = out.widths;
            process.stdout.write(out.text);
            return undefined;
          }, (err) => (err ? reject(err) : resolve()));
        });
      }),
    );
}
