// The proxier's prom-client metrics on the default registry. Created once per process and shared by
// every Proxier (tests build several), since a registry refuses a second metric of the same name.

import client from 'prom-client';

export interface ProxyMetrics {
  syncDuration: client.Histogram;
  rulesWritten: client.Counter;
  syncErrors: client.Counter;
  lastSync: client.Gauge;
  endpoints: client.Gauge<'service'>;
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
          help: 'Time one proxy rules sync took (render, diff, iptables-restore)',
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        }),
    ),
    rulesWritten: getOrCreate(
      'kubelite_proxy_rules_written_total',
      () => new client.Counter({ name: 'kubelite_proxy_rules_written_total', help: 'iptables rules written by proxy syncs' }),
    ),
    syncErrors: getOrCreate(
      'kubelite_proxy_sync_errors_total',
      () => new client.Counter({ name: 'kubelite_proxy_sync_errors_total', help: 'Proxy syncs that failed (the previous rules stayed in force)' }),
    ),
    lastSync: getOrCreate(
      'kubelite_proxy_last_sync_timestamp_seconds',
      () => new client.Gauge({ name: 'kubelite_proxy_last_sync_timestamp_seconds', help: 'Unix time of the last successful proxy sync' }),
    ),
    endpoints: getOrCreate(
      'kubelite_proxy_endpoints',
      () => new client.Gauge({ name: 'kubelite_proxy_endpoints', help: 'Ready endpoints per service port', labelNames: ['service'] as const }),
    ),
  };
}
