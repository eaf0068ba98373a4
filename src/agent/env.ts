// A container's environment as the kubelet builds it (pkg/kubelet/kubelet_pods.go makeEnvironmentVariables):
// envFrom first, then env, later names overriding earlier ones; `$(VAR)` references expanded against
// what is defined so far; fieldRef, resourceFieldRef, configMapKeyRef and secretKeyRef resolved from
// the objects the caller hands in. A missing reference is a ConfigError, which the Pod shows as
// `CreateContainerConfigError: configmap "x" not found`, worded as Kubernetes words it.

import type { ConfigMap, Container, EnvVar, Pod, Secret } from '../api/types.js';
import { parseBytes, parseCPUMillis, parseQuantity } from '../api/quantity.js';

export class ConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
}

export interface EnvSources {
  configMap(name: string): ConfigMap | undefined;
  secret(name: string): Secret | undefined;
  podIP?: string;
  hostIP?: string;
  /** What a resourceFieldRef without a limit resolves to (the node's allocatable). */
  nodeAllocatable: { cpuMillis: number; memoryBytes: number };
  /** Service links (service-env.ts): `$(VAR)` may refer to them; they are appended when not defined. */
  serviceEnv?: [string, string][];
}

/**
 * Kubernetes' `$(VAR)` expansion (third_party/forked/golang/expansion): `$$` is a literal `$`, a
 * reference to an undefined name stays as written, anything else after `$` is kept.
 */
export function expandVars(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      const v = name ? lookup(name) : undefined;
      out += v ?? `$(${name})`;
      i = close;
      continue;
    }
    out += ch;
  }
  return out;
}

function decodeSecret(v: string): string {
  return Buffer.from(v, 'base64').toString('utf8');
}

/** `metadata.labels['app']` -> ['labels', 'app'] */
function subscript(path: string, field: 'labels' | 'annotations'): string | undefined {
  const m = new RegExp(`^metadata\\.${field}\\['(.*)'\\]$`).exec(path);
  return m ? m[1] : undefined;
}

export function fieldRefValue(pod: Pod, fieldPath: string, src: Pick<EnvSources, 'podIP' | 'hostIP'>): string {
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? 'default';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? '';
    case 'status.podIP':
    case 'status.podIPs':
      return src.podIP ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return src.hostIP ?? '';
  }
  const label = subscript(fieldPath, 'labels');
  if (label !== undefined) return pod.metadata.labels?.[label] ?? '';
  const ann = subscript(fieldPath, 'annotations');
  if (ann !== undefined) return pod.metadata.annotations?.[ann] ?? '';
  if (fieldPath === 'metadata.labels' || fieldPath === 'metadata.annotations') {
    const m = (fieldPath === 'metadata.labels' ? pod.metadata.labels : pod.metadata.annotations) ?? {};
    return Object.keys(m)
      .sort()
      .map((k) => `${k}="${m[k]}"`)
      .join('\n');
  }
  throw new ConfigError(`unsupported fieldPath: ${fieldPath}`);
}

export function resourceFieldValue(pod: Pod, self: Container, ref: NonNullable<EnvVar['valueFrom']>['resourceFieldRef'], alloc: EnvSources['nodeAllocatable']): string {
  if (!ref) return '';
  const c = ref.containerName ? pod.spec.containers.find((x) => x.name === ref.containerName) : self;
  if (!c) throw new ConfigError(`container ${JSON.stringify(ref.containerName)} named by resourceFieldRef not found`);
  const [kind, resource] = ref.resource.split('.', 2) as ['limits' | 'requests', string];
  const divisor = ref.divisor === undefined || ref.divisor === '' || ref.divisor === 0 ? 1 : parseQuantity(ref.divisor);
  const set = c.resources?.[kind];
  const raw = set?.[resource];
  if (resource === 'cpu') {
    const millis = raw !== undefined ? parseCPUMillis(raw) : kind === 'limits' ? alloc.cpuMillis : 0;
    return String(Math.ceil(millis / 1000 / divisor - 1e-9));
  }
  if (resource === 'memory' || resource === 'ephemeral-storage') {
    const bytes = raw !== undefined ? parseBytes(raw) : kind === 'limits' ? alloc.memoryBytes : 0;
    return String(Math.ceil(bytes / divisor - 1e-9));
  }
  throw new ConfigError(`unsupported resource ${JSON.stringify(ref.resource)} in resourceFieldRef`);
}

/** The environment as NAME=value pairs in Kubernetes' order; throws ConfigError for a missing reference. */
export function resolveEnv(pod: Pod, container: Container, src: EnvSources): { env: [string, string][]; skipped: string[] } {
  const ns = pod.metadata.namespace ?? 'default';
  const vars = new Map<string, string>();
  const skipped: string[] = [];
  const services = new Map(src.serviceEnv ?? []);

  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    let data: Record<string, string> | undefined;
    if (from.configMapRef) {
      const cm = src.configMap(from.configMapRef.name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ConfigError(`configmap "${from.configMapRef.name}" not found`);
      }
      data = cm.data ?? {};
    } else if (from.secretRef) {
      const s = src.secret(from.secretRef.name);
      if (!s) {
        if (from.secretRef.optional) continue;
        throw new ConfigError(`secret "${from.secretRef.name}" not found`);
      }
      data = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, decodeSecret(v)]));
    }
    for (const [k, v] of Object.entries(data ?? {})) {
      const name = prefix + k;
      // Docker's Env is NAME=value lines: a name with '=' or a NUL cannot be passed on.
      if (!name || name.includes('=') || name.includes('\0')) {
        skipped.push(name);
        continue;
      }
      vars.set(name, v);
    }
  }

  for (const e of container.env ?? []) {
    let value: string | undefined;
    const vf = e.valueFrom;
    if (!vf) {
      value = expandVars(e.value ?? '', (n) => vars.get(n) ?? services.get(n));
    } else if (vf.fieldRef) {
      value = fieldRefValue(pod, vf.fieldRef.fieldPath, src);
    } else if (vf.resourceFieldRef) {
      value = resourceFieldValue(pod, container, vf.resourceFieldRef, src.nodeAllocatable);
    } else if (vf.configMapKeyRef) {
      const ref = vf.configMapKeyRef;
      const cm = src.configMap(ref.name ?? '');
      if (!cm) {
        if (ref.optional) continue;
        throw new ConfigError(`configmap "${ref.name ?? ''}" not found`);
      }
      value = cm.data?.[ref.key];
      if (value === undefined) {
        if (ref.optional) continue;
        throw new ConfigError(`couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name}`);
      }
    } else if (vf.secretKeyRef) {
      const ref = vf.secretKeyRef;
      const s = src.secret(ref.name ?? '');
      if (!s) {
        if (ref.optional) continue;
        throw new ConfigError(`secret "${ref.name ?? ''}" not found`);
      }
      const raw = s.data?.[ref.key];
      if (raw === undefined) {
        if (ref.optional) continue;
        throw new ConfigError(`couldn't find key ${ref.key} in Secret ${ns}/${ref.name}`);
      }
      value = decodeSecret(raw);
    } else {
      value = '';
    }
    if (e.name.includes('=') || e.name.includes('\0')) {
      skipped.push(e.name);
      continue;
    }
    vars.set(e.name, value);
  }
  for (const [k, v] of services) if (!vars.has(k)) vars.set(k, v);
  return { env: [...vars], skipped };
}

/** command/args with `$(VAR)` expanded against the container's environment, as the kubelet does. */
export function expandCommand(words: string[] | undefined, env: [string, string][]): string[] | undefined {
  if (!words) return undefined;
  const m = new Map(env);
  return words.map((w) => expandVars(w, (n) => m.get(n)));
}
