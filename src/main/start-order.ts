// In which order the server's components start. A component that names its prerequisites
// (`dependsOn`) starts as soon as those have started, beside every other one that is free to go: most
// of a start is waiting (Docker, a child process, HAProxy, iptables-restore), and these waits overlap.
// A component that names none waits for every component listed before it (the safe, sequential
// default for hand-made lists). Prerequisites that are not in the list (disabled) are ignored.

import type { Component } from '../server/component.js';

/** For each component, the indexes of the components it waits for. Pure. */
export function startPlan(components: readonly Pick<Component, 'name' | 'dependsOn'>[]): number[][] {
  const index = new Map(components.map((c, i) => [c.name, i]));
  return components.map((c, i) => {
    if (!c.dependsOn) return components.map((_, j) => j).filter((j) => j < i);
    const deps: number[] = [];
    for (const d of c.dependsOn) {
      const j = index.get(d);
      if (j === undefined) continue;
      if (j >= i) throw new Error(`component ${c.name} depends on ${d}, which is listed after it`);
      deps.push(j);
    }
    return deps;
  });
}

/**
 * Starts every component once its prerequisites have; resolves when all have started. On the first
 * failure no further component starts, the ones already starting finish, and the promise rejects with
 * that failure (the caller stops what started).
 */
export async function startComponents(components: readonly Component[], start: (c: Component) => Promise<void>): Promise<void> {
  const plan = startPlan(components);
  let failed: unknown;
  const done: Promise<void>[] = [];
  for (let i = 0; i < components.length; i++) {
    done.push(
      (async () => {
        await Promise.all(plan[i].map((j) => done[j]));
        if (failed !== undefined) throw failed;
        try {
          await start(components[i]);
        } catch (err) {
          failed ??= err;
          throw err;
        }
      })(),
    );
  }
  const results = await Promise.allSettled(done);
  if (failed !== undefined) throw failed;
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}
