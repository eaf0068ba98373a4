// The controllers `kubelite server` runs, as one Component named 'controllers' (so `--disable
// controllers` turns them all off).

import type { Component, ComponentContext } from '../server/component.js';
import { ReplicaSetController } from './replicaset.js';
import { DeploymentController } from './deployment.js';
import { GarbageCollector } from './gc.js';
import { NamespaceController, type NamespaceControllerOptions } from './namespace.js';
import { NodeLifecycleController, type NodeLifecycleOptions } from './node-lifecycle.js';
import { workloadControllers } from './workloads.js';
import { CRDController } from './crd.js';
import { DisruptionController } from './disruption.js';
import { HPAController } from './hpa.js';

export { ReplicaSetController } from './replicaset.js';
export { DeploymentController } from './deployment.js';
export { GarbageCollector, GC_RESOURCES } from './gc.js';
export { NamespaceController, expiredEvents, FINALIZER_KUBERNETES, DEFAULT_EVENT_TTL_SECONDS } from './namespace.js';
export { QueueController, type ControllerOptions } from '../client/controller.js';
export { NodeLifecycleController, NODE_LEASE_NAMESPACE } from './node-lifecycle.js';
export { NodeIpamController, createNodeIpam } from './node-ipam.js';
export { CRDController } from './crd.js';
export { DisruptionController } from './disruption.js';
export { HPAController } from './hpa.js';
export { rollbackDeployment, restartDeployment, setPaused, deploymentHistory, deploymentRolloutStatus, RolloutError, RESTARTED_AT_ANNOTATION, type RollbackResult, type RolloutStatus } from './rollout.js';

/** Several components started and stopped as one. */
export class ControllerManager implements Component {
  readonly name = 'controllers';
  private started: Component[] = [];

  constructor(readonly controllers: Component[]) {}

  async start(ctx: ComponentContext): Promise<void> {
    for (const c of this.controllers) {
      await c.start(ctx);
      this.started.push(c);
    }
  }

  async stop(): Promise<void> {
    for (const c of this.started.reverse()) await c.stop();
    this.started = [];
  }
}

export interface ControllersOptions {
  namespace?: NamespaceControllerOptions;
  nodeLifecycle?: NodeLifecycleOptions;
}

export function createControllers(opts: ControllersOptions = {}): Component[] {
  return [
    new ControllerManager([
      new ReplicaSetController(),
      new DeploymentController(),
      new GarbageCollector(),
      new NamespaceController(opts.namespace),
      ...workloadControllers(),
      new NodeLifecycleController(opts.nodeLifecycle),
      new CRDController(),
      new DisruptionController(),
      new HPAController(),
    ]),
  ];
}
