// podStatusFrom: a Pod's status from what Docker shows, the probes and the agent's memory of failures,
// by the kubelet's rules (generateAPIPodStatus, getPhase, the condition generators). Pure.

import type { Condition, Container, ContainerState, ContainerStatus, Pod, PodPhase, PodStatus } from '../api/types.js';
import { qosClass } from '../api/qos.js';
import { failedToStart, isRunning, isTerminated, newestFirst } from './observed.js';
import type { ObservedContainer, ProbeStatus, Waiting } from './types.js';

export interface StatusInput {
  pod: Pod;
  /** Every container Docker has with this Pod's uid. */
  containers: ObservedContainer[];
  /** The running sandbox, if any. */
  sandbox?: ObservedContainer;
  /** Probe results by container id. */
  probes: ReadonlyMap<string, ProbeStatus>;
  /** Back-off waits from the plan (CrashLoopBackOff, ImagePullBackOff, CreatePodSandboxError). */
  waiting: ReadonlyMap<string, Waiting>;
  /** The last failure per container (ErrImagePull, CreateContainerConfigError, RunContainerError, ...). */
  lastErrors: ReadonlyMap<string, Waiting>;
  now: number;
  hostIP: string;
  /** The Pod is being deleted: it is no longer Ready, whatever its probes say. */
  terminating?: boolean;
}

export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

export function terminatedState(c: ObservedContainer): NonNullable<ContainerState['terminated']> {
  let reason: string;
  let exitCode = c.exitCode ?? 0;
  if (failedToStart(c)) {
    reason = 'StartError';
    if (!exitCode) exitCode = 128;
  } else if (c.oomKilled) reason = 'OOMKilled';
  else reason = exitCode === 0 ? 'Completed' : 'Error';
  const t: NonNullable<ContainerState['terminated']> = { exitCode, reason };
  if (failedToStart(c) && c.error) t.message = c.error;
  t.startedAt = c.startedAt ?? c.finishedAt;
  t.finishedAt = c.finishedAt ?? c.startedAt;
  if (!t.startedAt) delete t.startedAt;
  if (!t.finishedAt) delete t.finishedAt;
  t.containerID = `docker://${c.id}`;
  return t;
}

interface Built {
  status: ContainerStatus;
  running: boolean;
  terminated?: NonNullable<ContainerState['terminated']>;
  waiting: boolean;
  /** A terminated container whose state now shows waiting (restarting): counted as stopped by getPhase. */
  hasLastTerminated: boolean;
}

function buildContainerStatus(spec: Container, list: ObservedContainer[], input: StatusInput, prev: ContainerStatus | undefined, pendingInit: boolean): Built {
  const sorted = [...list].sort(newestFirst);
  const latest = sorted[0];
  const running = sorted.find(isRunning);
  const dead = sorted.filter(isTerminated);
  const cur = running ?? latest;
  let state: ContainerState;
  let lastState: ContainerState = {};
  let terminated: NonNullable<ContainerState['terminated']> | undefined;
  const wait = input.waiting.get(spec.name);
  const err = input.lastErrors.get(spec.name);
  if (running) {
    state = { running: { startedAt: running.startedAt ?? rfc3339(running.createdAt) } };
    const prevDead = dead.find((d) => d !== running);
    if (prevDead) lastState = { terminated: terminatedState(prevDead) };
  } else if (wait) {
    state = { waiting: { ...wait } };
    if (latest && isTerminated(latest)) lastState = { terminated: terminatedState(latest) };
  } else if (latest && isTerminated(latest)) {
    terminated = terminatedState(latest);
    state = { terminated };
    if (dead[1]) lastState = { terminated: terminatedState(dead[1]) };
  } else if (err) {
    state = { waiting: { ...err } };
    if (dead[0]) lastState = { terminated: terminatedState(dead[0]) };
  } else {
    state = { waiting: { reason: pendingInit ? 'PodInitializing' : 'ContainerCreating' } };
    if (dead[0]) lastState = { terminated: terminatedState(dead[0]) };
  }
  for (const s of [state.waiting, lastState.waiting]) if (s && s.message === undefined) delete s.message;

  let ready = false;
  let started = false;
  if (running) {
    const probe = input.probes.get(running.id);
    started = spec.startupProbe ? probe?.started === true : true;
    ready = started && (spec.readinessProbe ? probe?.ready === true : true);
  }
  const status: ContainerStatus = {
    name: spec.name,
    state,
    lastState,
    ready,
    restartCount: Math.max(latest?.restartCount ?? 0, prev?.restartCount ?? 0),
    image: spec.image,
    imageID: cur?.imageID ? `docker://${cur.imageID}` : '',
    started,
  };
  if (cur && (running || isTerminated(cur))) status.containerID = `docker://${cur.id}`;
  return { status, running: !!running, terminated, waiting: !!state.waiting && !lastState.terminated, hasLastTerminated: !!state.waiting && !!lastState.terminated };
}

function condition(prev: Condition[] | undefined, type: string, ok: boolean, now: number, reason?: string, message?: string): Condition {
  const status = ok ? 'True' : 'False';
  const old = prev?.find((c) => c.type === type);
  const c: Condition = { type, status, lastTransitionTime: old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : rfc3339(now) };
  if (!ok && reason) c.reason = reason;
  if (!ok && message) c.message = message;
  return c;
}

/** The API drops nulls on write; compare and build without them. */
export function withoutNulls<T>(v: T): T {
  if (Array.isArray(v)) return v.map(withoutNulls) as T;
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (x !== null && x !== undefined) out[k] = withoutNulls(x);
    return out as T;
  }
  return v;
}

export function podStatusFrom(input: StatusInput): PodStatus {
  const { pod, now } = input;
  const old = pod.status ?? {};
  const uid = pod.metadata.uid;
  const own = input.containers.filter((c) => c.podUid === uid && c.role === 'app');
  const byName = new Map<string, ObservedContainer[]>();
  for (const c of own) byName.set(c.containerName, [...(byName.get(c.containerName) ?? []), c]);
  const policy = pod.spec.restartPolicy ?? 'Always';

  // Init containers: done when each exited 0 in order (or an app container already ran).
  const inits = pod.spec.initContainers ?? [];
  const appEverRan = pod.spec.containers.some((c) => (byName.get(c.name)?.length ?? 0) > 0);
  const initStatuses: ContainerStatus[] = [];
  let pendingInit = 0;
  let failedInit = 0;
  const incompleteInit: string[] = [];
  for (const c of inits) {
    const b = buildContainerStatus(c, byName.get(c.name) ?? [], input, old.initContainerStatuses?.find((s) => s.name === c.name), false);
    const ok = b.terminated?.exitCode === 0 && b.terminated.reason === 'Completed';
    if (!ok && !appEverRan) {
      pendingInit++;
      incompleteInit.push(c.name);
      if (b.terminated && policy === 'Never') failedInit++;
    }
    initStatuses.push(b.status);
  }

  let running = 0;
  let waitingCount = 0;
  let stopped = 0;
  let succeeded = 0;
  const statuses: ContainerStatus[] = [];
  const unready: string[] = [];
  for (const c of pod.spec.containers) {
    const b = buildContainerStatus(c, byName.get(c.name) ?? [], input, old.containerStatuses?.find((s) => s.name === c.name), pendingInit > 0);
    statuses.push(b.status);
    if (!b.status.ready) unready.push(c.name);
    if (b.running) running++;
    else if (b.terminated) {
      stopped++;
      if (b.terminated.exitCode === 0) succeeded++;
    } else if (b.hasLastTerminated) stopped++;
    else waitingCount++;
  }

  // getPhase (pkg/kubelet/kubelet_pods.go).
  let phase: PodPhase;
  if (old.phase === 'Succeeded' || old.phase === 'Failed') phase = old.phase;
  else if (failedInit > 0) phase = 'Failed';
  else if (pendingInit > 0 || waitingCount > 0) phase = 'Pending';
  else if (running > 0) phase = 'Running';
  else if (stopped > 0) {
    if (policy === 'Always') phase = 'Running';
    else if (stopped === succeeded) phase = 'Succeeded';
    else if (policy === 'Never') phase = 'Failed';
    else phase = 'Running';
  } else phase = 'Pending';

  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const allReady = unready.length === 0 && statuses.length > 0 && !terminal;
  const conds = old.conditions;
  const oldScheduled = conds?.find((c) => c.type === 'PodScheduled');
  const scheduled: Condition = oldScheduled ? withoutNulls(oldScheduled) : { type: 'PodScheduled', status: 'True', lastTransitionTime: rfc3339(now) };
  const notReadyReason = terminal ? 'PodCompleted' : 'ContainersNotReady';
  const notReadyMessage = terminal ? undefined : `containers with unready status: [${unready.join(' ')}]`;
  const conditions: Condition[] = [
    condition(conds, 'Initialized', pendingInit === 0, now, terminal && pendingInit === 0 ? 'PodCompleted' : 'ContainersNotInitialized', pendingInit ? `containers with incomplete status: [${incompleteInit.join(' ')}]` : undefined),
    condition(conds, 'Ready', allReady && !input.terminating, now, input.terminating && allReady ? 'PodTerminating' : notReadyReason, input.terminating && allReady ? 'the pod is being deleted' : notReadyMessage),
    condition(conds, 'ContainersReady', allReady, now, notReadyReason, notReadyMessage),
    scheduled,
  ];

  const podIP = input.sandbox?.ip ?? old.podIP;
  const status: PodStatus = {
    phase,
    conditions,
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    startTime: old.startTime ?? rfc3339(now),
    containerStatuses: statuses,
    qosClass: qosClass(pod),
  };
  if (podIP) {
    status.podIP = podIP;
    status.podIPs = [{ ip: podIP }];
  }
  if (inits.length) status.initContainerStatuses = initStatuses;
  if (old.reason && terminal) status.reason = old.reason;
  if (old.message && terminal) status.message = old.message;
  return status;
}

/** The Failed status of a Pod the node refused (OutOfcpu, OutOfmemory, ...), as the kubelet's admission writes it. */
export function rejectedStatus(pod: Pod, reason: string, message: string, hostIP: string, now: number): PodStatus {
  return {
    phase: 'Failed',
    reason,
    message,
    hostIP,
    hostIPs: [{ ip: hostIP }],
    startTime: pod.status?.startTime ?? rfc3339(now),
    conditions: pod.status?.conditions?.filter((c) => c.type === 'PodScheduled').map(withoutNulls),
    qosClass: qosClass(pod),
  };
}

/**
 * Containers the Pod's status shows running that Docker no longer runs (they crashed, were killed, or
 * were removed by hand): their restart must be preceded by a status saying so, as a kubelet's status
 * manager writes what it saw before the sync acts. Otherwise the restart and its status land in one
 * write and clients watching readiness never see the Pod NotReady.
 */
export function stoppedSinceStatus(pod: Pod, containers: readonly ObservedContainer[]): string[] {
  const byId = new Map(containers.map((c) => [c.id, c]));
  const out: string[] = [];
  for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    if (!s.state?.running || !s.containerID?.startsWith('docker://')) continue;
    const c = byId.get(s.containerID.slice('docker://'.length));
    if (!c || !isRunning(c)) out.push(s.name);
  }
  return out;
}
