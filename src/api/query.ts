// Query parameters as Kubernetes reads them. Booleans follow Go's strconv.ParseBool (what the API
// server's parameter codec accepts: Debian's python3-kubernetes sends `watch=True`), integers are
// decimal, and a value that is none of these is a 400 naming the parameter instead of a silent default.
// Pure: shared by the API server and the agent's stream subresources (logs, exec, attach).

import { errors, StatusError } from './errors.js';

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** The boolean query parameters of Kubernetes' ListOptions, DeleteOptions, PatchOptions, PodLogOptions, PodExecOptions and PodAttachOptions. */
export const BOOL_PARAMS: readonly string[] = [
  'watch', 'allowWatchBookmarks', 'sendInitialEvents', 'pretty', 'force', 'orphanDependents', 'export', 'exact',
  'follow', 'previous', 'timestamps', 'insecureSkipTLSVerifyBackend', 'stdin', 'stdout', 'stderr', 'tty',
  'ignoreStoreReadErrorWithClusterBreakingPotential',
];

/** The integer query parameters the server reads, with the least value each accepts. */
export const INT_PARAMS: Readonly<Record<string, number>> = {
  timeoutSeconds: 0,
  gracePeriodSeconds: 0,
  limit: 0,
  tailLines: 0,
  sinceSeconds: 1,
  limitBytes: 1,
};

/**
 * Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False. Absent is `undefined`; a bare
 * `?watch` (empty value) is true, as the API server reads a parameter that is present; anything else
 * is a 400 naming the parameter.
 */
export function parseBoolParam(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === '' || TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw errors.badRequest(`${name}: Invalid value: ${JSON.stringify(value)}: must be a boolean (true or false)`, [
    { reason: 'FieldValueInvalid', field: name, message: `Invalid value: ${JSON.stringify(value)}: must be a boolean (true or false)` },
  ]);
}

/** A decimal integer within [min, 2^31-1], or undefined when absent/empty; otherwise a 400 naming the parameter. */
export function parseIntParam(name: string, value: string | undefined, min = 0, max = 2 ** 31 - 1): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = /^-?[0-9]{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const rule = min > 0 ? `must be an integer greater than ${min - 1}` : 'must be a non-negative integer';
    throw errors.badRequest(`${name}: Invalid value: ${JSON.stringify(value)}: ${rule}${n > max ? ` no greater than ${max}` : ''}`, [
      { reason: 'FieldValueInvalid', field: name, message: `Invalid value: ${JSON.stringify(value)}: ${rule}` },
    ]);
  }
  return n;
}

/** A resourceVersion as a client may send it: empty, or a decimal integer this server handed out. */
export function checkResourceVersionParam(value: string | undefined): void {
  if (value === undefined || value === '') return;
  if (!/^(0|[1-9][0-9]{0,15})$/.test(value)) {
    throw errors.badRequest(`resourceVersion: Invalid value: ${JSON.stringify(value)}: must be a resourceVersion returned by this server (a decimal integer)`, [
      { reason: 'FieldValueInvalid', field: 'resourceVersion', message: `Invalid value: ${JSON.stringify(value)}: must be a decimal integer` },
    ]);
  }
}

/** First value of a parameter from a Node/express query object (repeated parameters come as arrays). */
export function firstValue(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.length > 0) return String(v[0]);
  return undefined;
}

/**
 * Checks every boolean and integer parameter a request carries, whichever handler reads it later: a
 * garbage `watch=yes` is refused up front rather than read as false somewhere.
 */
export function checkQuery(query: Record<string, unknown>): void {
  for (const name of BOOL_PARAMS) parseBoolParam(name, firstValue(query[name]));
  for (const [name, min] of Object.entries(INT_PARAMS)) parseIntParam(name, firstValue(query[name]), min);
  checkResourceVersionParam(firstValue(query.resourceVersion));
}

/** Node's query parser stops at 1,000 parameters; more are refused rather than silently dropped. */
export const MAX_QUERY_PARAMS = 1000;

/** 431 (with a Status) for a query string of more than MAX_QUERY_PARAMS parameters. */
export function checkQueryCount(rawQuery: string): void {
  if (!rawQuery) return;
  let n = 1;
  for (let i = 0; i < rawQuery.length; i++) if (rawQuery.charCodeAt(i) === 38 /* & */) n++;
  if (n > MAX_QUERY_PARAMS) {
    throw new StatusError({ code: 431, reason: 'RequestHeaderFieldsTooLarge', message: `too many query parameters: ${n} (at most ${MAX_QUERY_PARAMS})` });
  }
}
