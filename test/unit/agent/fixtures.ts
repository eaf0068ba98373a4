// Pods and observed containers for the agent's pure functions.

import type { Container, Pod, PodSpec } from '../../../src/api/types.js';
import { specHash } from '../../../src/agent/container-config.js';
import type { ObservedContainer } from '../../../src/agent/types.js';

export const UID = '11111111-2222-3333-4444-555555555555';
export const T0 = Date.parse('2026-01-01T00:00:00Z');

export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

export function container(name: string, extra: Partial<Container> = {}): Container {
  return { name, image: 'kubelite/echo:1', imagePullPolicy: 'IfNotPresent', ...extra };
}

export function pod(spec: Partial<PodSpec> = {}, extra: Partial<Pod> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: UID, resourceVersion: '10' },
    spec: { nodeName: 'n1', restartPolicy: 'Always', terminationGracePeriodSeconds: 30, containers: [container('app')], ...spec },
    ...extra,
  };
}

let seq = 0;

export function sandbox(o: Partial<ObservedContainer> = {}): ObservedContainer {
  seq++;
  return {
    id: o.id ?? `sandbox${seq}`.padEnd(64, '0'),
    name: 'k8s_POD_web_default_uid_0',
    role: 'infra',
    podUid: UID,
    podNamespace: 'default',
    podName: 'web',
    containerName: 'POD',
    restartCount: 0,
    specHash: '',
    state: 'running',
    createdAt: T0,
    startedAt: iso(T0),
    image: 'kubelite/pause:1',
    imageID: 'sha256:pause',
    ip: '10.244.0.5',
    inspected: true,
    ...o,
  };
}

export function app(name: string, sb: ObservedContainer | undefined, o: Partial<ObservedContainer> = {}, spec: Container = container(name)): ObservedContainer {
  seq++;
  return {
    id: o.id ?? `${name}${seq}`.padEnd(64, 'a'),
    name: `k8s_${name}_web_default_uid_${o.restartCount ?? 0}`,
    role: 'app',
    podUid: UID,
    podNamespace: 'default',
    podName: 'web',
    containerName: name,
    restartCount: 0,
    specHash: specHash(spec),
    state: 'running',
    createdAt: T0 + 1000,
    startedAt: iso(T0 + 1000),
    image: spec.image,
    imageID: 'sha256:echo',
    networkMode: sb ? `container:${sb.id}` : undefined,
    inspected: true,
    ...o,
  };
}

export function exited(name: string, sb: ObservedContainer | undefined, exitCode: number, o: Partial<ObservedContainer> = {}, spec?: Container): ObservedContainer {
  const started = o.startedAt ?? iso(T0 + 1000);
  return app(name, sb, { state: 'exited', exitCode, startedAt: started, finishedAt: o.finishedAt ?? iso(Date.parse(started) + 2000), ...o }, spec);
}
