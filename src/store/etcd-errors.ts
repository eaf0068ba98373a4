// What an error from the etcd client means for a request: it never left this process (safe to send
// again, to any member), its outcome is unknown (the connection dropped or the deadline passed while
// etcd may have applied it), or it is final. And the Status a client gets for each. Pure.

import { errors, isStatusError, type StatusError } from '../api/errors.js';

export type EtcdFailure = 'unsent' | 'ambiguous' | 'too-large' | 'final';

export function classifyEtcdError(err: unknown): EtcdFailure {
  const e = err as { name?: string; message?: string } | null;
  const text = `${e?.name ?? ''}: ${e?.message ?? String(err)}`;
  if (/request is too large|message larger than max|RESOURCE_EXHAUSTED/i.test(text)) return 'too-large';
  // Refused before anything was sent: no connection, a member that knows no leader, an open circuit breaker.
  if (/No connection established|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|Name resolution failed|failed to connect|circuit breaker is open|BrokenCircuit|etcdserver: no leader|Connection pool has no hosts|Isolated/i.test(text)) return 'unsent';
  if (/Unavailable|DeadlineExceeded|Deadline exceeded|request timed out|ECONNRESET|EPIPE|Connection dropped|leader changed|Cancelled|Call cancelled|stream removed|GOAWAY|timed out/i.test(text)) return 'ambiguous';
  return 'final';
}

/** The Status for a failed etcd call; `what` names the request and `endpoints` the members tried. */
export function etcdStatusError(err: unknown, what: string, endpoints: string[]): StatusError {
  if (isStatusError(err)) return err;
  const msg = (err as Error)?.message ?? String(err);
  const where = endpoints.join(', ');
  switch (classifyEtcdError(err)) {
    case 'too-large':
      return errors.tooLarge(`etcd refused ${what}: ${msg}`);
    case 'unsent':
      return errors.serviceUnavailable(`etcd is unavailable (${where}): ${what} was not applied: ${msg}`);
    case 'ambiguous':
      return errors.timeout(`etcd did not answer ${what} in time (${where}); it may or may not have been applied: ${msg}`);
    default:
      return errors.internal(`etcd failed ${what} (${where}): ${msg}`);
  }
}
