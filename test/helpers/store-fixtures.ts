// Shared by the store tests: temp dirs and small objects.

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import type { KObject } from '../../src/api/types.js';

export async function tempDir(t: ExecutionContext, prefix = 'kubelite-store-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

export function configMap(namespace: string, name: string, data: Record<string, string> = {}): KObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace, name, uid: `uid-${namespace}-${name}` }, data };
}

export function namespaceObj(name: string): KObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, uid: `uid-ns-${name}` }, spec: {} };
}

/** A ~1 KB object, the size the throughput target is stated for. */
export function kilobyteConfigMap(namespace: string, name: string): KObject {
  return configMap(namespace, name, { payload: 'x'.repeat(900) });
}

/** Every file under `dir` (relative path -> contents), to prove a refused directory was left alone. */
export async function snapshotFiles(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out.set(path.relative(dir, full), (await fs.readFile(full)).toString('base64'));
  }
  return out;
}
