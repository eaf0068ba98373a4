// What `kubectl rollout status|restart|undo` do on the client side (kubectl 1.32: polymorphichelpers),
// over any ApiClient, so `kubelite rollout` behaves the same and tests can drive it in-process.

import type { Deployment, ReplicaSet } from '../api/types.js';
import { R } from '../api/resources.js';
import { labelSelectorToString } from '../api/selectors.js';
import type { ApiClient } from '../client/types.js';
import { rfc3339 } from '../util/time.js';
import { REASON, getCondition, history, revisionOf, rollbackTarget, type RevisionInfo } from './logic/index.js';

export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

export interface RolloutStatus {
  done: boolean;
  /** kubectl's line (without the newline) while waiting or when done. */
  message: string;
  /** Set when the rollout failed (progress deadline exceeded, wrong revision): exit 1. */
  error?: string;
}

/** kubectl's DeploymentStatusViewer: what `rollout status` prints for this state of the Deployment. */
export function deploymentRolloutStatus(d: Deployment, revision?: number): RolloutStatus {
  const name = d.metadata.name;
  if (revision && revision > 0) {
    const current = revisionOf(d) ?? 0;
    if (current !== revision) return { done: false, message: '', error: `desired revision (${revision}) is different from the running revision (${current})` };
  }
  const s = d.status ?? {};
  if ((d.metadata.generation ?? 0) > (s.observedGeneration ?? 0)) return { done: false, message: 'Waiting for deployment spec update to be observed...' };
  if (getCondition(s, 'Progressing')?.reason === REASON.progressDeadlineExceeded) {
    return { done: false, message: '', error: `deployment "${name}" exceeded its progress deadline` };
  }
  const replicas = d.spec.replicas ?? 1;
  const updated = s.updatedReplicas ?? 0;
  const total = s.replicas ?? 0;
  const available = s.availableReplicas ?? 0;
  if (updated < replicas) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${replicas} new replicas have been updated...` };
  if (total > updated) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${total - updated} old replicas are pending termination...` };
  if (available < updated) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...` };
  return { done: true, message: `deployment "${name}" successfully rolled out` };
}

/** The Deployment's ReplicaSets, as kubectl finds them: by its selector, then by controller reference. */
export async function deploymentReplicaSets(client: ApiClient, d: Deployment): Promise<ReplicaSet[]> {
  const list = await client.list<ReplicaSet>(R.replicasets, { namespace: d.metadata.namespace, labelSelector: labelSelectorToString(d.spec.selector) });
  return list.items;
}

export async function deploymentHistory(client: ApiClient, namespace: string, name: string): Promise<{ deployment: Deployment; revisions: RevisionInfo[] }> {
  const deployment = await client.get<Deployment>(R.deployments, namespace, name);
  return { deployment, revisions: history(deployment, await deploymentReplicaSets(client, deployment)) };
}

export type RollbackResult = { kind: 'rolledBack'; revision: number } | { kind: 'skipped'; revision: number; message: string };

export class RolloutError extends Error {}

/**
 * `rollout undo [--to-revision N]`: the chosen ReplicaSet's template (without pod-template-hash) and
 * annotations are written back to the Deployment with one JSON patch, as kubectl 1.32 does; the
 * Deployment controller then finds that ReplicaSet as the new one and gives it the next revision.
 */
export async function rollbackDeployment(client: ApiClient, namespace: string, name: string, toRevision?: number): Promise<RollbackResult> {
  const d = await client.get<Deployment>(R.deployments, namespace, name);
  if (d.spec.paused) throw new RolloutError(`you cannot rollback a paused deployment; resume it first with 'kubelite rollout resume deployment/${name}' and try again`);
  const target = rollbackTarget(d, await deploymentReplicaSets(client, d), toRevision);
  if (target.kind === 'error') throw new RolloutError(target.message);
  if (target.kind === 'skip') return { kind: 'skipped', revision: target.revision, message: target.message };
  await client.patch(R.deployments, namespace, name, 'json', [
    { op: 'test', path: '/metadata/uid', value: d.metadata.uid },
    { op: 'replace', path: '/spec/template', value: target.template },
    // `add` sets the member whether or not annotations exist yet.
    { op: 'add', path: '/metadata/annotations', value: target.annotations },
  ]);
  return { kind: 'rolledBack', revision: target.revision };
}

/** `rollout restart`: a new template annotation makes a new ReplicaSet, so every pod is replaced. */
export async function restartDeployment(client: ApiClient, namespace: string, name: string, now: Date = new Date()): Promise<void> {
  const d = await client.get<Deployment>(R.deployments, namespace, name);
  if (d.spec.paused) throw new RolloutError(`can't restart paused deployment (run rollout resume first)`);
  await client.patch(R.deployments, namespace, name, 'strategic', { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: rfc3339(now) } } } } });
}

/** `rollout pause|resume`; false when it already was in that state. */
export async function setPaused(client: ApiClient, namespace: string, name: string, paused: boolean): Promise<boolean> {
  const d = await client.get<Deployment>(R.deployments, namespace, name);
  if (!!d.spec.paused === paused) return false;
  await client.patch(R.deployments, namespace, name, 'merge', { spec: { paused } });
  return true;
}
