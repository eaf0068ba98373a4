// ClusterIPs and NodePorts unique across several servers on one etcd, as kube-apiserver's range
// allocators keep them: the allocation state is one stored object (not served by the API, like
// kube-apiserver's /registry/ranges/*), and every allocation is a compare-and-swap of it — read it,
// decide with the same in-memory allocators one server uses, write it back at the revision read, and
// on a conflict (another server allocated meanwhile) do it again. A Service write that then fails gives
// its values back the same way. A leader-only repair frees what a crashed server took but never wrote
// into a Service, after a grace period (kube-apiserver's repair loop does the same).

import type { KObject, Service } from '../api/types.js';
import { R, type ResourceInfo } from '../api/resources.js';
import { isStatusError } from '../api/errors.js';
import type { Store } from '../store/types.js';
import type { AdmissionContext, AdmissionHook } from '../server/admission.js';
import type { Logger } from '../util/log.js';
import { heldBy, ServiceAllocators } from './service-admission.js';

/** Stored, never served: kubelite.io/v1 RangeAllocation "services". */
export const RANGE_ALLOCATIONS: ResourceInfo = {
  group: 'kubelite.io',
  version: 'v1',
  apiVersion: 'kubelite.io/v1',
  kind: 'RangeAllocation',
  listKind: 'RangeAllocationList',
  plural: 'rangeallocations',
  singular: 'rangeallocation',
  namespaced: false,
  shortNames: [],
  categories: [],
  verbs: [],
  subresources: [],
  hasStatus: false,
};
const NAME = 'services';
const CAS_ATTEMPTS = 30;

/** Address or port -> owner (the Service's uid). */
export interface AllocationState {
  ips: Record<string, string>;
  ports: Record<string, string>;
}

interface RangeAllocation extends KObject, AllocationState {
  range: { serviceCIDR: string; nodePorts: string };
}

export function stateOf(a: ServiceAllocators): AllocationState {
  return { ips: Object.fromEntries(a.ips.entries()), ports: Object.fromEntries(a.ports.entries().map(([p, o]) => [String(p), o])) };
}

export function loadState(a: ServiceAllocators, s: AllocationState): void {
  a.ips.clear();
  a.ports.clear();
  for (const [ip, owner] of Object.entries(s.ips)) a.ips.restore(ip, owner);
  for (const [port, owner] of Object.entries(s.ports)) a.ports.restore(Number(port), owner);
}

function sameState(a: AllocationState, b: AllocationState): boolean {
  const eq = (x: Record<string, string>, y: Record<string, string>) => Object.keys(x).length === Object.keys(y).length && Object.entries(x).every(([k, v]) => y[k] === v);
  return eq(a.ips, b.ips) && eq(a.ports, b.ports);
}

/** What `after` holds that `before` did not. Pure. */
export function added(before: AllocationState, after: AllocationState): AllocationState {
  const pick = (x: Record<string, string>, y: Record<string, string>) => Object.fromEntries(Object.entries(y).filter(([k, v]) => x[k] !== v));
  return { ips: pick(before.ips, after.ips), ports: pick(before.ports, after.ports) };
}

/**
 * The repair decision. Pure: `live` is what the stored Services hold; `leakedBefore` the entries
 * found leaked by the previous pass. Returns the state to write and the leaks to remember.
 */
export function planRepair(state: AllocationState, live: AllocationState, leakedBefore: Set<string>): { next: AllocationState; leaked: Set<string>; freed: string[]; adopted: string[] } {
  const next: AllocationState = { ips: { ...state.ips }, ports: { ...state.ports } };
  const leaked = new Set<string>();
  const freed: string[] = [];
  const adopted: string[] = [];
  for (const [kind, key] of [['ip', 'ips'], ['port', 'ports']] as const) {
    for (const [v, owner] of Object.entries(live[key])) {
      if (next[key][v] !== owner) {
        next[key][v] = owner;
        adopted.push(`${kind} ${v}`);
      }
    }
    for (const [v, owner] of Object.entries(state[key])) {
      if (live[key][v] === owner) continue;
      const id = `${kind} ${v} ${owner}`;
      // Twice in a row, a repair period apart: not a Service write still in flight.
      if (leakedBefore.has(id)) {
        delete next[key][v];
        freed.push(`${kind} ${v}`);
      } else leaked.add(id);
    }
  }
  return { next, leaked, freed, adopted };
}

export class SharedServiceAllocations {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly allocators: ServiceAllocators,
    private readonly logger?: Logger,
  ) {}

  /** One at a time in this server: the allocators are loaded from the stored state for each decision. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** The stored state; made from the stored Services the first time (e.g. after a migration). */
  private async read(): Promise<{ obj: RangeAllocation; rv: string }> {
    for (;;) {
      const obj = (await this.store.get(RANGE_ALLOCATIONS, undefined, NAME)) as RangeAllocation | undefined;
      if (obj) return { obj, rv: obj.metadata.resourceVersion! };
      const { items } = await this.store.list(R.services);
      const fresh = new ServiceAllocators({ serviceCIDR: this.allocators.serviceCIDR, nodePortRange: [this.allocators.ports.min, this.allocators.ports.max] });
      for (const p of fresh.rebuild(items as Service[])) this.logger?.warn(p);
      const init: RangeAllocation = {
        apiVersion: 'kubelite.io/v1',
        kind: 'RangeAllocation',
        metadata: { name: NAME },
        range: { serviceCIDR: this.allocators.serviceCIDR, nodePorts: this.allocators.ports.range },
        ...stateOf(fresh),
      };
      try {
        await this.store.create(RANGE_ALLOCATIONS, init);
      } catch (err) {
        if (!isStatusError(err, 'AlreadyExists')) throw err;
      }
    }
  }

  /** Applies `change` to the stored state with compare-and-swap, retrying on conflicts. */
  private async update(change: (s: AllocationState) => AllocationState | Error): Promise<{ before: AllocationState; after: AllocationState }> {
    for (let attempt = 0; ; attempt++) {
      const { obj, rv } = await this.read();
      const before = { ips: obj.ips ?? {}, ports: obj.ports ?? {} };
      const after = change(before);
      if (after instanceof Error) throw after;
      if (sameState(before, after)) return { before, after };
      try {
        await this.store.update(RANGE_ALLOCATIONS, { ...obj, ips: after.ips, ports: after.ports }, { expectedResourceVersion: rv });
        return { before, after };
      } catch (err) {
        if (!isStatusError(err, 'Conflict') || attempt >= CAS_ATTEMPTS) throw err;
      }
    }
  }

  /** Admission of one Service write: its values are taken in the shared state before the write. */
  admit(svc: Service, old: Service | undefined): Promise<() => void> {
    return this.serial(async () => {
      let taken: AllocationState = { ips: {}, ports: {} };
      // A retry after a conflict decides again from the spec as it came, not from the last attempt's picks.
      const asSent = structuredClone(svc.spec);
      await this.update((state) => {
        svc.spec = structuredClone(asSent);
        loadState(this.allocators, state);
        try {
          this.allocators.admit(svc, old);
        } catch (err) {
          return err as Error;
        }
        const after = stateOf(this.allocators);
        taken = added(state, after);
        return after;
      });
      return () => void this.release(taken).catch((err) => this.logger?.warn({ err: String(err) }, 'could not give back the allocations of a failed Service write (the repair will)'));
    });
  }

  /** Gives back `values` if their owners still hold them. */
  release(values: AllocationState): Promise<unknown> {
    if (Object.keys(values.ips).length === 0 && Object.keys(values.ports).length === 0) return Promise.resolve();
    return this.serial(() =>
      this.update((s) => {
        const next = { ips: { ...s.ips }, ports: { ...s.ports } };
        for (const [ip, owner] of Object.entries(values.ips)) if (next.ips[ip] === owner) delete next.ips[ip];
        for (const [p, owner] of Object.entries(values.ports)) if (next.ports[p] === owner) delete next.ports[p];
        return next;
      }),
    );
  }

  /** After a committed update or delete: what `old` held and `svc` no longer does goes back. */
  committed(svc: Service | undefined, old: Service): Promise<unknown> {
    const before = heldBy(old);
    const after = svc ? heldBy(svc) : { nodePorts: [] as number[] };
    const owner = old.metadata.uid ?? `${old.metadata.namespace}/${old.metadata.name}`;
    const give: AllocationState = { ips: {}, ports: {} };
    if (before.clusterIP && before.clusterIP !== after.clusterIP) give.ips[before.clusterIP] = owner;
    for (const p of before.nodePorts) if (!after.nodePorts.includes(p)) give.ports[String(p)] = owner;
    return this.release(give);
  }

  hook(): AdmissionHook {
    return {
      resource: R.services,
      admit: async (ctx: AdmissionContext, obj: KObject, old: KObject | undefined) => {
        if (ctx.subresource) return;
        if (ctx.op !== 'create' && ctx.op !== 'update') return;
        return this.admit(obj as Service, old as Service | undefined);
      },
      committed: (ctx: AdmissionContext, obj: KObject | undefined, old: KObject | undefined) => {
        if (ctx.dryRun || !old) return;
        const done = ctx.op === 'delete' ? this.committed(undefined, old as Service) : ctx.op === 'update' && !ctx.subresource ? this.committed(obj as Service, old as Service) : undefined;
        void done?.catch((err) => this.logger?.warn({ err: String(err) }, 'could not give back released Service allocations (the repair will)'));
      },
    };
  }

  /** One repair pass (leader only): adopt what Services hold, free what no Service holds twice running. */
  async repair(leakedBefore: Set<string>): Promise<Set<string>> {
    const { items } = await this.store.list(R.services);
    const live = new ServiceAllocators({ serviceCIDR: this.allocators.serviceCIDR, nodePortRange: [this.allocators.ports.min, this.allocators.ports.max] });
    for (const p of live.rebuild(items as Service[])) this.logger?.warn(p);
    let leaked = new Set<string>();
    await this.serial(() =>
      this.update((s) => {
        const plan = planRepair(s, stateOf(live), leakedBefore);
        leaked = plan.leaked;
        if (plan.freed.length || plan.adopted.length) this.logger?.info({ freed: plan.freed, adopted: plan.adopted }, 'service allocations repaired');
        return plan.next;
      }),
    );
    return leaked;
  }
}
