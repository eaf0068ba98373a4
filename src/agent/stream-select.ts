// Which container a logs or exec request means, and its options, with the API server's and kubelet's
// error messages (kubectl prints them verbatim). Pure: reads the Pod and the query only.

import type { Pod } from '../api/types.js';
import { errors, StatusError } from '../api/errors.js';
import { parseBoolParam } from '../api/query.js';

/** The named container, or the only one; otherwise kubectl's "a container name must be specified". */
export function selectContainer(pod: Pod, requested: string | undefined): string {
  const name = pod.metadata.name ?? '';
  const apps = pod.spec.containers.map((c) => c.name);
  const inits = (pod.spec.initContainers ?? []).map((c) => c.name);
  if (!requested) {
    if (apps.length === 1) return apps[0];
    let msg = `a container name must be specified for pod ${name}, choose one of: [${apps.join(' ')}]`;
    if (inits.length) msg += ` or one of the init containers: [${inits.join(' ')}]`;
    throw errors.badRequest(msg);
  }
  if (!apps.includes(requested) && !inits.includes(requested)) throw errors.badRequest(`container ${requested} is not valid for pod ${name}`);
  return requested;
}

/** The Docker id (without `docker://`) whose logs to read, from the Pod's status as the kubelet does. */
export function logContainerId(pod: Pod, container: string, previous: boolean): string {
  const name = pod.metadata.name ?? '';
  const st = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((s) => s.name === container);
  const strip = (id: string | undefined) => (id ?? '').replace(/^[a-z]+:\/\//, '');
  if (previous) {
    const id = strip(st?.lastState?.terminated?.containerID);
    if (!id) throw errors.badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    return id;
  }
  if (!st) throw errors.badRequest(`container "${container}" in pod "${name}" is waiting to start: ContainerCreating`);
  if (st.state?.running || st.state?.terminated) {
    const id = strip(st.containerID ?? st.state.terminated?.containerID);
    if (id) return id;
  }
  const last = strip(st.lastState?.terminated?.containerID);
  if (last) return last;
  const reason = st.state?.waiting?.reason ?? 'ContainerCreating';
  const why = reason === 'ErrImagePull' || reason === 'ImagePullBackOff' ? "image can't be pulled" : reason;
  throw errors.badRequest(`container "${container}" in pod "${name}" is waiting to start: ${why}`);
}

export interface LogOptions {
  container?: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  /** Unix seconds: only lines after this. */
  since?: number;
  limitBytes?: number;
}

function bool(name: string, v: string | undefined): boolean {
  return parseBoolParam(name, v) ?? false;
}

function intParam(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw errors.badRequest(`${name}: Invalid value: ${JSON.stringify(v)}: must be ${min > 0 ? 'greater than 0' : 'greater than or equal to 0'}`);
  return n;
}

export function parseLogQuery(q: Record<string, string | undefined>, now = Date.now()): LogOptions {
  const sinceSeconds = intParam('sinceSeconds', q.sinceSeconds, 1);
  const opts: LogOptions = {
    container: q.container || undefined,
    follow: bool('follow', q.follow),
    previous: bool('previous', q.previous),
    timestamps: bool('timestamps', q.timestamps),
    tailLines: intParam('tailLines', q.tailLines, 0),
    limitBytes: intParam('limitBytes', q.limitBytes, 1),
  };
  if (sinceSeconds !== undefined && q.sinceTime) throw errors.badRequest('at most one of `sinceTime` or `sinceSeconds` may be specified');
  if (sinceSeconds !== undefined) opts.since = Math.floor(now / 1000) - sinceSeconds;
  if (q.sinceTime) {
    const t = Date.parse(q.sinceTime);
    if (!Number.isFinite(t)) throw errors.badRequest(`sinceTime: Invalid value: ${JSON.stringify(q.sinceTime)}: must be an RFC3339 time`);
    opts.since = Math.floor(t / 1000);
  }
  return opts;
}

/** Where a stream request for this Pod cannot go at all. */
export function checkStreamable(pod: Pod, what: 'exec' | 'log'): void {
  if (!pod.spec.nodeName) throw errors.badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
  if (what === 'exec' && (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed')) {
    throw errors.badRequest(`cannot exec into a container in a completed pod; current phase is ${pod.status.phase}`);
  }
}

export function statusHttpResponse(err: unknown): string {
  const st = err instanceof StatusError ? err.status : errors.internal((err as Error)?.message ?? String(err)).status;
  const body = JSON.stringify(st);
  const phrases: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 500: 'Internal Server Error', 503: 'Service Unavailable' };
  return `HTTP/1.1 ${st.code} ${phrases[st.code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
