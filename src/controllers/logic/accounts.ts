// Pure decisions of the access controllers: the objects every namespace gets (the `default`
// ServiceAccount, the `kube-root-ca.crt` ConfigMap), the rules of an aggregated ClusterRole, the
// `kubernetes` Service and its Endpoints, and what the ServiceAccount admission plugin adds to a Pod.

import type { ClusterRole, ConfigMap, Endpoints, Pod, PolicyRule, Service, ServiceAccount, Volume } from '../../api/types.js';
import { labelSelectorMatcher } from '../../api/selectors.js';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** kube-apiserver's projected token lifetime for the kube-api-access volume (an hour and 7 s, so it is told from a user's). */
export const KUBE_API_ACCESS_EXPIRATION_SECONDS = 3607;
export const KUBERNETES_SERVICE = { namespace: 'default', name: 'kubernetes' } as const;

export function defaultServiceAccount(namespace: string): ServiceAccount {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT_SERVICE_ACCOUNT, namespace } };
}

export function rootCAConfigMap(namespace: string, caPem: string): ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations: { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' } },
    data: { 'ca.crt': caPem },
  };
}

function ruleKey(r: PolicyRule): string {
  return JSON.stringify([r.verbs, r.apiGroups ?? [], r.resources ?? [], r.resourceNames ?? [], r.nonResourceURLs ?? []]);
}

/**
 * The rules an aggregated ClusterRole should hold: those of every ClusterRole a selector matches
 * (itself excluded), each distinct rule once, in the order found (roles sorted by name).
 */
export function aggregatedRules(role: ClusterRole, all: readonly ClusterRole[]): PolicyRule[] {
  const selectors = (role.aggregationRule?.clusterRoleSelectors ?? []).map((s) => labelSelectorMatcher(s));
  const out: PolicyRule[] = [];
  const seen = new Set<string>();
  const sorted = [...all].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
  for (const sel of selectors) {
    for (const other of sorted) {
      if (other.metadata.name === role.metadata.name || !sel(other.metadata.labels)) continue;
      for (const r of other.rules ?? []) {
        const k = ruleKey(r);
        if (seen.has(k)) continue;
        seen.add(k);
        out.push(r);
      }
    }
  }
  return out;
}

export function kubernetesService(clusterIP: string, targetPort: number): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: KUBERNETES_SERVICE.name, namespace: KUBERNETES_SERVICE.namespace, labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      type: 'ClusterIP',
      clusterIP,
      clusterIPs: [clusterIP],
      sessionAffinity: 'None',
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort }],
    },
  } as Service;
}

export function kubernetesEndpoints(ip: string, port: number): Endpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: KUBERNETES_SERVICE.name, namespace: KUBERNETES_SERVICE.namespace, labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip }], ports: [{ name: 'https', port, protocol: 'TCP' }] }],
  };
}

/** Whether a Pod gets the API token mounted: the Pod's say, else its ServiceAccount's, else yes. */
export function shouldAutomount(pod: Pod, sa: ServiceAccount | undefined): boolean {
  const own = pod.spec.automountServiceAccountToken;
  if (own !== undefined) return own;
  if (sa?.automountServiceAccountToken !== undefined) return sa.automountServiceAccountToken;
  return true;
}

/** The projected volume kube-apiserver adds: a bound token, the cluster CA and the namespace. */
export function kubeAPIAccessVolume(name: string): Volume {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: KUBE_API_ACCESS_EXPIRATION_SECONDS, path: 'token' } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

/**
 * The ServiceAccount admission plugin's changes to a new Pod, in place: serviceAccountName defaulted,
 * the SA's imagePullSecrets when the Pod has none, and (when automounting) the kube-api-access volume
 * mounted read-only at the well-known path in every container that has nothing there yet.
 * `suffix` names the volume (random in the server, fixed in tests).
 */
export function admitPodServiceAccount(pod: Pod, sa: ServiceAccount | undefined, suffix: string): void {
  const spec = pod.spec;
  spec.serviceAccountName ||= DEFAULT_SERVICE_ACCOUNT;
  spec.serviceAccount = spec.serviceAccountName;
  if (!spec.imagePullSecrets?.length && sa?.imagePullSecrets?.length) spec.imagePullSecrets = sa.imagePullSecrets.map((s) => ({ name: s.name }));
  if (!shouldAutomount(pod, sa)) return;
  const containers = [...(spec.initContainers ?? []), ...spec.containers];
  const needing = containers.filter((c) => !(c.volumeMounts ?? []).some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH));
  if (needing.length === 0) return;
  const volumes = spec.volumes ?? [];
  let name = `kube-api-access-${suffix}`;
  for (let i = 2; volumes.some((v) => v.name === name); i++) name = `kube-api-access-${suffix}${i}`;
  spec.volumes = [...volumes, kubeAPIAccessVolume(name)];
  for (const c of needing) c.volumeMounts = [...(c.volumeMounts ?? []), { name, mountPath: SERVICE_ACCOUNT_MOUNT_PATH, readOnly: true }];
}
