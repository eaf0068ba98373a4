// Every component `kubelite server` runs, in start order. A component disabled with --disable is
// skipped by the server; the rest find each other only through the API.

import type { ServerConfig } from '../config.js';
import type { Component } from './component.js';
import { createControllers, createScheduler } from '../controllers/index.js';
import { createAgent } from '../agent/index.js';
import { createServices } from '../services/component.js';
import { createProxy } from '../netfilter/component.js';
import { createDns } from '../services/dns/component.js';
import { createIngress } from '../ingress/component.js';

export function defaultComponents(_config: ServerConfig): Component[] {
  // 'services' first: its admission hooks (ClusterIP/NodePort allocation) must be in place before any
  // component creates a Service. It cannot be disabled; the proxy can (`--disable proxy`).
  return [createServices(), createAgent(), createScheduler(), ...createControllers(), createProxy(), createDns(), createIngress()];
}
