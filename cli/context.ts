// What every client command shares: the kubeconfig connection, error printing in kubectl's words,
// and the exit code convention (0 ok, 1 any failure).

import { HttpClient } from '../src/client/http-client.js';
import { loadConnection, resolveKubeconfigPath } from '../src/client/kubeconfig.js';
import { isStatusError } from '../src/api/errors.js';
import { lookupResource, servedKinds, type ResourceInfo } from '../src/api/resources.js';
import { isDNS1123Label, isDNS1123Subdomain } from '../src/api/names.js';

export interface GlobalOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export interface CliContext {
  client: HttpClient;
  /** The namespace from -n, else the kubeconfig context's, else default. */
  namespace: string;
  explicitNamespace: boolean;
}

export function cliContext(global: GlobalOptions): CliContext {
  // Checked before anything is read or sent: `-n '$(touch pwned)'` is an error, not "No resources found in $(touch pwned)".
  if (global.namespace !== undefined) checkNamespace(global.namespace);
  const conn = loadConnection(resolveKubeconfigPath(global.kubeconfig), global.context);
  const namespace = checkNamespace(global.namespace ?? conn.namespace ?? 'default');
  return { client: new HttpClient(conn), namespace, explicitNamespace: global.namespace !== undefined };
}

/** A namespace as Kubernetes names them (an RFC 1123 label), or the CLI error naming the rule. */
export function checkNamespace(ns: string): string {
  const problems = isDNS1123Label(ns);
  if (problems.length) throw new CliError(`error: invalid namespace ${JSON.stringify(ns)}: ${problems.join('; ')}`);
  return ns;
}

/**
 * A name given on the command line: Namespaces are RFC 1123 labels, everything else an RFC 1123
 * subdomain (the loosest rule any served kind uses), or the CLI error naming the rule.
 */
export function checkName(res: ResourceInfo, name: string): string {
  const problems = res.kind === 'Namespace' ? isDNS1123Label(name) : isDNS1123Subdomain(name);
  if (problems.length) throw new CliError(`error: invalid ${res.singular} name ${JSON.stringify(name)}: ${problems.join('; ')}`);
  return name;
}

export function resourceOrDie(typed: string): ResourceInfo {
  const res = lookupResource(typed);
  if (!res) throw new CliError(`error: the server doesn't have a resource type "${typed}" (kinds served: ${servedKinds()})`);
  return res;
}

/** An error whose message is already the whole line to print. */
export class CliError extends Error {}

export function errorLine(err: unknown): string {
  if (isStatusError(err)) return `Error from server${err.status.reason ? ` (${err.status.reason})` : ''}: ${err.status.message}`;
  if (err instanceof CliError) return err.message;
  return `error: ${(err as Error)?.message ?? String(err)}`;
}

/** Runs a command body, prints failures kubectl-style, sets the exit code. */
export async function run(body: () => Promise<void | number>): Promise<void> {
  try {
    const code = await body();
    if (typeof code === 'number' && code !== 0) process.exitCode = code;
  } catch (err) {
    process.stderr.write(errorLine(err) + '\n');
    process.exitCode = 1;
  }
}

export function printWarnings(client: HttpClient): void {
  for (const w of client.warnings.splice(0)) process.stderr.write(`Warning: ${w}\n`);
}

/** `deploy/web` -> kind `deploy` and `web` first among the names, as kubectl accepts both forms. */
export function splitKindName(kind: string, names: string[]): { kind: string; names: string[] } {
  if (!kind.includes('/')) return { kind, names };
  const [k, n] = kind.split('/', 2);
  return { kind: k, names: [n, ...names] };
}
