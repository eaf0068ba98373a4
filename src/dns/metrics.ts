// The cluster DNS server's prom-client metrics on the default registry (served at /metrics). They are
// read from DNSServer.stats() at scrape time instead of being incremented per query, so the query path
// pays nothing for them. The metrics are created once per process and sum every live source (tests
// run several servers in one process, and a registry refuses a second metric of the same name).

import client from 'prom-client';
import type { DNSServer } from './server.js';
import type { ClusterDNSIndex } from './records.js';

export interface DNSMetricsSource {
  server(): DNSServer | undefined;
  index: ClusterDNSIndex;
}

const sources = new Set<DNSMetricsSource>();

type Stats = ReturnType<DNSServer['stats']>;

function sum(pick: (s: Stats) => number): number {
  let n = 0;
  for (const src of sources) {
    const s = src.server()?.stats();
    if (s) n += pick(s);
  }
  return n;
}

function getOrCreate<T>(name: string, make: () => T): T {
  return (client.register.getSingleMetric(name) as T | undefined) ?? make();
}

/** A counter whose value is read from the stats at scrape time. */
function statCounter(name: string, help: string, pick: (s: Stats) => number): void {
  getOrCreate(
    name,
    () =>
      new client.Counter({
        name,
        help,
        collect() {
          this.reset();
          this.inc(sum(pick));
        },
      }),
  );
}

let created = false;

function createMetrics(): void {
  if (created) return;
  created = true;
  getOrCreate(
    'kubelite_dns_responses_total',
    () =>
      new client.Counter({
        name: 'kubelite_dns_responses_total',
        help: 'DNS answers sent, by response code (NOERROR includes NODATA)',
        labelNames: ['rcode'] as const,
        collect() {
          this.reset();
          const by = new Map<string, number>();
          for (const src of sources) for (const [rc, n] of Object.entries(src.server()?.stats().responses ?? {})) by.set(rc, (by.get(rc) ?? 0) + n);
          for (const [rcode, n] of by) this.labels({ rcode }).inc(n);
        },
      }),
  );
  getOrCreate(
    'kubelite_dns_requests_total',
    () =>
      new client.Counter({
        name: 'kubelite_dns_requests_total',
        help: 'DNS messages received, by transport',
        labelNames: ['proto'] as const,
        collect() {
          this.reset();
          this.labels({ proto: 'udp' }).inc(sum((s) => s.udp));
          this.labels({ proto: 'tcp' }).inc(sum((s) => s.tcp));
        },
      }),
  );
  statCounter('kubelite_dns_cache_hits_total', 'Cluster answers served from the encoded-response cache', (s) => s.cacheHits);
  statCounter('kubelite_dns_forwarded_total', 'Queries for names outside the cluster sent to the forwarder (ExternalName chasing included)', (s) => s.forwarded);
  statCounter('kubelite_dns_forward_cache_hits_total', 'Forwarded queries answered from the forwarder cache', (s) => s.forwarder?.cacheHits ?? 0);
  statCounter('kubelite_dns_forward_timeouts_total', 'Forwarded queries that got no answer from any upstream in time (SERVFAIL)', (s) => s.forwarder?.timeouts ?? 0);
  statCounter('kubelite_dns_forward_overloads_total', 'Forwarded queries refused because too many were in flight (SERVFAIL)', (s) => s.forwarder?.overloads ?? 0);
  statCounter('kubelite_dns_truncated_total', 'UDP answers sent with TC set (the client retries over TCP)', (s) => s.truncated);
  statCounter('kubelite_dns_dropped_total', 'Messages dropped unanswered (oversized, not a query, malformed beyond reply)', (s) => s.dropped);
  statCounter('kubelite_dns_errors_total', 'Internal errors while answering (socket errors, failed sends)', (s) => s.errors);
  getOrCreate(
    'kubelite_dns_tcp_connections',
    () =>
      new client.Gauge({
        name: 'kubelite_dns_tcp_connections',
        help: 'Open DNS TCP connections',
        collect() {
          this.set(sum((s) => s.tcpConnections));
        },
      }),
  );
  getOrCreate(
    'kubelite_dns_index_objects',
    () =>
      new client.Gauge({
        name: 'kubelite_dns_index_objects',
        help: 'Objects in the cluster DNS index, by kind',
        labelNames: ['kind'] as const,
        collect() {
          let services = 0;
          let endpoints = 0;
          let pods = 0;
          for (const src of sources) {
            const s = src.index.size;
            services += s.services;
            endpoints += s.endpoints;
            pods += s.pods;
          }
          this.labels({ kind: 'service' }).set(services);
          this.labels({ kind: 'endpoints' }).set(endpoints);
          this.labels({ kind: 'pod' }).set(pods);
        },
      }),
  );
}

/** Adds a DNS server to what the metrics report; returns the removal. */
export function registerDNSMetrics(src: DNSMetricsSource): () => void {
  createMetrics();
  sources.add(src);
  return () => sources.delete(src);
}
