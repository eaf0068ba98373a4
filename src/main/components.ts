// Every component `kubelite server` runs: 'services' first, then the rest side by side. A component disabled with --disable is
// skipped by the server; the rest find each other only through the API. Each is loaded only when it
// starts, so a disabled component costs no memory (its modules — dockerode, HAProxy driver, DNS codec —
// are never imported).

import type { ServerConfig } from '../config.js';
import type { Component, ComponentContext } from '../server/component.js';
import { LeaderOnlyComponent } from './leader-work.js';

class LazyComponent implements Component {
  private inner?: Component;
  constructor(
    readonly name: string,
    private readonly load: () => Promise<Component>,
    readonly dependsOn?: readonly string[],
  ) {}

  async start(ctx: ComponentContext): Promise<void> {
    this.inner ??= await this.load();
    await this.inner.start(ctx);
  }

  async stop(): Promise<void> {
    await this.inner?.stop();
  }
}

const lazy = (name: string, load: () => Promise<Component>, dependsOn?: readonly string[]) => new LazyComponent(name, load, dependsOn);
/** Work that must happen once per cluster: with several servers (etcd), only the leader runs it. */
const leaderOnly = (name: string, load: () => Promise<Component>, dependsOn?: readonly string[]) => new LeaderOnlyComponent(name, load, dependsOn);

/** 'services' first (its allocation hooks); 'access' beside the rest of it. */
const AFTER_SERVICES = ['services'] as const;
/** The rest needs only the admission hooks of 'services' and 'access' in place: it starts side by side. */
const AFTER_ADMISSION = ['services', 'access'] as const;
/** What reads this node's pod CIDR (the agent learns it when it registers the Node). */
const AFTER_AGENT = ['services', 'access', 'agent'] as const;

export function defaultComponents(config: ServerConfig): Component[] {
  // 'services' first: its admission hooks (ClusterIP/NodePort allocation) must be in place before any
  // component creates a Service. It cannot be disabled; the proxy can (`--disable proxy`).
  return [
    lazy('services', async () => (await import('../services/component.js')).createServices({ controllers: false })),
    leaderOnly('service-controllers', async () => (await import('../services/component.js')).createServiceControllers(), AFTER_SERVICES),
    // ServiceAccounts, their admission and RBAC aggregation: the API's security needs them, so like
    // 'services' this cannot be disabled. Admission on every server; the loops on the leader only.
    lazy('access', async () => (await import('../controllers/access.js')).createAccess({ controllers: false }), AFTER_SERVICES),
    leaderOnly('access-controllers', async () => (await import('../controllers/access.js')).createAccess({ admission: false }), AFTER_ADMISSION),
    lazy('agent', async () => (await import('../agent/index.js')).createAgent(), AFTER_ADMISSION),
    leaderOnly('scheduler', async () => (await import('../scheduler/index.js')).createScheduler(), AFTER_ADMISSION),
    leaderOnly('controllers', async () => {
      // createControllers returns one Component named 'controllers' (so --disable controllers turns all off).
      const [c] = (await import('../controllers/index.js')).createControllers();
      return c;
    }, AFTER_ADMISSION),
    // This host's routes to the other nodes' Pods, its proxy and its DNS server: after the agent, which
    // learns this node's share of the pod CIDR from the server when it registers the Node.
    ...(config.disabled.has('agent') && config.disabled.has('proxy') ? [] : [lazy('podnet', async () => (await import('../podnet/component.js')).createPodNet(), AFTER_AGENT)]),
    lazy('proxy', async () => (await import('../netfilter/component.js')).createProxy(), AFTER_AGENT),
    lazy('dns', async () => (await import('../dns/component.js')).createDns(), AFTER_AGENT),
    lazy('ingress', async () => (await import('../ingress/component.js')).createIngress(), AFTER_ADMISSION),
    lazy('ui', async () => {
      const { proxyCounterSource } = await import('./ui-counters.js');
      // The counters of the proxy's mode: nftables rule counters in the default mode, iptables' otherwise.
      return (await import('../ui/component.js')).createUi({ counters: (ctx) => proxyCounterSource(ctx) });
    }, AFTER_ADMISSION),
    // Last (no dependsOn: it waits for every component before it): GET /kubeconfig for CI jobs, and the
    // kubeconfig file a node container hands out (once all is up).
    lazy('kubeconfig', async () => (await import('../cluster/kubeconfig-endpoint.js')).createKubeconfigEndpoint()),
  ];
}
