// What the agent knows about a container it made, read back from Docker (list, inspect, events). The
// engine is the only memory: everything here can be rebuilt from the labels and Docker's own state.

import type { ContainerRole } from './labels.js';

export type DockerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead' | 'unknown';

export interface ObservedContainer {
  id: string;
  /** Docker name without the leading slash. */
  name: string;
  role: ContainerRole;
  podUid: string;
  podNamespace: string;
  podName: string;
  /** The spec container's name; 'POD' for the infra container. */
  containerName: string;
  /** From the restartCount label: for app containers the restart number, for sandboxes the attempt. */
  restartCount: number;
  specHash: string;
  state: DockerState;
  /** ms since epoch (Docker's `Created`, second precision from list, exact from inspect). */
  createdAt: number;
  /** RFC 3339 (seconds) or undefined when Docker reports the zero time. */
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  oomKilled?: boolean;
  /** Docker's State.Error: set when the container could not be started. */
  error?: string;
  image: string;
  imageID: string;
  /** Infra containers: the Pod IP on the pod network (or the host's address with host networking). */
  ip?: string;
  /** `container:<id>` for app containers: the sandbox they joined. */
  networkMode?: string;
  /** True once start/finish/exit were read from inspect (a list entry alone lacks them). */
  inspected: boolean;
}

/** A container waiting, as the status shows it (CrashLoopBackOff, ErrImagePull, ...). */
export interface Waiting {
  reason: string;
  message?: string;
}

export interface ProbeStatus {
  /** Readiness: undefined until the first result. Containers without a readiness probe are ready when started. */
  ready?: boolean;
  /** Startup probe passed (true when there is none). */
  started?: boolean;
}

export const INFRA_CONTAINER_NAME = 'POD';
