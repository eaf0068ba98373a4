// The proxier's prom-client metrics on the default registry, every one labelled with the proxy mode
// (iptables or nftables). Created once per process and shared by every Proxier (tests build several,
// in both modes), since a registry refuses a second metric of the same name.

import client from 'prom-client';

export type ModeLabel = 'mode';

export interface ProxyMetrics {
  syncDuration: client.Histogram<ModeLabel>;
  rulesWritten: client.Counter<ModeLabel>;
  elementsWritten: client.Counter<ModeLabel>;
  syncErrors: client.Counter<ModeLabel>;
  fullRenders: client.Counter<ModeLabel | 'reason'>;
  lastSync: client.Gauge<ModeLabel>;
  endpoints: client.Gauge<'service' | ModeLabel>;
}

function getOrCreate<T>(name: string, make: () => T): T {
  return (client.register.getSingleMetric(name) as T | undefined) ?? make();
}

export function proxyMetrics(): ProxyMetrics {
  return {
    syncDuration: getOrCreate(
      'kubelite_proxy_sync_duration_seconds',
      () =>
        new client.Histogram({
          name: 'kubelite_proxy_sync_duration_seconds',
          help: 'Time one proxy rules sync took (render, diff, iptables-restore or nft -f)',
          labelNames: ['mode'] as const,
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        }),
    ),
    rulesWritten: getOrCreate(
      'kubelite_proxy_rules_written_total',
      () => new client.Counter({ name: 'kubelite_proxy_rules_written_total', help: 'Rules written by proxy syncs', labelNames: ['mode'] as const }),
    ),
    elementsWritten: getOrCreate(
      'kubelite_proxy_elements_written_total',
      () =>
        new client.Counter({ name: 'kubelite_proxy_elements_written_total', help: 'nftables map and set elements added or deleted by proxy syncs', labelNames: ['mode'] as const }),
    ),
    syncErrors: getOrCreate(
      'kubelite_proxy_sync_errors_total',
      () =>
        new client.Counter({
          name: 'kubelite_proxy_sync_errors_total',
          help: 'Proxy syncs that failed or that the kernel refused (the previous rules stayed in force)',
          labelNames: ['mode'] as const,
        }),
    ),
    fullRenders: getOrCreate(
      'kubelite_proxy_full_renders_total',
      () =>
        new client.Counter({
          name: 'kubelite_proxy_full_renders_total',
          help: 'Whole-table rewrites (nftables): first load, after a refused transaction, or to repair the table',
          labelNames: ['mode', 'reason'] as const,
        }),
    ),
    lastSync: getOrCreate(
      'kubelite_proxy_last_sync_timestamp_seconds',
      () => new client.Gauge({ name: 'kubelite_proxy_last_sync_timestamp_seconds', help: 'Unix time of the last successful proxy sync', labelNames: ['mode'] as const }),
    ),
    endpoints: getOrCreate(
      'kubelite_proxy_endpoints',
      () => new client.Gauge({ name: 'kubelite_proxy_endpoints', help: 'Ready endpoints per service port', labelNames: ['service', 'mode'] as const }),
    ),
  };
}
