// Projected and downwardAPI volumes, pure: the files a projected volume holds from its sources
// (secret, configMap, downwardAPI, serviceAccountToken), the way the kubelet's projected volume
// plugin lays them out. Tokens come in resolved (token-manager.ts fetches them through TokenRequest).

import type { ConfigMap, DownwardAPIVolumeFile, Pod, Secret, Volume, VolumeProjection } from '../api/types.js';
import { ConfigError, fieldRefValue, resourceFieldValue } from './env.js';
import { configMapFiles, MountError, safeRelative, secretFiles, type VolumeFile } from './volumes-plan.js';

export interface ProjectionInputs {
  configMap(name: string): ConfigMap | undefined;
  secret(name: string): Secret | undefined;
  /** The token of each serviceAccountToken source, by its index in `sources`. */
  tokens: Map<number, string>;
  podIP?: string;
  hostIP?: string;
  nodeAllocatable: { cpuMillis: number; memoryBytes: number };
}

/** A serviceAccountToken source's audience and lifetime, as the token manager asks for them. */
export interface TokenSource {
  index: number;
  audience?: string;
  expirationSeconds: number;
  path: string;
}

export function tokenSources(v: Volume): TokenSource[] {
  return (v.projected?.sources ?? []).flatMap((s, index) =>
    s.serviceAccountToken ? [{ index, audience: s.serviceAccountToken.audience || undefined, expirationSeconds: s.serviceAccountToken.expirationSeconds ?? 3600, path: s.serviceAccountToken.path }] : [],
  );
}

function downwardFiles(volume: string, pod: Pod, items: DownwardAPIVolumeFile[] | undefined, defaultMode: number, inp: Omit<ProjectionInputs, 'tokens'>): VolumeFile[] {
  const out: VolumeFile[] = [];
  for (const it of items ?? []) {
    const rel = safeRelative(it.path);
    if (!rel) throw new MountError(volume, `invalid downwardAPI path ${JSON.stringify(it.path)}`);
    let value: string;
    try {
      if (it.fieldRef) value = fieldRefValue(pod, it.fieldRef.fieldPath, inp);
      else if (it.resourceFieldRef) {
        const c = pod.spec.containers.find((x) => x.name === it.resourceFieldRef!.containerName) ?? pod.spec.containers[0];
        value = resourceFieldValue(pod, c, it.resourceFieldRef, inp.nodeAllocatable);
      } else throw new MountError(volume, `downwardAPI item ${it.path} names neither fieldRef nor resourceFieldRef`);
    } catch (err) {
      if (err instanceof ConfigError) throw new MountError(volume, err.message);
      throw err;
    }
    out.push({ path: rel, content: Buffer.from(value, 'utf8'), mode: it.mode ?? defaultMode });
  }
  return out;
}

function sourceFiles(v: Volume, s: VolumeProjection, i: number, pod: Pod, defaultMode: number, inp: ProjectionInputs): VolumeFile[] {
  if (s.configMap) {
    const src = { name: s.configMap.name ?? '', items: s.configMap.items, optional: s.configMap.optional, defaultMode };
    return configMapFiles({ name: v.name, configMap: src }, inp.configMap(src.name));
  }
  if (s.secret) {
    const src = { secretName: s.secret.name ?? '', items: s.secret.items, optional: s.secret.optional, defaultMode };
    return secretFiles({ name: v.name, secret: src }, inp.secret(src.secretName));
  }
  if (s.downwardAPI) return downwardFiles(v.name, pod, s.downwardAPI.items, defaultMode, inp);
  if (s.serviceAccountToken) {
    const token = inp.tokens.get(i);
    if (token === undefined) throw new MountError(v.name, 'no service account token was issued for this volume');
    const rel = safeRelative(s.serviceAccountToken.path);
    if (!rel) throw new MountError(v.name, `invalid token path ${JSON.stringify(s.serviceAccountToken.path)}`);
    return [{ path: rel, content: Buffer.from(token, 'utf8'), mode: defaultMode }];
  }
  return [];
}

/** The files of a projected volume; a path two sources both write is an error, as in the kubelet. */
export function projectedFiles(v: Volume, pod: Pod, inp: ProjectionInputs): VolumeFile[] {
  const defaultMode = v.projected?.defaultMode ?? 0o644;
  const byPath = new Map<string, VolumeFile>();
  (v.projected?.sources ?? []).forEach((s, i) => {
    for (const f of sourceFiles(v, s, i, pod, defaultMode, inp)) {
      if (byPath.has(f.path)) throw new MountError(v.name, `more than one projected source writes ${f.path}`);
      byPath.set(f.path, f);
    }
  });
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A standalone downwardAPI volume's files. */
export function downwardAPIFiles(v: Volume, pod: Pod, inp: Omit<ProjectionInputs, 'tokens'>): VolumeFile[] {
  return downwardFiles(v.name, pod, v.downwardAPI?.items, v.downwardAPI?.defaultMode ?? 0o644, inp).sort((a, b) => (a.path < b.path ? -1 : 1));
}
