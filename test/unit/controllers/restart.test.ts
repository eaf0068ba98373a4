import test from 'ava';
import type { Deployment, Pod } from '../../../src/api/types.js';
import { R } from '../../../src/api/resources.js';
import { deploymentRolloutStatus } from '../../../src/controllers/rollout.js';
import { activePods, deployment, isReady, startCluster, until, type Part, type TestCluster } from './fixtures.js';

const PARTS: Part[] = ['rs', 'deploy', 'gc', 'scheduler', 'kubelet'];

// Fresh controllers over the same stored state keep no memory of the old ones (expectations, assumed
// bindings, queues): what a `kill -9` and a restart leave them with.
test('controllers restarted again and again mid-rollout converge to exactly replicas pods', async (t) => {
  const kubelet = { startDelayMs: 20, stopDelayMs: 20 };
  const first = await startCluster(PARTS, { kubelet });
  let current: TestCluster = first;
  t.teardown(async () => {
    await current.stop();
    await first.stop();
  });
  const replicas = 5;
  await first.registry.create(R.deployments, deployment('web', { replicas, surge: 2, unavailable: 1 }));
  await until(async () => activePods(await first.pods()).filter(isReady).length === replicas, 'first rollout');

  let created = 0;
  const sub = first.registry.store.watch({ resource: R.pods }, (ev) => {
    if (ev.type === 'ADDED') created++;
  });
  t.teardown(() => sub.stop());
  await first.registry.patch(R.deployments, 'default', 'web', 'strategic', { spec: { template: { spec: { containers: [{ name: 'app', image: 'kubelite/echo:2' }] } } } });
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setTimeout(r, 15 + i * 20));
    await current.stopComponents();
    current = await startCluster(PARTS, { kubelet, registry: first.registry });
  }
  const d = await until(async () => {
    const cur = await current.registry.get<Deployment>(R.deployments, 'default', 'web');
    return cur.metadata.generation === 2 && deploymentRolloutStatus(cur).done && cur;
  }, 'rollout done after restarts', 20_000);
  const pods = await until(async () => {
    const p = await current.pods();
    return p.length === replicas && p;
  }, 'old pods gone');
  t.true(pods.every((p: Pod) => isReady(p) && p.spec.containers[0].image === 'kubelite/echo:2'));
  t.like(d.status, { replicas, updatedReplicas: replicas, availableReplicas: replicas });
  const rss = await current.replicaSets();
  t.deepEqual(rss.map((r) => r.spec.replicas).sort(), [0, replicas]);
  // A rolling update of 5 needs 5 new pods; restarts may cost a replacement or two, never a second set.
  t.true(created >= replicas && created <= replicas + 2, `${created} pods created`);
});
