// Garbage-collector decisions: background deletion of dependents whose owners are gone, orphaning,
// foreground deletion, and when the owners' finalizers can go.

import test from 'ava';
import type { OwnerReference } from '../../../../src/api/types.js';
import { gcObjectOf, planGC, type GCObject, type GCPlan } from '../../../../src/controllers/logic/gc.js';

function ref(uid: string, o: { block?: boolean; controller?: boolean } = {}): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: uid, uid, controller: o.controller ?? true, blockOwnerDeletion: o.block ?? true };
}

function obj(uid: string, o: { owners?: OwnerReference[]; deleting?: boolean; finalizers?: string[]; ns?: string } = {}): GCObject {
  return {
    uid,
    name: uid,
    namespace: o.ns ?? 'default',
    ownerReferences: o.owners,
    deletionTimestamp: o.deleting ? '2024-06-01T12:00:00Z' : undefined,
    finalizers: o.finalizers,
  };
}

function sorted(p: GCPlan): GCPlan {
  return {
    deleteDependents: [...p.deleteDependents].sort((a, b) => a.uid.localeCompare(b.uid)),
    orphanDependents: [...p.orphanDependents].map((x) => ({ uid: x.uid, ownerUids: [...x.ownerUids].sort() })).sort((a, b) => a.uid.localeCompare(b.uid)),
    removeFinalizers: [...p.removeFinalizers].sort((a, b) => a.uid.localeCompare(b.uid)),
  };
}

const empty: GCPlan = { deleteDependents: [], orphanDependents: [], removeFinalizers: [] };

const cases: { name: string; objects: GCObject[]; want: Partial<GCPlan> }[] = [
  {
    name: 'owner present: nothing to do',
    objects: [obj('rs'), obj('pod', { owners: [ref('rs')] })],
    want: {},
  },
  {
    name: 'owner gone: background delete',
    objects: [obj('pod-a', { owners: [ref('rs')] }), obj('pod-b', { owners: [ref('rs')] }), obj('unowned')],
    want: { deleteDependents: [{ uid: 'pod-a', propagationPolicy: 'Background' }, { uid: 'pod-b', propagationPolicy: 'Background' }] },
  },
  {
    name: 'owner gone, dependent has its own dependents: a chain goes level by level',
    objects: [obj('rs', { owners: [ref('deploy')] }), obj('pod', { owners: [ref('rs')] })],
    want: { deleteDependents: [{ uid: 'rs', propagationPolicy: 'Background' }] },
  },
  {
    name: 'one of two owners gone: keep the object, drop the dangling reference',
    objects: [obj('a'), obj('cm', { owners: [ref('a', { controller: false }), ref('b', { controller: false })] })],
    want: { orphanDependents: [{ uid: 'cm', ownerUids: ['b'] }] },
  },
  {
    name: 'an owner with the same uid in another namespace does not count',
    objects: [obj('rs', { ns: 'other' }), obj('pod', { owners: [ref('rs')] })],
    want: { deleteDependents: [{ uid: 'pod', propagationPolicy: 'Background' }] },
  },
  {
    name: 'a cluster-scoped owner counts for a namespaced dependent',
    objects: [{ uid: 'node', name: 'node', kind: 'Node' }, obj('lease', { owners: [ref('node')] })],
    want: {},
  },
  {
    name: 'a dependent already being deleted is left alone',
    objects: [obj('pod', { owners: [ref('rs')], deleting: true })],
    want: {},
  },
  {
    name: 'orphan: dependents lose the reference; the finalizer waits for that',
    objects: [obj('rs', { deleting: true, finalizers: ['orphan'] }), obj('pod-a', { owners: [ref('rs')] }), obj('pod-b', { owners: [ref('rs'), ref('other', { controller: false })] }), obj('other')],
    want: { orphanDependents: [{ uid: 'pod-a', ownerUids: ['rs'] }, { uid: 'pod-b', ownerUids: ['rs'] }] },
  },
  {
    name: 'orphan: no dependents left, the finalizer goes',
    objects: [obj('rs', { deleting: true, finalizers: ['orphan'] }), obj('pod-a')],
    want: { removeFinalizers: [{ uid: 'rs', finalizer: 'orphan' }] },
  },
  {
    name: 'foreground: dependents deleted, owner waits for the blocking ones',
    objects: [obj('deploy', { deleting: true, finalizers: ['foregroundDeletion'] }), obj('rs', { owners: [ref('deploy')] }), obj('pod', { owners: [ref('rs')] })],
    want: { deleteDependents: [{ uid: 'rs', propagationPolicy: 'Foreground' }] },
  },
  {
    name: 'foreground: a dependent without dependents of its own is deleted in background',
    objects: [obj('rs', { deleting: true, finalizers: ['foregroundDeletion'] }), obj('pod', { owners: [ref('rs')] })],
    want: { deleteDependents: [{ uid: 'pod', propagationPolicy: 'Background' }] },
  },
  {
    name: 'foreground: a terminating blocking dependent still holds the owner',
    objects: [obj('rs', { deleting: true, finalizers: ['foregroundDeletion'] }), obj('pod', { owners: [ref('rs')], deleting: true })],
    want: {},
  },
  {
    name: 'foreground: only non-blocking dependents left, the finalizer goes (they are still deleted)',
    objects: [obj('rs', { deleting: true, finalizers: ['foregroundDeletion'] }), obj('pod', { owners: [ref('rs', { block: false })] })],
    want: { deleteDependents: [{ uid: 'pod', propagationPolicy: 'Background' }], removeFinalizers: [{ uid: 'rs', finalizer: 'foregroundDeletion' }] },
  },
  {
    name: 'foreground: a dependent that also has a live owner just drops the reference',
    objects: [obj('rs', { deleting: true, finalizers: ['foregroundDeletion'] }), obj('keeper'), obj('cm', { owners: [ref('rs'), ref('keeper', { controller: false })] })],
    want: { orphanDependents: [{ uid: 'cm', ownerUids: ['rs'] }] },
  },
  {
    name: 'garbage that carries the orphan finalizer itself is deleted with Orphan',
    objects: [obj('rs', { owners: [ref('deploy')], finalizers: ['orphan'] })],
    want: { deleteDependents: [{ uid: 'rs', propagationPolicy: 'Orphan' }] },
  },
];

for (const c of cases) {
  test(`gc: ${c.name}`, (t) => {
    t.deepEqual(sorted(planGC(c.objects)), sorted({ ...empty, ...c.want }));
  });
}

test('gc: level-triggered cascade converges (Deployment -> ReplicaSet -> Pods, background)', (t) => {
  let world: GCObject[] = [obj('rs', { owners: [ref('deploy')] }), ...['p1', 'p2', 'p3'].map((p) => obj(p, { owners: [ref('rs')] }))];
  // the Deployment was deleted in background: it is simply gone
  for (let round = 0; round < 5 && world.length; round++) {
    const plan = planGC(world);
    const doomed = new Set(plan.deleteDependents.map((d) => d.uid));
    world = world.filter((o) => !doomed.has(o.uid));
  }
  t.deepEqual(world, []);
});

test('gc: foreground cascade converges and the owner goes last', (t) => {
  let world: GCObject[] = [
    obj('deploy', { deleting: true, finalizers: ['foregroundDeletion'] }),
    obj('rs', { owners: [ref('deploy')] }),
    obj('p1', { owners: [ref('rs')] }),
    obj('p2', { owners: [ref('rs')] }),
  ];
  const order: string[] = [];
  for (let round = 0; round < 10 && world.length; round++) {
    const plan = planGC(world);
    const next: GCObject[] = [];
    for (const o of world) {
      const del = plan.deleteDependents.find((d) => d.uid === o.uid);
      const fin = plan.removeFinalizers.find((f) => f.uid === o.uid);
      let cur = o;
      if (fin) cur = { ...cur, finalizers: (cur.finalizers ?? []).filter((f) => f !== fin.finalizer) };
      if (del?.propagationPolicy === 'Foreground') cur = { ...cur, deletionTimestamp: 'now', finalizers: ['foregroundDeletion'] };
      // an object being deleted without finalizers is removed by the store
      const goneNow = (del && del.propagationPolicy === 'Background') || (cur.deletionTimestamp && !(cur.finalizers ?? []).length);
      if (goneNow) order.push(o.uid);
      else next.push(cur);
    }
    world = next;
  }
  t.deepEqual(world, []);
  t.is(order[order.length - 1], 'deploy');
  t.true(order.indexOf('rs') > order.indexOf('p1'));
});

test('gcObjectOf: reads the facts from any object', (t) => {
  t.deepEqual(gcObjectOf({ kind: 'Pod', metadata: { uid: 'u', name: 'p', namespace: 'ns', finalizers: ['x'] } }), {
    uid: 'u',
    kind: 'Pod',
    name: 'p',
    namespace: 'ns',
    ownerReferences: undefined,
    deletionTimestamp: undefined,
    finalizers: ['x'],
  });
});
