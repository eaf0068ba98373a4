// planPodSync: what to do next for one Pod, from its spec, the containers Docker has for it and the
// agent's memory of back-offs and probe failures — the kubelet's computePodActions, pure. It plans one
// layer at a time (clean up, then the sandbox, then containers); the executor applies a layer, reads
// Docker's answer back and plans again, so the planner never has to predict what an action did.

import type { Container, ContainerStatus, Pod } from '../api/types.js';
import { delayFor, goDuration, pullRetryAt, restartDecision, type BackoffConfig, type BackoffEntry } from './backoff.js';
import { specHash } from './container-config.js';
import { failedToStart, isRunning, isTerminated, newestFirst } from './observed.js';
import { INFRA_CONTAINER_NAME, type ObservedContainer, type Waiting } from './types.js';

export type Action =
  /** Force-remove (kill if needed): duplicates, stale attempts, dead containers beyond the last one. */
  | { kind: 'remove'; id: string; container: string; reason: string }
  /** Stop with the Pod's grace period (SIGTERM, then SIGKILL). */
  | { kind: 'kill'; id: string; container: string; reason: string; message: string }
  | { kind: 'createSandbox'; attempt: number; reason: string }
  | { kind: 'stopSandbox'; id: string; reason: string }
  /**
   * Create and start container `container` (pulling its image as the policy says); with `existing`,
   * start that container, prepared by this agent while the sandbox started.
   */
  | { kind: 'start'; container: string; init: boolean; restartCount: number; backoff?: BackoffEntry; reason: string; existing?: string };

export interface PlanInput {
  pod: Pod;
  /** Every container Docker has with this Pod's uid. */
  containers: ObservedContainer[];
  now: number;
  backoff: BackoffConfig;
  /** Crash back-off per container name (INFRA_CONTAINER_NAME: sandbox creation failures). */
  restartBackoff: ReadonlyMap<string, BackoffEntry>;
  /** Back-off of failed pulls and failed creates per container name. */
  createBackoff: ReadonlyMap<string, BackoffEntry>;
  /** The last failure per container name (ErrImagePull, CreateContainerConfigError, ...). */
  lastErrors: ReadonlyMap<string, Waiting>;
  /** Container ids whose liveness probe reached its failure threshold. */
  livenessFailed: ReadonlySet<string>;
  /** Containers this agent created for the current sandbox and has not started yet (not a crash's leftover). */
  prepared?: ReadonlySet<string>;
  /**
   * When the container engine was last away (ms since epoch; a restarting dockerd stops every container
   * on its way down): a container that stopped then did not fail on its own; it restarts at once and
   * its restart streak does not grow.
   */
  engineAway?: { from: number; to: number };
}

export interface Plan {
  actions: Action[];
  /** What a container that is not running shows while it waits (CrashLoopBackOff, ImagePullBackOff, ...). */
  waiting: Map<string, Waiting>;
  /** Sync again after this long (a back-off ends). */
  requeueAfterMs?: number;
  /** The current sandbox, if one runs. */
  sandbox?: ObservedContainer;
}

/** How long ErrImagePull stays visible before it turns into ImagePullBackOff, as on a kubelet's next sync. */
export const ERR_IMAGE_PULL_VISIBLE_MS = 1000;

function restartWanted(policy: Pod['spec']['restartPolicy'], last: ObservedContainer, init: boolean): boolean {
  const failed = failedToStart(last) || (last.exitCode ?? 0) !== 0;
  // Init containers run to completion: Always behaves as OnFailure for them.
  if (policy === 'Never') return false;
  if (policy === 'OnFailure' || init) return failed;
  return true;
}

function statusOf(pod: Pod, name: string, init: boolean): ContainerStatus | undefined {
  return (init ? pod.status?.initContainerStatuses : pod.status?.containerStatuses)?.find((s) => s.name === name);
}

/** Docker ids the Pod's API status names for a container (current and last state). */
function referencedIds(pod: Pod, name: string): Set<string> {
  const out = new Set<string>();
  for (const st of [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]) {
    if (st.name !== name) continue;
    for (const id of [st.containerID, st.state?.terminated?.containerID, st.lastState?.terminated?.containerID]) if (id) out.add(id.replace(/^[a-z]+:\/\//, ''));
  }
  return out;
}

export function planPodSync(input: PlanInput): Plan {
  const { pod, now } = input;
  const uid = pod.metadata.uid!;
  const podLabel = `${pod.metadata.name}_${pod.metadata.namespace ?? 'default'}(${uid})`;
  const actions: Action[] = [];
  const waiting = new Map<string, Waiting>();
  let requeueAt: number | undefined;
  const requeue = (at: number) => {
    requeueAt = requeueAt === undefined ? at : Math.min(requeueAt, at);
  };
  const plan = (sandbox?: ObservedContainer): Plan => ({
    actions,
    waiting,
    sandbox,
    requeueAfterMs: requeueAt === undefined ? undefined : Math.max(0, requeueAt - now),
  });

  const own = input.containers.filter((c) => c.podUid === uid);
  const sandboxes = own.filter((c) => c.role === 'infra').sort(newestFirst);
  const apps = new Map<string, ObservedContainer[]>();
  for (const c of own) {
    if (c.role !== 'app') continue;
    const list = apps.get(c.containerName) ?? [];
    list.push(c);
    apps.set(c.containerName, list);
  }
  for (const list of apps.values()) list.sort(newestFirst);

  const inits = pod.spec.initContainers ?? [];
  const specs: { c: Container; init: boolean }[] = [...inits.map((c) => ({ c, init: true })), ...pod.spec.containers.map((c) => ({ c, init: false }))];
  const specNames = new Set(specs.map((s) => s.c.name));
  const policy = pod.spec.restartPolicy ?? 'Always';
  const terminalPhase = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

  // ---- layer 1: clean up what must not be there ----
  let sandbox = sandboxes.find(isRunning);
  for (const s of sandboxes) {
    if (s === sandbox) continue;
    if (isRunning(s)) actions.push({ kind: 'remove', id: s.id, container: INFRA_CONTAINER_NAME, reason: 'a newer sandbox of this pod runs' });
    else if (sandbox || s !== sandboxes[0]) actions.push({ kind: 'remove', id: s.id, container: INFRA_CONTAINER_NAME, reason: 'dead sandbox' });
  }
  for (const [name, list] of apps) {
    if (!specNames.has(name)) {
      for (const c of list) actions.push({ kind: 'remove', id: c.id, container: name, reason: 'not in the pod spec' });
      continue;
    }
    const running = list.filter(isRunning);
    for (const extra of running.slice(1)) actions.push({ kind: 'remove', id: extra.id, container: name, reason: 'duplicate of a newer running container' });
    // Keep the newest terminated container (for `logs --previous` and lastState); drop the rest — but
    // not one the Pod's status in the API still names: until the next status write moves lastState on,
    // `kubectl logs --previous` reads exactly that container (removing it first made that a 400).
    const dead = list.filter((c) => isTerminated(c));
    const named = referencedIds(pod, name);
    for (const old of dead.slice(1)) if (!named.has(old.id)) actions.push({ kind: 'remove', id: old.id, container: name, reason: 'older than the last terminated container' });
    // Created but never started, without an error: a start that was interrupted (a crash of ours).
    for (const c of list) if (c.state === 'created' && !c.error && c !== list[0]) actions.push({ kind: 'remove', id: c.id, container: name, reason: 'never started' });
  }
  if (actions.length > 0) return plan(sandbox);

  // ---- what should run ----
  interface Decision {
    spec: Container;
    init: boolean;
    latest?: ObservedContainer;
    running?: ObservedContainer;
    wantsStart: boolean;
  }
  const decisions: Decision[] = specs.map(({ c, init }) => {
    const list = apps.get(c.name) ?? [];
    const latest = list[0];
    const running = list.find(isRunning);
    let wantsStart = false;
    if (!running && !terminalPhase) {
      if (!latest) {
        // Never created, or removed by hand. The API status remembers a container that finished for good.
        const st = statusOf(pod, c.name, init);
        const finished = st?.state?.terminated;
        wantsStart = !(finished && (policy === 'Never' || (policy === 'OnFailure' || init ? finished.exitCode === 0 : false)));
      } else if (latest.state === 'created' && !latest.error) {
        wantsStart = true;
      } else {
        wantsStart = restartWanted(policy, latest, init) || (isTerminated(latest) && latest.specHash !== specHash(c) && policy !== 'Never');
      }
    }
    return { spec: c, init, latest, running, wantsStart };
  });

  // Init containers run one after the other; app containers only once all of them succeeded.
  const appEverRan = decisions.some((d) => !d.init && d.latest);
  let initBlocking: Decision | undefined;
  let initFailedForGood = false;
  if (!appEverRan) {
    for (const d of decisions.filter((x) => x.init)) {
      const done = d.latest && isTerminated(d.latest) && !failedToStart(d.latest) && d.latest.exitCode === 0;
      if (done) continue;
      if (d.latest && isTerminated(d.latest) && !d.wantsStart) initFailedForGood = true;
      initBlocking = d;
      break;
    }
  }
  const active = decisions.filter((d) => (d.init ? d === initBlocking && !initFailedForGood : !initBlocking));
  const needSandbox = !terminalPhase && !initFailedForGood && (active.some((d) => d.running || d.wantsStart) || decisions.some((d) => d.running));

  // ---- layer 2: the sandbox ----
  if (!sandbox) {
    const runningApps = decisions.filter((d) => d.running);
    for (const d of runningApps) actions.push({ kind: 'kill', id: d.running!.id, container: d.spec.name, reason: 'SandboxChanged', message: 'Pod sandbox changed, it will be killed and re-created.' });
    if (actions.length > 0) return plan();
    if (!needSandbox) return plan();
    const hadSandbox = sandboxes.length > 0 || decisions.some((d) => d.latest);
    // As the kubelet: a Pod that must not restart does not get a second sandbox.
    if (policy === 'Never' && hadSandbox) return plan();
    const failed = input.restartBackoff.get(INFRA_CONTAINER_NAME);
    const err = input.lastErrors.get(INFRA_CONTAINER_NAME);
    if (failed && failed.failures > 0 && failed.lastFailureAt !== undefined) {
      const at = failed.lastFailureAt + delayFor(failed.failures, input.backoff);
      if (now < at) {
        for (const d of decisions) waiting.set(d.spec.name, { reason: err?.reason ?? 'CreatePodSandboxError', message: err?.message });
        requeue(at);
        return plan();
      }
    }
    const attempt = sandboxes.length ? sandboxes[0].restartCount + 1 : 0;
    actions.push({ kind: 'createSandbox', attempt, reason: sandboxes.length ? 'SandboxChanged' : 'new pod' });
    return plan();
  }
  if (!needSandbox) {
    for (const d of decisions) if (d.running) actions.push({ kind: 'kill', id: d.running.id, container: d.spec.name, reason: 'Killing', message: `Stopping container ${d.spec.name}` });
    if (actions.length === 0) actions.push({ kind: 'stopSandbox', id: sandbox.id, reason: 'no container of the pod will run again' });
    return plan(sandbox);
  }

  // ---- layer 3: containers ----
  const joined = `container:${sandbox.id}`;
  for (const d of decisions) {
    const { spec, running } = d;
    if (!running) continue;
    if (running.networkMode && running.networkMode !== joined) {
      actions.push({ kind: 'kill', id: running.id, container: spec.name, reason: 'SandboxChanged', message: `Container ${spec.name} runs in a previous sandbox, it will be restarted` });
    } else if (running.specHash && running.specHash !== specHash(spec)) {
      actions.push({ kind: 'kill', id: running.id, container: spec.name, reason: 'Killing', message: `Container ${spec.name} definition changed, will be restarted` });
    } else if (input.livenessFailed.has(running.id)) {
      actions.push({ kind: 'kill', id: running.id, container: spec.name, reason: 'Killing', message: `Container ${spec.name} failed liveness probe, will be restarted` });
    }
  }
  if (actions.length > 0) return plan(sandbox);

  for (const d of active) {
    if (d.running || !d.wantsStart) continue;
    const name = d.spec.name;
    const latest = d.latest;
    if (latest && latest.state === 'created' && !latest.error) {
      if (input.prepared?.has(latest.id) && latest.networkMode === joined && latest.specHash === specHash(d.spec)) {
        actions.push({ kind: 'start', container: name, init: d.init, restartCount: latest.restartCount, reason: 'prepared', existing: latest.id });
        continue;
      }
      actions.push({ kind: 'remove', id: latest.id, container: name, reason: 'never started' });
      actions.push({ kind: 'start', container: name, init: d.init, restartCount: latest.restartCount, reason: 'interrupted start' });
      continue;
    }
    // Pull and create failures back off on their own clock, showing why.
    const createEntry = input.createBackoff.get(name);
    const retryAt = pullRetryAt(createEntry, input.backoff);
    const lastErr = input.lastErrors.get(name);
    if (retryAt !== undefined && now < retryAt) {
      if (lastErr?.reason === 'ErrImagePull' && createEntry?.lastFailureAt !== undefined && now < createEntry.lastFailureAt + ERR_IMAGE_PULL_VISIBLE_MS) {
        waiting.set(name, lastErr);
        requeue(Math.min(retryAt, createEntry.lastFailureAt + ERR_IMAGE_PULL_VISIBLE_MS));
      } else if (lastErr?.reason === 'ErrImagePull' || lastErr?.reason === 'ImagePullBackOff') {
        waiting.set(name, { reason: 'ImagePullBackOff', message: `Back-off pulling image "${d.spec.image}": ${lastErr.message ?? ''}`.trimEnd() });
        requeue(retryAt);
      } else {
        if (lastErr) waiting.set(name, lastErr);
        requeue(retryAt);
      }
      continue;
    }
    const prevStatusCount = statusOf(pod, name, d.init)?.restartCount ?? 0;
    if (!latest) {
      const st = statusOf(pod, name, d.init);
      const ranBefore = !!(st?.containerID || st?.state?.running || st?.state?.terminated || st?.lastState?.terminated);
      actions.push({ kind: 'start', container: name, init: d.init, restartCount: ranBefore ? prevStatusCount + 1 : 0, reason: ranBefore ? 'container removed' : 'new container' });
      continue;
    }
    // restartCount never goes down in a Pod's life, even when its last container was removed by hand.
    const restartCount = Math.max(latest.restartCount, prevStatusCount) + 1;
    if (latest.specHash && latest.specHash !== specHash(d.spec)) {
      actions.push({ kind: 'start', container: name, init: d.init, restartCount, backoff: { failures: 0 }, reason: 'definition changed' });
      continue;
    }
    const finished = latest.finishedAt ? Date.parse(latest.finishedAt) : NaN;
    // (Docker's finishedAt is read to the second: a second of slack before the window)
    if (input.engineAway && finished >= input.engineAway.from - 1000 && finished <= input.engineAway.to) {
      actions.push({ kind: 'start', container: name, init: d.init, restartCount, backoff: input.restartBackoff.get(name), reason: 'restart after the container engine was away' });
      continue;
    }
    const dec = restartDecision(input.restartBackoff.get(name), latest, now, input.backoff);
    if (now < dec.restartAt) {
      waiting.set(name, { reason: 'CrashLoopBackOff', message: `back-off ${goDuration(dec.delayMs)} restarting failed container=${name} pod=${podLabel}` });
      requeue(dec.restartAt);
      continue;
    }
    actions.push({ kind: 'start', container: name, init: d.init, restartCount, backoff: dec.next, reason: 'restart' });
  }
  // Only one init container at a time: the executor runs it, and the next plan waits for it.
  return plan(sandbox);
}
