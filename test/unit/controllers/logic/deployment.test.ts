// Deployment decisions, simulated step by step: apply the plan, let a fake ReplicaSet controller and a
// fake kubelet act, call again. Proves the RollingUpdate availability guarantee under random
// interleavings, Recreate's no-overlap, rollback, pause, proportional scaling, progress conditions,
// revision history and cleanup.

import test from 'ava';
import type { Deployment, Pod, PodTemplateSpec, ReplicaSet } from '../../../../src/api/types.js';
import { newReplicaSetFor, planRollout, podsByReplicaSet, podTemplateHash, type RolloutPlan } from '../../../../src/controllers/logic/deployment.js';
import { maxSurge, maxUnavailable, rollingUpdateError } from '../../../../src/controllers/logic/deployment-util.js';
import { podFromTemplate, reconcileReplicaSet } from '../../../../src/controllers/logic/replicaset.js';
import { isPodActive, isPodAvailable, controllerRef } from '../../../../src/controllers/logic/pod-status.js';
import { history, rollbackTarget } from '../../../../src/controllers/logic/rollout-history.js';

// ---------- a tiny cluster ----------

const T0 = new Date('2024-06-01T12:00:00Z');
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function template(image: string): PodTemplateSpec {
  return { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } };
}

function deployment(o: { replicas?: number; surge?: number | string; unavailable?: number | string; recreate?: boolean; minReady?: number; deadline?: number; historyLimit?: number } = {}): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'deploy-uid', generation: 1, annotations: {} },
    spec: {
      replicas: o.replicas ?? 4,
      selector: { matchLabels: { app: 'web' } },
      template: template('web:1'),
      strategy: o.recreate ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxSurge: o.surge ?? 1, maxUnavailable: o.unavailable ?? 0 } },
      minReadySeconds: o.minReady,
      progressDeadlineSeconds: o.deadline,
      revisionHistoryLimit: o.historyLimit,
    },
  };
}

/** A seeded PRNG (mulberry32) so random interleavings are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Cluster {
  now = T0;
  rss: ReplicaSet[] = [];
  pods: Pod[] = [];
  plans: RolloutPlan[] = [];
  events: string[] = [];
  private seq = 0;

  constructor(public d: Deployment) {}

  tick(seconds: number): void {
    this.now = new Date(this.now.getTime() + seconds * 1000);
  }

  plan(): RolloutPlan {
    return planRollout(this.d, this.rss, podsByReplicaSet(this.rss, this.pods), this.now);
  }

  /** One Deployment controller sync, applied the way the wiring will apply it. */
  syncDeployment(): RolloutPlan {
    const p = this.plan();
    if (p.create) {
      const rs = structuredClone(p.create);
      rs.metadata.uid = `rs-${++this.seq}`;
      rs.metadata.creationTimestamp = iso(new Date(this.now.getTime() + this.seq)); // distinct, ordered
      rs.metadata.generation = 1;
      this.rss.push(rs);
    }
    for (const u of p.scale) {
      const rs = this.rss.find((r) => r.metadata.name === u.rs)!;
      if (rs.spec.replicas !== u.replicas) rs.metadata.generation = (rs.metadata.generation ?? 1) + 1;
      rs.spec.replicas = u.replicas;
      if (u.annotations) rs.metadata.annotations = u.annotations;
      if (u.minReadySeconds !== undefined) rs.spec.minReadySeconds = u.minReadySeconds;
    }
    this.rss = this.rss.filter((r) => !p.deleteOld.includes(r.metadata.name!));
    this.d.status = p.status;
    if (p.annotations) this.d.metadata.annotations = p.annotations;
    this.events.push(...p.events.map((e) => e.message));
    this.plans.push(p);
    return p;
  }

  podsOf(rs: ReplicaSet): Pod[] {
    return this.pods.filter((p) => controllerRef(p)?.uid === rs.metadata.uid);
  }

  /** One ReplicaSet controller sync: create Pending pods, mark surplus ones terminating, write status. */
  syncReplicaSet(rs: ReplicaSet): void {
    const plan = reconcileReplicaSet(rs, this.podsOf(rs), this.now);
    for (let i = 0; i < plan.create; i++) {
      const p = podFromTemplate(rs, `p${++this.seq}`);
      p.metadata.uid = `pod-${this.seq}`;
      p.metadata.creationTimestamp = iso(this.now);
      p.status = { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }] };
      this.pods.push(p);
    }
    for (const victim of plan.delete) victim.metadata.deletionTimestamp = iso(this.now);
    rs.status = { ...plan.status, observedGeneration: rs.metadata.generation };
  }

  syncAllReplicaSets(): void {
    for (const rs of this.rss) this.syncReplicaSet(rs);
  }

  /** The kubelet starts a pending pod and it turns Ready now. */
  startPod(p: Pod): void {
    p.spec.nodeName = 'n1';
    p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: iso(this.now) }] };
  }

  startAll(): void {
    for (const p of this.pods) if (p.status?.phase === 'Pending' && isPodActive(p)) this.startPod(p);
  }

  finishTerminating(): void {
    this.pods = this.pods.filter((p) => !p.metadata.deletionTimestamp);
  }

  available(): number {
    const minReady = this.d.spec.minReadySeconds ?? 0;
    return this.pods.filter((p) => isPodActive(p) && isPodAvailable(p, minReady, this.now)).length;
  }

  newRS(): ReplicaSet | undefined {
    return this.rss.find((r) => r.metadata.name === `web-${podTemplateHash(this.d.spec.template, this.d.status?.collisionCount)}`);
  }

  /** Lock-step rounds until nothing changes. */
  settle(maxRounds = 100): void {
    for (let i = 0; i < maxRounds; i++) {
      const before = JSON.stringify([this.rss, this.pods, this.d.status]);
      this.syncDeployment();
      this.syncAllReplicaSets();
      this.startAll();
      this.finishTerminating();
      this.tick(1);
      if (JSON.stringify([this.rss, this.pods, this.d.status]) === before) return;
    }
    throw new Error('did not settle');
  }

  update(image: string, annotations: Record<string, string> = {}): void {
    this.d.spec.template = template(image);
    this.d.metadata.generation = (this.d.metadata.generation ?? 1) + 1;
    Object.assign(this.d.metadata.annotations!, annotations);
  }

  complete(): boolean {
    const s = this.d.status ?? {};
    const want = this.d.spec.replicas ?? 1;
    return (
      s.observedGeneration === this.d.metadata.generation &&
      s.updatedReplicas === want &&
      s.replicas === want &&
      s.availableReplicas === want &&
      this.pods.length === want &&
      this.rss.filter((r) => (r.spec.replicas ?? 0) > 0).length === 1
    );
  }
}

function condition(d: Deployment, type: string) {
  return d.status?.conditions?.find((c) => c.type === type);
}

// ---------- helpers: hash, fenceposts, new ReplicaSet ----------

test('podTemplateHash: short, safe alphabet, stable, sensitive to template and collision count', (t) => {
  const a = podTemplateHash(template('web:1'));
  t.regex(a, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  t.is(podTemplateHash({ spec: { containers: [{ image: 'web:1', name: 'web' }] }, metadata: { labels: { app: 'web' } } }), a);
  t.not(podTemplateHash(template('web:2')), a);
  t.not(podTemplateHash(template('web:1'), 1), a);
  t.not(podTemplateHash(template('web:1'), 1), podTemplateHash(template('web:1'), 2));
  const labelled = template('web:1');
  labelled.metadata!.labels!['pod-template-hash'] = a;
  t.is(podTemplateHash(labelled), a);
});

const fencepostCases: { replicas: number; surge?: number | string; unavailable?: number | string; recreate?: boolean; want: [number, number] }[] = [
  { replicas: 10, surge: '25%', unavailable: '25%', want: [3, 2] },
  { replicas: 4, surge: 1, unavailable: 0, want: [1, 0] },
  { replicas: 1, surge: '25%', unavailable: '25%', want: [1, 0] },
  { replicas: 3, surge: '0%', unavailable: '10%', want: [0, 1] }, // both round to 0: unavailable becomes 1
  { replicas: 5, surge: 0, unavailable: 9, want: [0, 5] }, // capped at replicas
  { replicas: 0, surge: 1, unavailable: 1, want: [1, 0] },
  { replicas: 4, recreate: true, want: [0, 0] },
];
for (const c of fencepostCases) {
  test(`fenceposts: ${c.replicas} replicas, surge ${c.surge}, unavailable ${c.unavailable}${c.recreate ? ', Recreate' : ''}`, (t) => {
    const d = deployment({ replicas: c.replicas, surge: c.surge, unavailable: c.unavailable, recreate: c.recreate });
    t.deepEqual([maxSurge(d), maxUnavailable(d)], c.want);
  });
}

test('rollingUpdateError: both zero as written is invalid', (t) => {
  t.is(rollingUpdateError(deployment({ surge: 0, unavailable: '0%' })), 'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0');
  t.is(rollingUpdateError(deployment({ surge: 1, unavailable: 0 })), undefined);
});

test('newReplicaSetFor: name, hash label and selector, annotations, owner', (t) => {
  const d = deployment({ replicas: 4, surge: 1 });
  d.metadata.annotations = { 'kubernetes.io/change-cause': 'kubectl set image', 'kubectl.kubernetes.io/last-applied-configuration': '{}', team: 'a' };
  const rs = newReplicaSetFor(d, 'abc123', { revision: 3, replicas: 1 });
  t.is(rs.metadata.name, 'web-abc123');
  t.is(rs.metadata.namespace, 'default');
  t.deepEqual(rs.metadata.labels, { app: 'web', 'pod-template-hash': 'abc123' });
  t.deepEqual(rs.spec.selector, { matchLabels: { app: 'web', 'pod-template-hash': 'abc123' } });
  t.deepEqual(rs.spec.template!.metadata!.labels, { app: 'web', 'pod-template-hash': 'abc123' });
  t.deepEqual(d.spec.template.metadata!.labels, { app: 'web' }, 'the deployment template is not modified');
  t.deepEqual(rs.metadata.annotations, {
    'kubernetes.io/change-cause': 'kubectl set image',
    team: 'a',
    'deployment.kubernetes.io/revision': '3',
    'deployment.kubernetes.io/desired-replicas': '4',
    'deployment.kubernetes.io/max-replicas': '5',
  });
  t.is(rs.spec.replicas, 1);
  t.deepEqual(rs.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'deploy-uid', controller: true, blockOwnerDeletion: true }]);
});

// ---------- first rollout ----------

test('first sync creates revision 1 sized to the surge limit, with NewReplicaSetCreated', (t) => {
  const c = new Cluster(deployment({ replicas: 4, surge: 1, unavailable: 0 }));
  const p = c.syncDeployment();
  t.truthy(p.create);
  t.is(p.create!.spec.replicas, 4);
  t.is(p.create!.metadata.annotations!['deployment.kubernetes.io/revision'], '1');
  t.deepEqual(p.annotations, { 'deployment.kubernetes.io/revision': '1' });
  t.deepEqual(p.events, [{ type: 'Normal', reason: 'ScalingReplicaSet', message: `Scaled up replica set ${p.create!.metadata.name} to 4` }]);
  const prog = condition(c.d, 'Progressing')!;
  t.is(prog.reason, 'NewReplicaSetCreated');
  t.is(prog.message, `Created new replica set "${p.create!.metadata.name}"`);
  t.is(condition(c.d, 'Available')!.reason, 'MinimumReplicasUnavailable');
  t.is(condition(c.d, 'Available')!.message, 'Deployment does not have minimum availability.');
  c.settle();
  t.true(c.complete());
  t.is(condition(c.d, 'Available')!.status, 'True');
  t.is(condition(c.d, 'Available')!.reason, 'MinimumReplicasAvailable');
  t.is(condition(c.d, 'Progressing')!.reason, 'NewReplicaSetAvailable');
  t.is(condition(c.d, 'Progressing')!.message, `ReplicaSet "${p.create!.metadata.name}" has successfully progressed.`);
  // a settled deployment plans nothing and writes nothing
  const idle = c.plan();
  t.deepEqual([idle.scale, idle.create, idle.deleteOld, idle.statusChanged], [[], undefined, [], false]);
});

// ---------- RollingUpdate, maxSurge 1 / maxUnavailable 0 ----------

test('rolling update 4 replicas, surge 1, unavailable 0, lock-step: exact sequence, availability never below 4', (t) => {
  const c = new Cluster(deployment({ replicas: 4, surge: 1, unavailable: 0 }));
  c.settle();
  c.update('web:2');
  const steps: string[] = [];
  for (let i = 0; i < 50 && !c.complete(); i++) {
    c.syncDeployment();
    const nw = c.newRS();
    const old = c.rss.filter((r) => r !== nw);
    steps.push(`${nw?.spec.replicas ?? 0}/${old.reduce((n, r) => n + (r.spec.replicas ?? 0), 0)}`);
    t.true(c.available() >= 4, `available ${c.available()} after deployment sync ${i}`);
    c.syncAllReplicaSets();
    t.true(c.available() >= 4, `available ${c.available()} after ReplicaSet sync ${i}`);
    c.startAll();
    c.finishTerminating();
    c.tick(1);
  }
  t.true(c.complete());
  // new/old spec.replicas after each deployment sync: surge one, wait for it, drop one old, ...
  t.deepEqual(steps.slice(0, 8), ['1/4', '1/3', '2/3', '2/2', '3/2', '3/1', '4/1', '4/0']);
  t.deepEqual(c.events.slice(-8), [
    `Scaled up replica set ${c.newRS()!.metadata.name} to 1`,
    `Scaled down replica set ${c.rss.find((r) => r !== c.newRS())!.metadata.name} to 3 from 4`,
    `Scaled up replica set ${c.newRS()!.metadata.name} to 2 from 1`,
    `Scaled down replica set ${c.rss.find((r) => r !== c.newRS())!.metadata.name} to 2 from 3`,
    `Scaled up replica set ${c.newRS()!.metadata.name} to 3 from 2`,
    `Scaled down replica set ${c.rss.find((r) => r !== c.newRS())!.metadata.name} to 1 from 2`,
    `Scaled up replica set ${c.newRS()!.metadata.name} to 4 from 3`,
    `Scaled down replica set ${c.rss.find((r) => r !== c.newRS())!.metadata.name} to 0 from 1`,
  ]);
  t.is(c.d.metadata.annotations!['deployment.kubernetes.io/revision'], '2');
  t.is(condition(c.d, 'Progressing')!.reason, 'NewReplicaSetAvailable');
});

/** Random interleavings of every actor; returns the minimum availability seen and whether it completed. */
function randomRollout(seed: number, o: { replicas: number; surge: number | string; unavailable: number | string; minReady?: number; updates?: number }) {
  const rand = prng(seed);
  const c = new Cluster(deployment({ replicas: o.replicas, surge: o.surge, unavailable: o.unavailable, minReady: o.minReady }));
  c.settle();
  c.tick(o.minReady ?? 0);
  c.settle();
  let minAvailable = Infinity;
  let maxSpec = 0;
  let updates = 0;
  c.update('web:2');
  for (let step = 0; step < 5000; step++) {
    const r = rand();
    if (r < 0.25) c.syncDeployment();
    else if (r < 0.55) {
      if (c.rss.length) c.syncReplicaSet(c.rss[Math.floor(rand() * c.rss.length)]);
    } else if (r < 0.75) {
      const pending = c.pods.filter((p) => p.status?.phase === 'Pending' && isPodActive(p));
      if (pending.length) c.startPod(pending[Math.floor(rand() * pending.length)]);
    } else if (r < 0.9) {
      const dying = c.pods.filter((p) => p.metadata.deletionTimestamp);
      if (dying.length) {
        const victim = dying[Math.floor(rand() * dying.length)];
        c.pods = c.pods.filter((p) => p !== victim);
      }
    } else c.tick(1 + Math.floor(rand() * 3));
    minAvailable = Math.min(minAvailable, c.available());
    maxSpec = Math.max(maxSpec, c.rss.reduce((n, x) => n + (x.spec.replicas ?? 0), 0));
    // a second template change in the middle of the rollout (roll-over) must not break the guarantee
    if (o.updates && updates < o.updates && step === 40) {
      c.update(`web:${3 + updates++}`);
    }
    if (c.complete()) return { minAvailable, maxSpec, complete: true, c };
  }
  return { minAvailable, maxSpec, complete: false, c };
}

for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) {
  test(`rolling update 4 replicas, surge 1, unavailable 0, random interleaving seed ${seed}: never below 4, completes`, (t) => {
    const r = randomRollout(seed, { replicas: 4, surge: 1, unavailable: 0, updates: seed % 3 === 0 ? 1 : 0 });
    t.true(r.complete, 'rollout completed');
    t.true(r.minAvailable >= 4, `minimum availability ${r.minAvailable}`);
    t.true(r.maxSpec <= 5, `spec total reached ${r.maxSpec}`);
  });
}

for (const seed of [21, 22, 23, 24]) {
  test(`rolling update 10 replicas, 25%/25%, minReadySeconds 3, seed ${seed}: never below 8 available, never above 13 asked`, (t) => {
    const r = randomRollout(seed, { replicas: 10, surge: '25%', unavailable: '25%', minReady: 3 });
    t.true(r.complete);
    t.true(r.minAvailable >= 8, `minimum availability ${r.minAvailable}`);
    t.true(r.maxSpec <= 13, `spec total reached ${r.maxSpec}`);
  });
}

test('surge bound: the ReplicaSets together never ask for more than replicas + maxSurge', (t) => {
  const rand = prng(99);
  const c = new Cluster(deployment({ replicas: 6, surge: 2, unavailable: 1 }));
  c.settle();
  c.update('web:2');
  for (let i = 0; i < 3000 && !c.complete(); i++) {
    const r = rand();
    if (r < 0.3) c.syncDeployment();
    else if (r < 0.6) c.syncAllReplicaSets();
    else if (r < 0.8) c.startAll();
    else c.finishTerminating();
    const specTotal = c.rss.reduce((n, x) => n + (x.spec.replicas ?? 0), 0);
    t.true(specTotal <= 8, `spec total ${specTotal}`);
    t.true(c.available() >= 5 || i === 0, `available ${c.available()}`);
  }
  t.true(c.complete());
});

test('minReadySeconds: old pods wait until new ones have been ready long enough; requeueAfter says when', (t) => {
  const c = new Cluster(deployment({ replicas: 2, surge: 1, unavailable: 0, minReady: 10 }));
  c.settle();
  c.tick(10);
  c.settle();
  c.update('web:2');
  c.syncDeployment(); // new RS at 1
  c.syncAllReplicaSets();
  c.startAll(); // ready now, available in 10 s
  const p = c.syncDeployment();
  t.deepEqual(p.scale, []);
  t.is(p.requeueAfterSeconds, 10);
  c.tick(9);
  t.deepEqual(c.syncDeployment().scale, []);
  c.tick(1);
  const moved = c.syncDeployment();
  t.deepEqual(moved.scale.map((s) => s.replicas), [1]);
  t.is(moved.scale[0].rs, c.rss.find((r) => r !== c.newRS())!.metadata.name!);
});

test('unhealthy old pods are cleaned up first, without waiting for new ones', (t) => {
  const c = new Cluster(deployment({ replicas: 4, surge: 1, unavailable: 1 }));
  c.settle();
  // two old pods crash
  const old = c.pods.slice(0, 2);
  for (const p of old) p.status!.conditions = [{ type: 'Ready', status: 'False' }];
  c.update('web:2');
  const p = c.syncDeployment();
  // new RS created at 1 (4+1-4); old RS: maxScaledDown = 5 - 3 - 1 = 1 -> one unhealthy replica dropped
  t.is(p.create!.spec.replicas, 1);
  t.deepEqual(p.scale.map((s) => [s.rs, s.replicas]), [[c.rss[0].metadata.name, 3]]);
  c.syncAllReplicaSets();
  // the ReplicaSet deletes a not-ready pod, never a ready one
  const dying = c.pods.filter((x) => x.metadata.deletionTimestamp);
  t.is(dying.length, 1);
  t.true(old.includes(dying[0]));
});

// ---------- Recreate ----------

test('Recreate: old scaled to 0, new created only once old pods are gone (terminating ones too)', (t) => {
  const c = new Cluster(deployment({ replicas: 3, recreate: true }));
  c.settle();
  t.true(c.complete());
  c.update('web:2');
  const p1 = c.syncDeployment();
  t.is(p1.create, undefined);
  t.deepEqual(p1.scale.map((s) => s.replicas), [0]);
  c.syncAllReplicaSets(); // pods now terminating
  t.is(c.pods.filter((x) => x.metadata.deletionTimestamp).length, 3);
  const p2 = c.syncDeployment();
  t.is(p2.create, undefined, 'terminating old pods still block the new ReplicaSet');
  t.deepEqual(p2.scale, []);
  c.finishTerminating();
  t.is(c.syncDeployment().create, undefined, 'the old ReplicaSet status still counts pods (as in Kubernetes)');
  c.syncAllReplicaSets();
  const p3 = c.syncDeployment();
  t.is(p3.create?.spec.replicas, 3);
  // never old and new pods alive together
  for (let i = 0; i < 20 && !c.complete(); i++) {
    c.syncAllReplicaSets();
    const owners = new Set(c.pods.filter((x) => !x.metadata.deletionTimestamp).map((x) => controllerRef(x)!.uid));
    t.true(owners.size <= 1);
    c.startAll();
    c.syncDeployment();
  }
  t.true(c.complete());
});

// ---------- rollback, history, cleanup ----------

test('rollback: the old ReplicaSet becomes the newest revision; history and change-cause follow', (t) => {
  const c = new Cluster(deployment({ replicas: 2, surge: 1, unavailable: 0 }));
  c.d.metadata.annotations = { 'kubernetes.io/change-cause': 'create web:1' };
  c.settle();
  c.update('web:2', { 'kubernetes.io/change-cause': 'set image web:2' });
  c.settle();
  t.true(c.complete());
  t.deepEqual(
    history(c.d, c.rss).map((h) => [h.revision, h.changeCause, h.template.spec.containers[0].image]),
    [
      [1, 'create web:1', 'web:1'],
      [2, 'set image web:2', 'web:2'],
    ],
  );
  const target = rollbackTarget(c.d, c.rss);
  if (target.kind !== 'rollback') return t.fail(JSON.stringify(target));
  t.is(target.revision, 1);
  t.deepEqual(target.template.metadata!.labels, { app: 'web' }, 'pod-template-hash removed');
  t.is(target.annotations['kubernetes.io/change-cause'], 'create web:1');
  t.is(target.annotations['deployment.kubernetes.io/revision'], '2', "the deployment's own revision is kept");
  const rsCount = c.rss.length;
  c.d.spec.template = target.template;
  c.d.metadata.annotations = target.annotations;
  c.d.metadata.generation! += 1;
  c.settle();
  t.true(c.complete());
  t.is(c.rss.length, rsCount, 'no new ReplicaSet: the old one is reused');
  const revived = c.newRS()!;
  t.is(revived.metadata.annotations!['deployment.kubernetes.io/revision'], '3');
  t.is(revived.metadata.annotations!['deployment.kubernetes.io/revision-history'], '1');
  t.is(c.d.metadata.annotations!['deployment.kubernetes.io/revision'], '3');
  t.deepEqual(history(c.d, c.rss).map((h) => h.revision), [2, 3]);
  t.deepEqual(rollbackTarget(c.d, c.rss, 3), { kind: 'skip', revision: 3, message: 'skipped rollback (current template already matches revision 3)' });
  t.deepEqual(rollbackTarget(c.d, c.rss, 7), { kind: 'error', message: 'unable to find specified revision 7 in history' });
  const fresh = new Cluster(deployment());
  t.deepEqual(rollbackTarget(fresh.d, []), { kind: 'error', message: 'no rollout history found for deployment "web"' });
});

test('revisionHistoryLimit: old ReplicaSets beyond the limit are deleted once empty', (t) => {
  const c = new Cluster(deployment({ replicas: 2, surge: 1, unavailable: 0, historyLimit: 1 }));
  c.settle();
  for (const v of ['web:2', 'web:3', 'web:4']) {
    c.update(v);
    c.settle();
    t.true(c.complete());
  }
  t.is(c.rss.length, 2, 'the current ReplicaSet and one old one');
  t.deepEqual(c.rss.map((r) => r.spec.template!.spec.containers[0].image).sort(), ['web:3', 'web:4']);
  t.true(c.plans.some((p) => p.deleteOld.length > 0));
});

// ---------- pause, scaling ----------

test('paused: no new ReplicaSet, Progressing Unknown/DeploymentPaused; scaling still applies; resume rolls out', (t) => {
  const c = new Cluster(deployment({ replicas: 3, surge: 1, unavailable: 0 }));
  c.settle();
  c.d.spec.paused = true;
  c.update('web:2');
  const p = c.syncDeployment();
  t.is(p.create, undefined);
  t.deepEqual(p.scale, []);
  t.deepEqual([condition(c.d, 'Progressing')!.status, condition(c.d, 'Progressing')!.reason, condition(c.d, 'Progressing')!.message], ['Unknown', 'DeploymentPaused', 'Deployment is paused']);
  // scale while paused: the only active ReplicaSet takes it all
  c.d.spec.replicas = 5;
  const s = c.syncDeployment();
  t.deepEqual(s.scale.map((x) => [x.replicas, x.annotations?.['deployment.kubernetes.io/desired-replicas']]), [[5, '5']]);
  c.settle();
  t.is(c.pods.length, 5);
  t.true(c.pods.every((x) => x.spec.containers[0].image === 'web:1'));
  // resume
  c.d.spec.paused = false;
  const r = c.syncDeployment();
  t.truthy(r.create);
  t.is(condition(c.d, 'Progressing')!.reason, 'NewReplicaSetCreated');
  c.settle();
  t.true(c.complete());
  t.true(c.pods.every((x) => x.spec.containers[0].image === 'web:2'));
});

test('proportional scaling mid-rollout (the Kubernetes docs example: 10 -> 15 with 8 old + 5 new)', (t) => {
  const c = new Cluster(deployment({ replicas: 10, surge: 3, unavailable: 2 }));
  c.settle();
  c.update('web:2');
  c.syncDeployment();
  const newRS = c.newRS()!;
  const oldRS = c.rss.find((r) => r !== newRS)!;
  // freeze the rollout where the docs have it: old 8, new 5 (new pods never become ready)
  t.is(newRS.spec.replicas, 3);
  t.is(oldRS.spec.replicas, 8);
  newRS.spec.replicas = 5;
  c.d.spec.replicas = 15;
  const p = c.syncDeployment();
  t.deepEqual(
    p.scale.map((s) => [s.rs, s.replicas]),
    [
      [oldRS.metadata.name, 11],
      [newRS.metadata.name, 7],
    ],
  );
  t.is(p.scale[0].annotations!['deployment.kubernetes.io/max-replicas'], '18');
});

test('scale to zero and back', (t) => {
  const c = new Cluster(deployment({ replicas: 3 }));
  c.settle();
  c.d.spec.replicas = 0;
  c.settle();
  t.is(c.pods.length, 0);
  t.is(condition(c.d, 'Available')!.status, 'True');
  c.d.spec.replicas = 2;
  c.settle();
  t.is(c.pods.length, 2);
});

// ---------- progress deadline ----------

test('progress deadline: ReplicaSetUpdated while moving, ProgressDeadlineExceeded when stuck, then success', (t) => {
  const c = new Cluster(deployment({ replicas: 2, surge: 1, unavailable: 0, deadline: 60 }));
  c.settle();
  c.update('web:2');
  c.syncDeployment();
  t.is(condition(c.d, 'Progressing')!.reason, 'NewReplicaSetCreated');
  c.syncAllReplicaSets(); // new pod created but never starts
  let p = c.syncDeployment();
  t.is(condition(c.d, 'Progressing')!.reason, 'ReplicaSetUpdated', 'a created pod is progress');
  c.tick(30);
  p = c.syncDeployment();
  t.is(condition(c.d, 'Progressing')!.reason, 'ReplicaSetUpdated');
  t.false(p.statusChanged);
  t.is(p.requeueAfterSeconds, 31);
  c.tick(31);
  p = c.syncDeployment();
  const cond = condition(c.d, 'Progressing')!;
  t.deepEqual([cond.status, cond.reason, cond.message], ['False', 'ProgressDeadlineExceeded', `ReplicaSet "${c.newRS()!.metadata.name}" has timed out progressing.`]);
  t.true(p.statusChanged);
  t.false(c.syncDeployment().statusChanged, 'timed out stays timed out, no rewrite');
  // the pod finally starts: progress is reported again, then success
  c.startAll();
  c.syncDeployment();
  t.is(condition(c.d, 'Progressing')!.reason, 'ReplicaSetUpdated');
  t.is(condition(c.d, 'Progressing')!.message, `ReplicaSet "${c.newRS()!.metadata.name}" is progressing.`);
  c.settle();
  t.is(condition(c.d, 'Progressing')!.reason, 'NewReplicaSetAvailable');
  t.is(condition(c.d, 'Progressing')!.status, 'True');
});

test('status fields: observedGeneration, replicas, updated, ready, available, unavailable', (t) => {
  const c = new Cluster(deployment({ replicas: 4, surge: 1, unavailable: 0 }));
  c.d.metadata.generation = 5;
  c.syncDeployment();
  c.syncAllReplicaSets();
  c.pods.slice(0, 3).forEach((p) => c.startPod(p));
  const p = c.syncDeployment();
  t.like(p.status, { observedGeneration: 5, replicas: 4, updatedReplicas: 4, readyReplicas: 3, availableReplicas: 3, unavailableReplicas: 1 });
});

// ---------- edge cases ----------

test('hash collision with a ReplicaSet of another template bumps collisionCount, then a new name is used', (t) => {
  const c = new Cluster(deployment({ replicas: 1 }));
  const squatter = newReplicaSetFor(c.d, podTemplateHash(c.d.spec.template), { revision: 1 });
  squatter.spec.template = template('something-else');
  squatter.metadata.uid = 'squatter';
  c.rss.push(squatter);
  const p = c.syncDeployment();
  t.is(p.create, undefined);
  t.is(p.status.collisionCount, 1);
  const p2 = c.syncDeployment();
  t.truthy(p2.create);
  t.not(p2.create!.metadata.name, squatter.metadata.name);
  t.is(p2.create!.metadata.name, `web-${podTemplateHash(c.d.spec.template, 1)}`);
});

test('an empty selector does nothing but warn', (t) => {
  const d = deployment();
  d.spec.selector = {};
  const p = planRollout(d, [], new Map(), T0);
  t.deepEqual([p.create, p.scale, p.events[0].reason], [undefined, [], 'SelectingAll']);
  t.is(p.status.observedGeneration, 1);
});

test('a Deployment being deleted only reports status', (t) => {
  const c = new Cluster(deployment({ replicas: 2 }));
  c.settle();
  c.d.metadata.deletionTimestamp = iso(c.now);
  c.d.spec.replicas = 5;
  c.update('web:9');
  const p = c.plan();
  t.deepEqual([p.create, p.scale], [undefined, []]);
  t.is(p.status.replicas, 2);
});
