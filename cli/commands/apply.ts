// `kubelite apply -f`: kubectl's client-side apply — create, or a three-way strategic merge patch
// against the last-applied-configuration annotation — so kubectl and kubelite can take turns on the
// same objects. Each object succeeds or fails on its own; any failure makes the exit code 1.

import type { Command } from 'commander';
import type { KObject } from '../../src/api/types.js';
import { byKind, servedKinds, type ResourceInfo } from '../../src/api/resources.js';
import { isStatusError } from '../../src/api/errors.js';
import { threeWayMergePatch } from '../../src/api/patch/index.js';
import { foldStringData } from '../../src/api/secrets.js';
import { formatManifestError, readManifests } from '../../src/client/manifests.js';
import type { HttpClient } from '../../src/client/http-client.js';
import { cliContext, CliError, errorLine, printWarnings, run, type GlobalOptions } from '../context.js';
import { nameOf } from '../print.js';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** For Secrets: the data keys the last apply set (names only), standing in for the values left out of LAST_APPLIED. */
export const LAST_APPLIED_SECRET_KEYS = 'kubelite.io/last-applied-secret-keys';

function isSecret(res: ResourceInfo): boolean {
  return res.group === '' && res.kind === 'Secret';
}

/**
 * The annotated object and the configuration to remember for it. A Secret's configuration keeps no
 * values (kubectl's known leak: `get -o yaml` would show them): its data keys are remembered by name
 * in LAST_APPLIED_SECRET_KEYS instead, which is all a three-way merge needs from the last
 * configuration (it only decides deletions; values come from the manifest and the live object).
 */
export function annotateForApply(res: ResourceInfo, obj: KObject): KObject {
  const modified: KObject = JSON.parse(JSON.stringify(isSecret(res) ? foldStringData(obj) : obj));
  const { [LAST_APPLIED]: _drop, [LAST_APPLIED_SECRET_KEYS]: _keys, ...annotations } = modified.metadata.annotations ?? {};
  modified.metadata.annotations = { ...annotations };
  let recorded: KObject = modified;
  if (isSecret(res)) {
    const { data, ...withoutData } = modified as KObject & { data?: Record<string, unknown> };
    recorded = withoutData as KObject;
    modified.metadata.annotations[LAST_APPLIED_SECRET_KEYS] = Object.keys(data ?? {}).sort().join(',');
  }
  modified.metadata.annotations[LAST_APPLIED] = JSON.stringify(recorded) + '\n';
  return modified;
}

/** The last applied configuration of `current`, with a Secret's remembered keys as placeholder data. */
export function lastApplied(res: ResourceInfo, current: KObject): KObject | undefined {
  const lastText = current.metadata.annotations?.[LAST_APPLIED];
  let original: KObject | undefined;
  try {
    original = lastText ? (JSON.parse(lastText) as KObject) : undefined;
  } catch {
    original = undefined;
  }
  const keys = current.metadata.annotations?.[LAST_APPLIED_SECRET_KEYS];
  if (original && isSecret(res) && typeof keys === 'string') {
    // Values are irrelevant here: the three-way merge takes only deletions (keys no longer applied) from it.
    const data: Record<string, string> = {};
    for (const k of keys.split(',').filter(Boolean)) data[k] = '';
    (original as KObject & { data?: Record<string, string> }).data = data;
  }
  return original;
}

interface ApplyOptions extends GlobalOptions {
  filename: string[];
  serverSide?: boolean;
  forceConflicts?: boolean;
  fieldManager?: string;
  dryRun?: string;
}

/** Resource and namespace for a manifest object, or a one-line reason it cannot be sent. */
export function target(obj: KObject, cliNamespace: string, explicit: boolean): { res: ResourceInfo; namespace?: string } {
  const res = byKind(obj.apiVersion, obj.kind);
  if (!res) throw new CliError(`error: no matches for kind "${obj.kind}" in version "${obj.apiVersion}" (kinds served: ${servedKinds()})`);
  if (!res.namespaced) return { res };
  const own = obj.metadata?.namespace;
  if (own && explicit && own !== cliNamespace) {
    throw new CliError(`the namespace from the provided object "${own}" does not match the namespace "${cliNamespace}". You must pass '--namespace=${own}' to perform this operation.`);
  }
  return { res, namespace: own ?? cliNamespace };
}

function isEmptyPatch(p: unknown): boolean {
  return p === undefined || p === null || (typeof p === 'object' && Object.keys(p as object).length === 0);
}

export async function applyOne(client: HttpClient, obj: KObject, res: ResourceInfo, namespace: string | undefined, opts: { serverSide?: boolean; force?: boolean; fieldManager?: string }): Promise<string> {
  obj.metadata = { ...obj.metadata, ...(namespace ? { namespace } : {}) };
  const name = obj.metadata.name;
  if (!name) throw new CliError(`error: ${res.kind} has no metadata.name (generateName is not supported by apply; use create)`);
  if (opts.serverSide) {
    await client.patch(res, namespace, name, 'apply', obj, { fieldManager: opts.fieldManager ?? 'kubectl', force: opts.force, fieldValidation: 'Strict' });
    return 'serverside-applied';
  }
  const annotated = annotateForApply(res, obj);
  let current: KObject | undefined;
  try {
    current = await client.get(res, namespace, name);
  } catch (err) {
    if (!isStatusError(err, 'NotFound')) throw err;
  }
  if (!current) {
    await client.create(res, annotated, { fieldManager: 'kubectl-client-side-apply', fieldValidation: 'Strict' });
    return 'created';
  }
  const patch = threeWayMergePatch(res, lastApplied(res, current), annotated, current);
  if (isEmptyPatch(patch)) return 'unchanged';
  await client.patch(res, namespace, name, 'strategic', patch, { fieldManager: 'kubectl-client-side-apply', fieldValidation: 'Strict' });
  return 'configured';
}

export function registerApply(program: Command): void {
  program
    .command('apply')
    .description('Create or update objects from manifests (files, directories recursively, or - for stdin)')
    .requiredOption('-f, --filename <path...>', 'manifest file, directory or -')
    .option('--server-side', 'server-side apply (PATCH application/apply-patch+yaml)')
    .option('--force-conflicts', 'with --server-side: take over fields other managers own')
    .option('--field-manager <name>', 'field manager for --server-side', 'kubectl')
    .action((_o: unknown, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<ApplyOptions>();
        const { manifests, errors } = readManifests(opts.filename);
        let failed = errors.length > 0;
        for (const e of errors) process.stderr.write(formatManifestError(e) + '\n');
        if (manifests.length === 0) return 1;
        const { client, namespace, explicitNamespace } = cliContext(opts);
        for (const m of manifests) {
          try {
            const t = target(m.object, namespace, explicitNamespace);
            const verb = await applyOne(client, m.object, t.res, t.namespace, { serverSide: opts.serverSide, force: opts.forceConflicts, fieldManager: opts.fieldManager });
            printWarnings(client);
            process.stdout.write(`${nameOf(t.res, m.object)} ${verb}\n`);
          } catch (err) {
            failed = true;
            printWarnings(client);
            process.stderr.write(`${errorLine(err)} (${m.source}, document ${m.document}, line ${m.line})\n`);
          }
        }
        return failed ? 1 : 0;
      }),
    );
}
