// Docker's views of a container (a list entry, an inspect) -> ObservedContainer. Pure: the adapter
// fetches, these functions read. Containers without our labels are not ours and map to undefined.

import type Dockerode from 'dockerode';
import { LABELS, type ContainerRole } from './labels.js';
import type { DockerState, ObservedContainer } from './types.js';

const STATES: readonly DockerState[] = ['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'];

/** Docker's nanosecond timestamps -> Kubernetes' RFC 3339 seconds; the zero time -> undefined. */
export function dockerTime(t: string | undefined): string | undefined {
  if (!t || t.startsWith('0001-01-01')) return undefined;
  const ms = Date.parse(t);
  if (!Number.isFinite(ms)) return undefined;
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

function state(s: string | undefined): DockerState {
  return (STATES as readonly string[]).includes(s ?? '') ? (s as DockerState) : 'unknown';
}

function fromLabels(id: string, name: string, labels: Record<string, string> | undefined): Omit<ObservedContainer, 'state' | 'createdAt' | 'image' | 'imageID' | 'inspected'> | undefined {
  if (!labels) return undefined;
  const uid = labels[LABELS.podUid];
  const ns = labels[LABELS.podNamespace];
  const pod = labels[LABELS.podName];
  const cname = labels[LABELS.containerName];
  const role = labels[LABELS.role] as ContainerRole | undefined;
  if (!uid || !ns || !pod || !cname || (role !== 'infra' && role !== 'app')) return undefined;
  const n = Number(labels[LABELS.restartCount] ?? 0);
  return {
    id,
    name: name.replace(/^\//, ''),
    role,
    podUid: uid,
    podNamespace: ns,
    podName: pod,
    containerName: cname,
    restartCount: Number.isInteger(n) && n >= 0 ? n : 0,
    specHash: labels[LABELS.specHash] ?? '',
  };
}

export function fromSummary(c: Dockerode.ContainerInfo, network: string): ObservedContainer | undefined {
  const base = fromLabels(c.Id, c.Names?.[0] ?? c.Id, c.Labels);
  if (!base) return undefined;
  const ip = c.NetworkSettings?.Networks?.[network]?.IPAddress || undefined;
  return {
    ...base,
    state: state(c.State),
    createdAt: (c.Created ?? 0) * 1000,
    image: c.Image,
    imageID: c.ImageID,
    ip: base.role === 'infra' ? ip : undefined,
    networkMode: c.HostConfig?.NetworkMode,
    inspected: false,
  };
}

export function fromInspect(c: Dockerode.ContainerInspectInfo, network: string, hostIP?: string): ObservedContainer | undefined {
  const base = fromLabels(c.Id, c.Name ?? c.Id, c.Config?.Labels);
  if (!base) return undefined;
  const s = c.State;
  const networkMode = c.HostConfig?.NetworkMode;
  let ip: string | undefined;
  if (base.role === 'infra') ip = networkMode === 'host' ? hostIP : c.NetworkSettings?.Networks?.[network]?.IPAddress || undefined;
  const st = state(s?.Status);
  return {
    ...base,
    state: st,
    createdAt: Date.parse(c.Created) || 0,
    startedAt: dockerTime(s?.StartedAt),
    finishedAt: dockerTime(s?.FinishedAt),
    exitCode: st === 'running' ? undefined : s?.ExitCode,
    oomKilled: s?.OOMKilled || undefined,
    error: s?.Error || undefined,
    image: c.Config?.Image ?? '',
    imageID: c.Image,
    ip,
    networkMode,
    inspected: true,
  };
}

/** A container that was created but could not be started: Docker leaves it `created` with State.Error. */
export function failedToStart(c: ObservedContainer): boolean {
  return c.state === 'created' && !!c.error;
}

/** Ran and stopped (or could not start): a terminated container in Kubernetes' terms. */
export function isTerminated(c: ObservedContainer): boolean {
  return c.state === 'exited' || c.state === 'dead' || failedToStart(c);
}

export function isRunning(c: ObservedContainer): boolean {
  return c.state === 'running' || c.state === 'restarting' || c.state === 'paused';
}

/** Newest first: by attempt number, then by creation time. */
export function newestFirst(a: ObservedContainer, b: ObservedContainer): number {
  return b.restartCount - a.restartCount || b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1);
}

/**
 * What a container we just created (and maybe started) is, from its create options: used instead of an
 * inspect where the agent already knows the answer. Pure.
 */
export function fromCreate(id: string, opts: Dockerode.ContainerCreateOptions, o: { state: 'created' | 'running'; now: number; ip?: string }): ObservedContainer | undefined {
  const base = fromLabels(id, opts.name ?? id, opts.Labels);
  if (!base) return undefined;
  return {
    ...base,
    state: o.state,
    createdAt: o.now,
    startedAt: o.state === 'running' ? dockerTime(new Date(o.now).toISOString()) : undefined,
    image: opts.Image ?? '',
    imageID: '',
    ip: base.role === 'infra' ? o.ip : undefined,
    networkMode: opts.HostConfig?.NetworkMode,
    inspected: true,
  };
}
