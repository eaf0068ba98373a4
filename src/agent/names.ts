// Docker names of a Pod's containers, dockershim's scheme: `<prefix>_<container>_<pod>_<ns>_<uid>_<n>`.
// The labels carry the truth; the name only has to be unique and readable in `docker ps`. Every part
// is checked, since names reach the Docker API and a stray `/` or space must never get that far.

import { INFRA_CONTAINER_NAME } from './types.js';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const UID = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const PREFIX = /^[a-z0-9][a-z0-9-]*$/;

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

function check(re: RegExp, what: string, v: string, max = 253): string {
  if (typeof v !== 'string' || v.length > max || !re.test(v)) throw new Error(`invalid ${what} ${JSON.stringify(v)} for a Docker container name`);
  return v;
}

export function containerName(prefix: string, pod: PodRef, container: string, n: number): string {
  check(PREFIX, 'prefix', prefix, 32);
  if (container !== INFRA_CONTAINER_NAME) check(DNS_LABEL, 'container name', container, 63);
  check(DNS_SUBDOMAIN, 'pod name', pod.name);
  check(DNS_LABEL, 'namespace', pod.namespace, 63);
  check(UID, 'pod uid', pod.uid, 64);
  if (!Number.isInteger(n) || n < 0) throw new Error(`invalid attempt number ${n}`);
  return `${prefix}_${container}_${pod.name}_${pod.namespace}_${pod.uid}_${n}`;
}

export function sandboxName(prefix: string, pod: PodRef, attempt: number): string {
  return containerName(prefix, pod, INFRA_CONTAINER_NAME, attempt);
}

/** `ns/name`, the work queue key of a Pod. */
/**
 * The Pod's hostname as the kubelet computes it: spec.hostname or the Pod's name, cut to 63 characters
 * (a DNS label) without a trailing dot or dash.
 */
export function podHostname(pod: { metadata: { name?: string }; spec: { hostname?: string } }): string {
  let h = pod.spec.hostname || pod.metadata.name || 'pod';
  if (h.length > 63) h = h.slice(0, 63);
  return h.replace(/[.-]+$/, '') || 'pod';
}
