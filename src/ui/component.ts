// The live picture as a `kubelite server` component ('ui'): the page at /ui/ on the API port (same
// TLS), its login, and the feed of the road (hub.ts) with the data plane's per-endpoint counters.
// `--disable ui` leaves all of it out.

import fs from 'node:fs';
import path from 'node:path';
import type { Request } from 'express';
import type { Component, ComponentContext } from '../server/component.js';
import { KUBELITE_VERSION } from '../version.js';
import { UiAuth } from './auth.js';
import { loadAssets } from './assets.js';
import { StreamHub } from './hub.js';
import { mountUiRoutes } from './routes.js';
import type { CounterSource } from './counters-feed.js';

export type { CounterSource } from './counters-feed.js';

export interface UiOptions {
  /**
   * Where the per-endpoint counters come from. Default: the iptables proxier's rule counters
   * (readIptablesEndpointCounters); an nftables proxier plugs its own reader in here. Return undefined
   * (with a reason) when there are none.
   */
  counters?: (ctx: ComponentContext) => Promise<CounterSource | { off: string }>;
}

/** The default: iptables rule counters of this instance, unless the proxy is disabled. */
async function iptablesCounters(ctx: ComponentContext): Promise<CounterSource | { off: string }> {
  if (ctx.config.disabled.has('proxy')) return { off: 'the proxy is disabled (--disable proxy): no rules, so no counters' };
  const { readIptablesEndpointCounters } = await import('../netfilter/counters.js');
  return () => readIptablesEndpointCounters(ctx.names);
}

export class UiComponent implements Component {
  readonly name = 'ui';
  private hub?: StreamHub;

  constructor(private readonly opts: UiOptions = {}) {}

  async start(ctx: ComponentContext): Promise<void> {
    const log = ctx.logger.child({ component: this.name });
    // The server wrote both before any component starts (main/datadir.ts); the UI signs its session
    // cookies with a key derived from the token and reaches its own API (for logs) with it.
    const token = fs.readFileSync(path.join(ctx.config.dataDir, 'token'), 'utf8').trim();
    const caPem = fs.readFileSync(path.join(ctx.config.dataDir, 'pki', 'ca.crt'), 'utf8');
    const counters = await (this.opts.counters ?? iptablesCounters)(ctx);
    this.hub = new StreamHub({
      informers: ctx.informers,
      client: ctx.client,
      logger: log,
      clusterDomain: ctx.config.clusterDomain,
      version: KUBELITE_VERSION,
      ...(typeof counters === 'function' ? { counters } : { countersOff: counters.off }),
    });
    const assets = await loadAssets(log);
    const hub = this.hub;
    ctx.addPublicRoutes((router) =>
      mountUiRoutes(router, {
        auth: new UiAuth(token),
        hub,
        client: ctx.client,
        assets,
        logger: log,
        // The address the browser reached is one this server listens on and its certificate names.
        selfApi: (req: Request) => ({ host: (req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, ''), port: req.socket.localPort ?? ctx.config.apiPort, caPem, token }),
      }),
    );
  }

  async stop(): Promise<void> {
    this.hub?.stop();
  }
}

export function createUi(opts: UiOptions = {}): Component {
  return new UiComponent(opts);
}
