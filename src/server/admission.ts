// Admission: the registry's extension points. Components that own a piece of an object's semantics
// (the Service IP/port allocators, the LoadBalancer pool) plug in here instead of the registry knowing
// about them, and a write that fails after admission undoes what admission reserved.

import type { KObject } from '../api/types.js';
import type { ResourceInfo } from '../api/resources.js';

export type AdmissionOp = 'create' | 'update' | 'delete';

export interface AdmissionContext {
  op: AdmissionOp;
  resource: ResourceInfo;
  subresource?: string;
  dryRun: boolean;
}

export interface AdmissionHook {
  /** Which resource this hook admits. */
  resource: ResourceInfo;
  /**
   * Before the write: may mutate `obj` (create/update) or throw a StatusError to reject.
   * Returns an undo function when it reserved something the failed write must give back.
   */
  admit?(ctx: AdmissionContext, obj: KObject, old: KObject | undefined): Promise<(() => void) | void> | (() => void) | void;
  /** After the write committed (obj is undefined for a completed delete). */
  committed?(ctx: AdmissionContext, obj: KObject | undefined, old: KObject | undefined): void;
}

/** The hooks of every resource (by group/plural, so all versions of a kind share them), run in order. */
export class AdmissionChain {
  private readonly hooks = new Map<string, AdmissionHook[]>();

  add(hook: AdmissionHook): void {
    const key = hook.resource.plural + '.' + hook.resource.group;
    const list = this.hooks.get(key) ?? [];
    list.push(hook);
    this.hooks.set(key, list);
  }

  /** Runs each hook's admit; on a refusal, undoes what the earlier hooks reserved. Returns the undo of all. */
  async admit(ctx: AdmissionContext, obj: KObject, old: KObject | undefined): Promise<() => void> {
    const undos: (() => void)[] = [];
    const run = () => {
      for (const u of undos.reverse()) u();
    };
    try {
      for (const hook of this.hooksFor(ctx.resource)) {
        const u = await hook.admit?.(ctx, obj, old);
        if (u) undos.push(u);
      }
    } catch (err) {
      run();
      throw err;
    }
    return run;
  }

  committed(ctx: AdmissionContext, obj: KObject | undefined, old: KObject | undefined): void {
    for (const hook of this.hooksFor(ctx.resource)) hook.committed?.(ctx, obj, old);
  }

  private hooksFor(res: ResourceInfo): AdmissionHook[] {
    return this.hooks.get(res.plural + '.' + res.group) ?? [];
  }
}
