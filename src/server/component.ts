// What every part of `kubelite server` (agent, scheduler, controllers, proxier, DNS, ingress) gets to
// work with. Components only see the ApiClient and shared informers (list/watch), never each other.

import type express from 'express';
import type { ApiClient } from '../client/types.js';
import type { InformerFactory } from '../client/informer.js';
import type { EventRecorder } from '../client/events.js';
import type { HostNames, ServerConfig } from '../config.js';
import type { Logger } from '../util/log.js';
import type { Registry } from './registry.js';
import type { SubresourceHandler } from './app.js';

export interface ComponentContext {
  client: ApiClient;
  /** The registry itself, for admission hooks only (allocators); everything else goes through `client`. */
  registry: Registry;
  config: ServerConfig;
  names: HostNames;
  informers: InformerFactory;
  logger: Logger;
  recorder(component: string): EventRecorder;
  /** Serve a pod subresource (`pods/log`, `pods/exec`, ...). */
  addSubresource(key: string, handler: SubresourceHandler): void;
  /** Mount extra HTTP routes on the API server (before the resource router). */
  addRoutes(mount: (app: express.Express) => void): void;
  /** Mount routes before the bearer-token check (the UI's page and cookie login): they authenticate every request themselves. */
  addPublicRoutes(mount: (app: express.Express) => void): void;
  /** Register a readiness check shown on /readyz. */
  addReadiness(name: string, check: () => boolean): void;
  /** Handle HTTP upgrades (WebSocket exec/port-forward) for paths this returns true for. */
  addUpgradeHandler(handler: UpgradeHandler): void;
  /** A `docker save` stream of `image` from another node (images without a registry across hosts). */
  fetchNodeImage?(node: string, image: string): Promise<import('node:stream').Readable>;
}

export type UpgradeHandler = (req: import('node:http').IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => boolean;

export interface Component {
  readonly name: string;
  /**
   * Components whose start must complete before this one starts (e.g. 'services', whose admission
   * hooks allocate ClusterIPs). Given, the component starts beside every other one that is free to;
   * absent, it waits for every component listed before it.
   */
  readonly dependsOn?: readonly string[];
  /** Starts the component; resolves when it is serving (informers synced, sockets bound). */
  start(ctx: ComponentContext): Promise<void>;
  stop(): Promise<void>;
}
