// Pod volume rules (ValidateVolumes): exactly one source per volume, each source's own fields, projected
// file paths and modes. Split from pod.ts, which checks the rest of a PodSpec.

import { isDNS1123Label } from '../names.js';
import { VOLUME_SOURCES } from '../schema/volume.js';
import {
  type Causes,
  child,
  duplicate,
  each,
  forbidden,
  index,
  invalid,
  isObj,
  listAt,
  notSupported,
  type Obj,
  objAt,
  quantityCauses,
  required,
  strAt,
} from './field.js';

const MAX_FILE_MODE = 0o777;
const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

function fileMode(path: string, mode: unknown): Causes {
  if (typeof mode !== 'number') return [];
  return mode < 0 || mode > MAX_FILE_MODE ? [invalid(path, mode, 'must be a number between 0 and 0777 (octal), both inclusive')] : [];
}

/** A path that must stay below the volume root (KeyToPath.path, subPath). */
export function relativePath(path: string, value: string): Causes {
  const out: Causes = [];
  if (value.startsWith('/')) out.push(invalid(path, value, 'must be a relative path'));
  if (value.split('/').includes('..')) out.push(invalid(path, value, "must not contain '..'"));
  return out;
}

/** Keys of `o` (among `names`) whose value is present. */
export function present(o: Obj, names: readonly string[]): string[] {
  return names.filter((n) => o[n] !== undefined && o[n] !== null);
}


function validateKeyToPaths(items: unknown, path: string): Causes {
  const out: Causes = [];
  listAt(items).forEach((it, i) => {
    const p = index(path, i);
    if (!strAt(it.key)) out.push(required(child(p, 'key')));
    const itemPath = strAt(it.path);
    if (!itemPath) out.push(required(child(p, 'path')));
    else out.push(...relativePath(child(p, 'path'), itemPath));
    out.push(...fileMode(child(p, 'mode'), it.mode));
  });
  return out;
}

function validateVolumeSource(name: (typeof VOLUME_SOURCES)[number], src: Obj, path: string): Causes {
  const out: Causes = [];
  switch (name) {
    case 'hostPath': {
      const hp = strAt(src.path);
      if (!hp) out.push(required(child(path, 'path')));
      else if (hp.split('/').includes('..')) out.push(invalid(child(path, 'path'), hp, "must not contain '..'"));
      if (src.type !== undefined && !HOST_PATH_TYPES.includes(strAt(src.type))) out.push(notSupported(child(path, 'type'), src.type, HOST_PATH_TYPES));
      break;
    }
    case 'emptyDir':
      if (src.sizeLimit !== undefined) out.push(...quantityCauses(child(path, 'sizeLimit'), src.sizeLimit));
      break;
    case 'configMap':
      if (!strAt(src.name)) out.push(required(child(path, 'name')));
      out.push(...validateKeyToPaths(src.items, child(path, 'items')), ...fileMode(child(path, 'defaultMode'), src.defaultMode));
      break;
    case 'secret':
      if (!strAt(src.secretName)) out.push(required(child(path, 'secretName')));
      out.push(...validateKeyToPaths(src.items, child(path, 'items')), ...fileMode(child(path, 'defaultMode'), src.defaultMode));
      break;
    case 'persistentVolumeClaim':
      if (!strAt(src.claimName)) out.push(required(child(path, 'claimName')));
      break;
    case 'downwardAPI':
      out.push(...fileMode(child(path, 'defaultMode'), src.defaultMode));
      listAt(src.items).forEach((it, i) => {
        const p = index(child(path, 'items'), i);
        const fp = strAt(it.path);
        if (!fp) out.push(required(child(p, 'path')));
        else out.push(...relativePath(child(p, 'path'), fp));
        out.push(...fileMode(child(p, 'mode'), it.mode));
      });
      break;
    case 'projected':
      out.push(...fileMode(child(path, 'defaultMode'), src.defaultMode));
      listAt(src.sources).forEach((s, i) => {
        const p = index(child(path, 'sources'), i);
        const kinds = present(s, ['secret', 'configMap', 'downwardAPI', 'serviceAccountToken', 'clusterTrustBundle', 'podCertificate']);
        if (kinds.length === 0) out.push(required(p, 'must specify exactly 1 of: secret, configMap, downwardAPI, serviceAccountToken'));
        for (const k of kinds.slice(1)) out.push(forbidden(child(p, k), 'may not specify more than 1 volume type per source'));
        for (const k of ['secret', 'configMap'] as const) {
          if (isObj(s[k])) out.push(...validateKeyToPaths(s[k].items, child(p, k, 'items')));
        }
      });
      break;
    default:
      break;
  }
  return out;
}

export function validateVolumes(volumes: unknown, path: string): { causes: Causes; names: Set<string> } {
  const out: Causes = [];
  const names = new Set<string>();
  listAt(volumes).forEach((v, i) => {
    const p = index(path, i);
    const name = strAt(v.name);
    if (!name) out.push(required(child(p, 'name')));
    else {
      out.push(...each(child(p, 'name'), name, isDNS1123Label(name)));
      if (names.has(name)) out.push(duplicate(child(p, 'name'), name));
      names.add(name);
    }
    const sources = present(v, VOLUME_SOURCES);
    if (sources.length === 0) out.push(required(p, 'must specify a volume type'));
    for (const s of sources.slice(1)) out.push(forbidden(child(p, s), 'may not specify more than 1 volume type'));
    if (sources.length > 0) {
      const s = sources[0] as (typeof VOLUME_SOURCES)[number];
      out.push(...validateVolumeSource(s, objAt(v[s]), child(p, s)));
    }
  });
  return { causes: out, names };
}

