// Container lifecycle hooks (postStart, preStop): exec in the container, an HTTP GET to the Pod, or
// (preStop) a sleep. They reuse the probes' transports; a hook that fails or overruns is reported,
// and the caller decides (a failed postStart kills the container, a preStop never blocks deletion).

import type { Container, Lifecycle } from '../api/types.js';
import type { DockerRuntime } from './docker.js';
import { runProbe, type ProbeOutcome } from './probes.js';

type Hook = NonNullable<Lifecycle['postStart']> | NonNullable<Lifecycle['preStop']>;

export async function runHook(runtime: DockerRuntime, hook: Hook, target: { id: string; spec: Container; podIP: string }, timeoutMs: number): Promise<ProbeOutcome> {
  if ('sleep' in hook && hook.sleep) {
    const ms = Math.min(Math.max(0, hook.sleep.seconds * 1000), timeoutMs);
    await new Promise((r) => setTimeout(r, ms));
    return { ok: true };
  }
  if (!hook.exec && !hook.httpGet) return { ok: true };
  const timeoutSeconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  return runProbe(runtime, { exec: hook.exec, httpGet: hook.httpGet, timeoutSeconds }, target);
}
