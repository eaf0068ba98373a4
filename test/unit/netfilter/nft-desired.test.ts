// The incremental desired table: through a long random sequence of Service and Endpoints changes, the
// state updated per changed service port always equals a full render of the whole model, and the diff
// it returns is exactly the difference from the state before. Plus the model cache's delta.

import test from 'ava';
import type { Endpoints, Service } from '../../../src/api/types.js';
import { hostNames } from '../../../src/config.js';
import { ModelCache } from '../../../src/netfilter/model-cache.js';
import { buildProxyModel } from '../../../src/netfilter/model.js';
import { NftDesired } from '../../../src/netfilter/nft-desired.js';
import { NFT_MAPS } from '../../../src/netfilter/nft-names.js';
import { newNftRenderCache, renderNft, type NftState } from '../../../src/netfilter/nft-render.js';
import { diffNft, isEmptyNftDiff, type NftDiff } from '../../../src/netfilter/nft-script.js';

const CFG = { names: hostNames({ instance: 'inc' }), podCIDR: '10.244.0.0/24', serviceCIDR: '10.96.0.0/12' };

/** A small deterministic PRNG (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function service(i: number, r: () => number): Service {
  const kind = Math.floor(r() * 4);
  const spec: Service['spec'] = { clusterIP: `10.96.0.${i + 1}`, ports: [{ name: 'http', port: 80 }] };
  if (kind >= 1) Object.assign(spec, { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30000 + i }] });
  if (kind === 2) Object.assign(spec, { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 + Math.floor(r() * 3) } } });
  if (kind === 3) Object.assign(spec, { externalTrafficPolicy: 'Local', externalIPs: [`192.0.2.${1 + Math.floor(r() * 3)}`] });
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'inc', name: `s${i}` }, spec };
}

function endpoints(i: number, r: () => number): Endpoints {
  // Few addresses, so hairpin elements are shared between Services and come and go.
  const ips = [...new Set(Array.from({ length: Math.floor(r() * 4) }, () => `10.244.0.${1 + Math.floor(r() * 6)}`))];
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { namespace: 'inc', name: `s${i}` },
    subsets: ips.length ? [{ addresses: ips.map((ip) => ({ ip, ...(r() < 0.3 ? { nodeName: 'other' } : {}) })), ports: [{ name: 'http', port: 8080 }] }] : [],
  };
}

function snapshot(s: NftState): NftState {
  return {
    chains: new Map(s.chains),
    maps: Object.fromEntries(NFT_MAPS.map((m) => [m, new Map(s.maps[m])])) as NftState['maps'],
    hairpin: new Set(s.hairpin),
    affinity: new Map(s.affinity),
  };
}

const sorted = (d: NftDiff) =>
  JSON.stringify({
    create: [...d.create].sort(),
    rewrite: [...d.rewrite].sort(),
    remove: [...d.remove].sort(),
    elements: Object.fromEntries(NFT_MAPS.map((m) => [m, { add: [...d.elements[m].add].sort(), del: [...d.elements[m].del].sort() }])),
    hairpin: { add: [...d.hairpin.add].sort(), del: [...d.hairpin.del].sort() },
    affinity: { add: [...d.affinity.add].sort(), del: [...d.affinity.del].sort() },
  });

test('random changes: the state updated per service port equals a full render, and its diff is the exact difference', (t) => {
  const r = rng(18);
  const cache = newNftRenderCache();
  const inputs = new ModelCache({ serviceCIDR: CFG.serviceCIDR, nodeName: 'here' });
  const services = new Map<number, Service>();
  const eps = new Map<number, Endpoints>();
  for (let i = 0; i < 12; i++) {
    services.set(i, service(i, r));
    eps.set(i, endpoints(i, r));
  }
  inputs.setServices([...services.values()]);
  inputs.setEndpoints([...eps.values()]);
  let { model } = inputs.current();
  const desired = NftDesired.build(model, CFG, cache);
  let nonEmpty = 0;
  for (let step = 0; step < 300; step++) {
    const i = Math.floor(r() * 14);
    const what = r();
    if (what < 0.45) {
      const e = endpoints(i, r);
      eps.set(i, e);
      inputs.upsertEndpoints(e);
    } else if (what < 0.75) {
      const s = service(i, r);
      services.set(i, s);
      inputs.upsertService(s);
    } else if (what < 0.9) {
      services.delete(i);
      inputs.deleteService(`inc/s${i}`);
    } else {
      eps.delete(i);
      inputs.deleteEndpoints(`inc/s${i}`);
    }
    const before = snapshot(desired.state);
    const cur = inputs.current();
    model = cur.model;
    const d = desired.update(cur.delta);
    t.truthy(d, `step ${step}: a delta of rendered service ports`);
    const full = renderNft(buildProxyModel([...services.values()], [...eps.values()], { serviceCIDR: CFG.serviceCIDR, nodeName: 'here' }), CFG).state;
    t.true(isEmptyNftDiff(diffNft(desired.state, full)), `step ${step}: the incremental state differs from a full render`);
    t.is(sorted(d!), sorted(diffNft(before, desired.state)), `step ${step}: the returned diff is not the difference`);
    if (!isEmptyNftDiff(d!)) nonEmpty++;
  }
  t.true(nonEmpty > 100, `only ${nonEmpty} steps changed the table`);
});

test('a delta naming a service port never rendered here asks for a fresh build', (t) => {
  const cache = newNftRenderCache();
  const m = buildProxyModel([service(1, rng(1))], [endpoints(1, rng(2))], { serviceCIDR: CFG.serviceCIDR });
  const desired = NftDesired.build([], CFG, cache);
  t.is(desired.update({ removed: m, added: [] }), undefined);
});

test('the model cache swaps changed service ports in place and reports them; new or removed ones re-sort', (t) => {
  const r = rng(7);
  const inputs = new ModelCache({ serviceCIDR: CFG.serviceCIDR });
  const svcs = Array.from({ length: 5 }, (_, i) => service(i, r));
  const all = Array.from({ length: 5 }, (_, i) => endpoints(i, r));
  inputs.setServices(svcs);
  inputs.setEndpoints(all);
  const first = inputs.current();
  t.is(first.delta.added.length, first.model.length);
  const e2 = endpoints(2, r);
  inputs.upsertEndpoints(e2);
  const second = inputs.current();
  t.not(second.model, first.model, 'a new array: the caller keeps the old one');
  t.deepEqual(second.delta.removed, first.model.filter((p) => p.name === 's2'));
  t.deepEqual(second.delta.added, second.model.filter((p) => p.name === 's2'));
  t.deepEqual(second.model, buildProxyModel(svcs, [...all.slice(0, 2), e2, ...all.slice(3)], { serviceCIDR: CFG.serviceCIDR }));
  t.is(second.model.filter((p) => first.model.includes(p)).length, first.model.length - 1, 'the other objects are the same');
  inputs.deleteService('inc/s0');
  const third = inputs.current();
  t.deepEqual(third.delta.added, []);
  t.deepEqual(third.model.map((p) => p.name), second.model.filter((p) => p.name !== 's0').map((p) => p.name));
  t.deepEqual(inputs.current().delta, { removed: [], added: [] }, 'nothing changed: an empty delta');
});
