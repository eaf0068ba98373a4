// Labels on every container kubelite creates. The Docker engine is the source of truth for what runs:
// with these a restarted server adopts its containers instead of recreating them, `kubelite cleanup`
// finds every one of them, and several instances on one host never touch each other's.
// The io.kubernetes.* keys are the ones dockershim used, so existing tooling recognises them.

export const LABELS = {
  /** kubelite instance id ('default' for the untagged instance) — see hostNames(). */
  instance: 'io.kubelite.instance',
  /** 'infra' (the Pod's network holder) or 'app' (a container of the Pod's spec). */
  role: 'io.kubelite.role',
  podUid: 'io.kubernetes.pod.uid',
  podNamespace: 'io.kubernetes.pod.namespace',
  podName: 'io.kubernetes.pod.name',
  containerName: 'io.kubernetes.container.name',
  /** How many times this container name was restarted in this Pod when this container was created. */
  restartCount: 'io.kubernetes.container.restartCount',
  /** Hash of the container spec it was created from (a changed image means a new container). */
  specHash: 'io.kubelite.container.hash',
} as const;

export type ContainerRole = 'infra' | 'app';
