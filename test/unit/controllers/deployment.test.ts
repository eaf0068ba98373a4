import test from 'ava';
import type { Deployment, Pod, ReplicaSet } from '../../../src/api/types.js';
import { R } from '../../../src/api/resources.js';
import { deploymentHistory, deploymentRolloutStatus, restartDeployment, rollbackDeployment, setPaused, RESTARTED_AT_ANNOTATION } from '../../../src/controllers/rollout.js';
import { podTemplateHash } from '../../../src/controllers/logic/index.js';
import { applyDefaults } from '../../../src/api/validation/index.js';
import { activePods, deployment, isReady, ownerUid, startCluster, until, type TestCluster } from './fixtures.js';

const REVISION = 'deployment.kubernetes.io/revision';

async function getDeploy(c: TestCluster, name = 'web'): Promise<Deployment> {
  return c.registry.get<Deployment>(R.deployments, 'default', name);
}

async function rolledOut(c: TestCluster, name = 'web', timeoutMs = 15_000): Promise<Deployment> {
  return until(async () => {
    const d = await getDeploy(c, name);
    return deploymentRolloutStatus(d).done && d;
  }, `deployment ${name} rolled out`, timeoutMs);
}

function imageOf(p: Pod): string {
  return p.spec.containers[0].image;
}

test('a 3-replica Deployment gets a ReplicaSet named by template hash and 3 ready pods', async (t) => {
  const c = await startCluster(['rs', 'deploy', 'scheduler', 'kubelet']);
  t.teardown(() => c.stop());
  const d0 = await c.registry.create<Deployment>(R.deployments, deployment('web', { replicas: 3 }));
  const d = await rolledOut(c);
  const rss = await c.replicaSets();
  t.is(rss.length, 1);
  const rs = rss[0];
  t.is(rs.metadata.name, `web-${podTemplateHash(d0.spec.template)}`);
  t.is(ownerUid(rs), d0.metadata.uid);
  t.is(rs.metadata.labels!['pod-template-hash'], podTemplateHash(d0.spec.template));
  t.is(rs.metadata.annotations![REVISION], '1');
  t.is(d.metadata.annotations![REVISION], '1', 'the revision annotation reached the stored Deployment');
  const pods = await c.pods();
  t.is(pods.length, 3);
  t.true(pods.every((p) => isReady(p) && ownerUid(p) === rs.metadata.uid));
  t.like(d.status, { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
  t.is(d.status!.conditions!.find((x) => x.type === 'Available')?.status, 'True');
  t.is(d.status!.conditions!.find((x) => x.type === 'Progressing')?.reason, 'NewReplicaSetAvailable');
  t.is(deploymentRolloutStatus(d).message, 'deployment "web" successfully rolled out');
  const ev = await c.events('ScalingReplicaSet');
  t.deepEqual(ev.map((e) => e.message), [`Scaled up replica set ${rs.metadata.name} to 3`]);
  t.is(ev[0].involvedObject.kind, 'Deployment');
  t.is(ev[0].source?.component, 'deployment-controller');
});

test('scale 3 -> 6 -> 1 through the scale subresource', async (t) => {
  const c = await startCluster(['rs', 'deploy', 'scheduler', 'kubelet']);
  t.teardown(() => c.stop());
  await c.registry.create(R.deployments, deployment('web', { replicas: 3 }));
  await rolledOut(c);
  for (const n of [6, 1]) {
    await c.registry.patch(R.deployments, 'default', 'web', 'merge', { spec: { replicas: n } }, { subresource: 'scale' });
    const d = await until(async () => {
      const cur = await getDeploy(c);
      return deploymentRolloutStatus(cur).done && cur.spec.replicas === n && cur.status?.replicas === n && cur;
    }, `${n} replicas`);
    t.is(d.status!.availableReplicas, n);
    await until(async () => (await c.pods()).length === n, `${n} pods`);
    const rss = await c.replicaSets();
    t.is(rss.length, 1, 'scaling makes no new ReplicaSet');
    t.is(rss[0].spec.replicas, n);
  }
  const msgs = (await c.events('ScalingReplicaSet')).map((e) => e.message!.replace(/web-\w+/, 'RS'));
  t.deepEqual(msgs, ['Scaled up replica set RS to 3', 'Scaled up replica set RS to 6 from 3', 'Scaled down replica set RS to 1 from 6']);
});

test('a rolling update never drops below replicas - maxUnavailable ready pods nor above replicas + maxSurge scheduled', async (t) => {
  const c = await startCluster(['rs', 'deploy', 'scheduler', 'kubelet'], { kubelet: { startDelayMs: 15, stopDelayMs: 15 } });
  t.teardown(() => c.stop());
  const replicas = 4;
  await c.registry.create(R.deployments, deployment('web', { replicas, surge: 1, unavailable: 1 }));
  await rolledOut(c);

  // Sampled on every store change, synchronously: the state between any two writes.
  const pods = new Map<string, Pod>();
  for (const p of await c.pods()) pods.set(p.metadata.name!, p);
  const specs = new Map<string, number>();
  for (const rs of await c.replicaSets()) specs.set(rs.metadata.name!, rs.spec.replicas ?? 0);
  let minReady = Infinity;
  let maxSpec = 0;
  let samples = 0;
  const podSub = c.registry.store.watch({ resource: R.pods }, (ev) => {
    if (ev.type === 'DELETED') pods.delete(ev.object.metadata.name!);
    else pods.set(ev.object.metadata.name!, ev.object as Pod);
    const ready = [...pods.values()].filter((p) => isReady(p) && !p.metadata.deletionTimestamp).length;
    minReady = Math.min(minReady, ready);
    samples++;
  });
  const rsSub = c.registry.store.watch({ resource: R.replicasets }, (ev) => {
    if (ev.type === 'DELETED') specs.delete(ev.object.metadata.name!);
    else specs.set(ev.object.metadata.name!, (ev.object as ReplicaSet).spec.replicas ?? 0);
    maxSpec = Math.max(maxSpec, [...specs.values()].reduce((a, b) => a + b, 0));
  });
  t.teardown(() => {
    podSub.stop();
    rsSub.stop();
  });

  await c.registry.patch(R.deployments, 'default', 'web', 'strategic', { spec: { template: { spec: { containers: [{ name: 'app', image: 'kubelite/echo:2' }] } } } });
  const d = await until(async () => {
    const cur = await getDeploy(c);
    return cur.metadata.generation === 2 && deploymentRolloutStatus(cur).done && cur;
  }, 'rollout of v2');
  await until(async () => (await c.pods()).length === replicas, 'old pods gone');
  const now = await c.pods();
  t.true(now.every((p) => imageOf(p) === 'kubelite/echo:2' && isReady(p)));
  t.true(samples > 20, `sampled ${samples} changes`);
  t.true(minReady >= replicas - 1, `ready pods dipped to ${minReady}`);
  t.true(maxSpec <= replicas + 1, `ReplicaSets asked for ${maxSpec} pods`);
  t.is(d.metadata.annotations![REVISION], '2');
  const rss = await c.replicaSets();
  t.is(rss.length, 2);
  const oldRS = rss.find((r) => r.metadata.annotations![REVISION] === '1')!;
  t.is(oldRS.spec.replicas, 0, 'the old revision is kept, scaled to 0');
  t.like(d.status, { replicas, updatedReplicas: replicas, availableReplicas: replicas, observedGeneration: 2 });
});

test('maxUnavailable 0: availability never drops below replicas while pods start slowly', async (t) => {
  const c = await startCluster(['rs', 'deploy', 'scheduler', 'kubelet'], { kubelet: { startDelayMs: 30, stopDelayMs: 5 } });
  t.teardown(() => c.stop());
  await c.registry.create(R.deployments, deployment('web', { replicas: 3, surge: 1, unavailable: 0 }));
  await rolledOut(c);
  const pods = new Map<string, Pod>();
  for (const p of await c.pods()) pods.set(p.metadata.name!, p);
  let minReady = Infinity;
  const sub = c.registry.store.watch({ resource: R.pods }, (ev) => {
    if (ev.type === 'DELETED') pods.delete(ev.object.metadata.name!);
    else pods.set(ev.object.metadata.name!, ev.object as Pod);
    minReady = Math.min(minReady, [...pods.values()].filter((p) => isReady(p) && !p.metadata.deletionTimestamp).length);
  });
  t.teardown(() => sub.stop());
  await restartDeployment(c.registry, 'default', 'web');
  await until(async () => {
    const cur = await getDeploy(c);
    return cur.metadata.generation === 2 && deploymentRolloutStatus(cur).done;
  }, 'restart rolled out');
  t.is(minReady, 3);
  const d = await getDeploy(c);
  t.truthy(d.spec.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION]);
  await until(async () => (await c.pods()).length === 3, 'old pods gone');
  t.true((await c.pods()).every((p) => !!p.metadata.annotations?.[RESTARTED_AT_ANNOTATION]));
});

test('Recreate: every old pod is gone before the first new one is created', async (t) => {
  const c = await startCluster(['rs', 'deploy', 'scheduler', 'kubelet'], { kubelet: { stopDelayMs: 40 } });
  t.teardown(() => c.stop());
  await c.registry.create(R.deployments, deployment('web', { replicas: 3, recreate: true }));
  await rolledOut(c);
  const pods = new Map<string, Pod>();
  for (const p of await c.pods()) pods.set(p.metadata.name!, p);
  let overlap = 0;
  const sub = c.registry.store.watch({ resource: R.pods }, (ev) => {
    if (ev.type === 'ADDED' && imageOf(ev.object as Pod) === 'kubelite/echo:2') {
      if ([...pods.values()].some((p) => imageOf(p) === 'kubelite/echo:1')) overlap++;
    }
    if (ev.type === 'DELETED') pods.delete(ev.object.metadata.name!);
    else pods.set(ev.object.metadata.name!, ev.object as Pod);
  });
  t.teardown(() => sub.stop());
  await c.registry.patch(R.deployments, 'default', 'web', 'strategic', { spec: { template: { spec: { containers: [{ name: 'app', image: 'kubelite/echo:2' }] } } } });
  await until(async () => {
    const cur = await getDeploy(c);
    return cur.metadata.generation === 2 && deploymentRolloutStatus(cur).done;
  }, 'recreate rolled out');
  const now = await c.pods();
  t.is(now.length, 3);
  t.true(now.every((p) => imageOf(p) === 'kubelite/echo:2'));
  t.is(overlap, 0);
});

test('rollout undo returns to the previous template; the old ReplicaSet becomes the newest revision', async (t) => {
  const c = await startCluster(['rs', 'deploy', 'scheduler', 'kubelet']);
  t.teardown(() => c.stop());
  await c.registry.create(R.deployments, deployment('web', { replicas: 2 }));
  await rolledOut(c);
  // Change-cause is copied to the ReplicaSet current at the time: set it with the change it describes.
  await c.registry.patch(R.deployments, 'default', 'web', 'strategic', {
    metadata: { annotations: { 'kubernetes.io/change-cause': 'image v2' } },
    spec: { template: { spec: { containers: [{ name: 'app', image: 'kubelite/echo:2' }] } } },
  });
  await until(async () => {
    const d = await getDeploy(c);
    return d.metadata.generation === 2 && deploymentRolloutStatus(d).done;
  }, 'v2');
  let h = await deploymentHistory(c.registry, 'default', 'web');
  t.deepEqual(h.revisions.map((r) => [r.revision, r.changeCause]), [[1, undefined], [2, 'image v2']]);

  // Nothing to do when the target is the current template.
  const skip = await rollbackDeployment(c.registry, 'default', 'web', 2);
  t.deepEqual(skip, { kind: 'skipped', revision: 2, message: 'skipped rollback (current template already matches revision 2)' });
  await t.throwsAsync(rollbackDeployment(c.registry, 'default', 'web', 7), { message: 'unable to find specified revision 7 in history' });

  const r = await rollbackDeployment(c.registry, 'default', 'web');
  t.deepEqual(r, { kind: 'rolledBack', revision: 1 });
  const d = await until(async () => {
    const cur = await getDeploy(c);
    return cur.metadata.generation === 3 && deploymentRolloutStatus(cur).done && cur;
  }, 'rolled back');
  t.is(d.spec.template.spec.containers[0].image, 'kubelite/echo:1');
  t.is(d.spec.template.metadata?.labels?.['pod-template-hash'], undefined);
  t.is(d.metadata.annotations![REVISION], '3');
  t.false('kubernetes.io/change-cause' in d.metadata.annotations!, 'change-cause follows the restored revision');
  await until(async () => {
    const p = await c.pods();
    return p.length === 2 && p.every((x) => imageOf(x) === 'kubelite/echo:1');
  }, 'pods back on v1');
  const rss = await c.replicaSets();
  t.is(rss.length, 2, 'the old ReplicaSet was reused, not re-created');
  const v1 = rss.find((x) => x.spec.template!.spec.containers[0].image === 'kubelite/echo:1')!;
  t.is(v1.metadata.annotations![REVISION], '3');
  t.is(v1.metadata.annotations!['deployment.kubernetes.io/revision-history'], '1');
  h = await deploymentHistory(c.registry, 'default', 'web');
  t.deepEqual(h.revisions.map((x) => x.revision), [2, 3]);
});

test('paused: template changes wait, scaling still applies, resume rolls out', async (t) => {
  const c = await startCluster(['rs', 'deploy', 'scheduler', 'kubelet']);
  t.teardown(() => c.stop());
  await c.registry.create(R.deployments, deployment('web', { replicas: 2 }));
  await rolledOut(c);
  t.true(await setPaused(c.registry, 'default', 'web', true));
  t.false(await setPaused(c.registry, 'default', 'web', true));
  await c.registry.patch(R.deployments, 'default', 'web', 'strategic', { spec: { replicas: 3, template: { spec: { containers: [{ name: 'app', image: 'kubelite/echo:2' }] } } } });
  const paused = await until(async () => {
    const d = await getDeploy(c);
    return d.status?.observedGeneration === d.metadata.generation && d.status?.replicas === 3 && d;
  }, 'paused deployment observed and scaled');
  t.is(paused.status!.conditions!.find((x) => x.type === 'Progressing')?.reason, 'DeploymentPaused');
  t.is((await c.replicaSets()).length, 1, 'no new ReplicaSet while paused');
  await until(async () => (await c.pods()).length === 3, '3 pods of the old template');
  t.true((await c.pods()).every((p) => imageOf(p) === 'kubelite/echo:1'));
  await t.throwsAsync(rollbackDeployment(c.registry, 'default', 'web'), { message: /cannot rollback a paused deployment/ });
  await t.throwsAsync(restartDeployment(c.registry, 'default', 'web'), { message: /can't restart paused deployment/ });

  t.true(await setPaused(c.registry, 'default', 'web', false));
  await until(async () => {
    const p = activePods(await c.pods());
    const d = await getDeploy(c);
    return deploymentRolloutStatus(d).done && p.length === 3 && p.every((x) => imageOf(x) === 'kubelite/echo:2');
  }, 'rollout after resume');
  t.is((await getDeploy(c)).metadata.annotations![REVISION], '2');
});

test('a ReplicaSet name taken by a foreign object bumps collisionCount', async (t) => {
  const c = await startCluster(['rs', 'deploy', 'scheduler', 'kubelet']);
  t.teardown(() => c.stop());
  // What the API server's defaulting makes of the template is what gets hashed.
  const defaulted = deployment('web');
  applyDefaults(R.deployments, defaulted);
  const hash = podTemplateHash(defaulted.spec.template);
  // Same name, labels the Deployment does not select: it cannot adopt it, so the name is taken.
  await c.registry.create<ReplicaSet>(R.replicasets, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: `web-${hash}`, namespace: 'default' },
    spec: { replicas: 0, selector: { matchLabels: { other: 'x' } }, template: { metadata: { labels: { other: 'x' } }, spec: { containers: [{ name: 'c', image: 'kubelite/echo:1' }] } } },
  });
  await c.registry.create(R.deployments, deployment('web', { replicas: 1 }));
  const d = await rolledOut(c);
  t.is(d.status!.collisionCount, 1);
  const ours = (await c.replicaSets()).filter((r) => ownerUid(r) === d.metadata.uid);
  t.is(ours.length, 1);
  t.is(ours[0].metadata.name, `web-${podTemplateHash(d.spec.template, 1)}`);
  t.not(ours[0].metadata.name, `web-${hash}`);
});

test('a rollout that cannot progress reports ProgressDeadlineExceeded', async (t) => {
  const c = await startCluster(['rs', 'deploy', 'scheduler', 'kubelet'], { kubelet: { ready: (p) => p.spec.containers[0].image !== 'kubelite/broken:1' } });
  t.teardown(() => c.stop());
  await c.registry.create(R.deployments, deployment('web', { replicas: 2, progressDeadline: 1 }));
  await rolledOut(c);
  await c.registry.patch(R.deployments, 'default', 'web', 'strategic', { spec: { template: { spec: { containers: [{ name: 'app', image: 'kubelite/broken:1' }] } } } });
  const d = await until(async () => {
    const cur = await getDeploy(c);
    return cur.status?.conditions?.find((x) => x.type === 'Progressing' && x.reason === 'ProgressDeadlineExceeded') && cur;
  }, 'ProgressDeadlineExceeded', 8000);
  const st = deploymentRolloutStatus(d);
  t.false(st.done);
  t.is(st.error, 'deployment "web" exceeded its progress deadline');
  // The old pods keep serving: maxUnavailable 25% of 2 rounds down to 0.
  t.is((await c.pods()).filter((p) => isReady(p) && imageOf(p) === 'kubelite/echo:1').length, 2);
});

test('re-created after delete --cascade=orphan, a Deployment adopts its old ReplicaSet and pods', async (t) => {
  const c = await startCluster(['rs', 'deploy', 'gc', 'scheduler', 'kubelet']);
  t.teardown(() => c.stop());
  await c.registry.create(R.deployments, deployment('web', { replicas: 2 }));
  await rolledOut(c);
  const podsBefore = (await c.pods()).map((p) => p.metadata.name).sort();
  await c.registry.delete(R.deployments, 'default', 'web', { propagationPolicy: 'Orphan' });
  await until(async () => {
    const rss = await c.replicaSets();
    return rss.length === 1 && !rss[0].metadata.ownerReferences?.length && !(await c.registry.list(R.deployments, { namespace: 'default' })).items.length;
  }, 'an orphaned ReplicaSet and no Deployment');
  const d2 = await c.registry.create<Deployment>(R.deployments, deployment('web', { replicas: 2 }));
  await until(async () => ownerUid((await c.replicaSets())[0]) === d2.metadata.uid, 'adopted');
  await rolledOut(c);
  t.is((await c.replicaSets()).length, 1);
  t.deepEqual((await c.pods()).map((p) => p.metadata.name).sort(), podsBefore, 'the pods were kept');
});

test('rollout status messages follow kubectl', (t) => {
  const d = deployment('web', { replicas: 3 });
  d.metadata.generation = 2;
  d.status = { observedGeneration: 1 };
  t.is(deploymentRolloutStatus(d).message, 'Waiting for deployment spec update to be observed...');
  d.status = { observedGeneration: 2, replicas: 4, updatedReplicas: 1, availableReplicas: 3 };
  t.is(deploymentRolloutStatus(d).message, 'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...');
  d.status = { observedGeneration: 2, replicas: 4, updatedReplicas: 3, availableReplicas: 3 };
  t.is(deploymentRolloutStatus(d).message, 'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...');
  d.status = { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 1 };
  t.is(deploymentRolloutStatus(d).message, 'Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available...');
  d.status = { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 };
  t.deepEqual(deploymentRolloutStatus(d), { done: true, message: 'deployment "web" successfully rolled out' });
  d.status.conditions = [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }];
  t.is(deploymentRolloutStatus(d).error, 'deployment "web" exceeded its progress deadline');
  d.metadata.annotations = { [REVISION]: '4' };
  t.is(deploymentRolloutStatus(d, 3).error, 'desired revision (3) is different from the running revision (4)');
});
