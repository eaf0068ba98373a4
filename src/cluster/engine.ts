// The local engine as node containers need it: it answers, it runs a container with the rights a nested
// engine needs (--privileged, or the capability set that works where --privileged is refused: found
// once per engine and remembered), and its cgroup version.

import type Dockerode from 'dockerode';
import fs from 'node:fs';
import path from 'node:path';
import { securityHostConfig, type SecurityMode } from './node-spec.js';

export interface EngineFacts {
  id: string;
  version: string;
  cgroupV2: boolean;
}

export function dockerMessage(err: unknown): string {
  const e = err as { json?: { message?: string }; reason?: string; message?: string; code?: string };
  return (e?.json?.message ?? e?.message ?? String(err)).trim();
}

export async function engineFacts(docker: Dockerode): Promise<EngineFacts> {
  let info: { ID?: string; ServerVersion?: string; CgroupVersion?: string };
  try {
    info = await docker.info();
  } catch (err) {
    const m = dockerMessage(err);
    throw new Error(
      /ENOENT|ECONNREFUSED|socket/.test(m)
        ? `no Docker engine answers (${m}): start one (scripts/ensure-docker.sh, or systemctl start docker) and try again`
        : `the Docker engine does not answer: ${m}`,
    );
  }
  return { id: info.ID ?? 'unknown', version: info.ServerVersion ?? '?', cgroupV2: info.CgroupVersion === '2' };
}

/** Why a node container could not start, in words that say what to do. Pure. */
export function explainRunFailure(message: string, mode: SecurityMode): string {
  if (/unable to apply caps|operation not permitted/i.test(message)) {
    return mode === 'privileged'
      ? `the engine refuses --privileged (${message}): a capability is missing from its bounding set`
      : `the engine refuses the capabilities a nested engine needs (all but CAP_SYS_RESOURCE, no seccomp/AppArmor profile, unmasked /proc and /sys): ${message}. Run kubelite cluster on an engine that runs as root outside a restricted container (rootless Docker and user-namespace remapping cannot run nested engines)`;
  }
  if (/userns|user namespace/i.test(message)) return `the engine remaps user namespaces (${message}): node containers need --userns=host, which this engine refuses`;
  return message;
}

interface ModeCache {
  [engineId: string]: { mode: SecurityMode; checked: string };
}

function readCache(file: string): ModeCache {
  try {
    const c = JSON.parse(fs.readFileSync(file, 'utf8')) as ModeCache;
    return c && typeof c === 'object' ? c : {};
  } catch {
    return {};
  }
}

async function tryRun(docker: Dockerode, image: string, mode: SecurityMode, cgroupV2: boolean): Promise<string | undefined> {
  let container: Dockerode.Container | undefined;
  try {
    container = await docker.createContainer({
      Image: image,
      Entrypoint: ['/bin/true'],
      Cmd: [],
      Labels: { 'io.kubelite.cluster.probe': 'security' },
      HostConfig: { ...securityHostConfig(mode), NetworkMode: 'none', ...(cgroupV2 ? { CgroupnsMode: 'private' } : {}) } as Dockerode.HostConfig,
    });
    await container.start();
    const r = (await container.wait()) as { StatusCode?: number };
    return r.StatusCode === 0 ? undefined : `exit status ${r.StatusCode}`;
  } catch (err) {
    return dockerMessage(err);
  } finally {
    await container?.remove({ force: true }).catch(() => undefined);
  }
}

/**
 * privileged where the engine allows it, else the capability set; checked with a throw-away container
 * of the node image the first time, then remembered per engine in cacheFile.
 */
export async function securityMode(docker: Dockerode, engine: EngineFacts, image: string, cacheFile: string, log: (line: string) => void): Promise<SecurityMode> {
  const cache = readCache(cacheFile);
  const known = cache[engine.id];
  if (known && (known.mode === 'privileged' || known.mode === 'capabilities')) return known.mode;
  let mode: SecurityMode = 'privileged';
  const privileged = await tryRun(docker, image, 'privileged', engine.cgroupV2);
  if (privileged !== undefined) {
    const caps = await tryRun(docker, image, 'capabilities', engine.cgroupV2);
    if (caps !== undefined) {
      throw new Error(`node containers cannot run on this engine. With --privileged: ${explainRunFailure(privileged, 'privileged')}. Without it: ${explainRunFailure(caps, 'capabilities')}`);
    }
    mode = 'capabilities';
    log(`this engine refuses --privileged (${privileged}); node containers get every capability but CAP_SYS_RESOURCE instead`);
  }
  cache[engine.id] = { mode, checked: new Date().toISOString() };
  fs.mkdirSync(path.dirname(cacheFile), { recursive: true, mode: 0o700 });
  fs.writeFileSync(cacheFile, JSON.stringify(cache, null, 2) + '\n', { mode: 0o600 });
  return mode;
}
