// The dns component in an in-process server without agent or proxy (no Docker, no root, nothing but
// loopback sockets): publishing kube-dns idempotently across restarts, repairing it when edited or
// deleted, moving it when --cluster-dns changes, serving on loopback when there is no pod network, and
// `kubelite dns lookup` finding that loopback listener through the API.

import test from 'ava';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dnsPacket from 'dns-packet';
import type { Endpoints, Service } from '../../src/api/types.js';
import { R } from '../../src/api/resources.js';
import { defaultConfig, type ServerConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/main/server.js';
import { createServices } from '../../src/services/component.js';
import { DNSComponent } from '../../src/dns/component.js';
import { DNS_LISTEN_ANNOTATION } from '../../src/dns/publish.js';
import { silentLogger } from '../../src/util/log.js';
import { startDNSStub, type DNSStub } from '../helpers/dns-stub.js';
import { runCli, slotConfig, waitFor } from '../helpers/server.js';

// Slot 5's address plan (the dns slot); nothing is created on the host for it here.
const slot = slotConfig(5);
const dirs: string[] = [];
const running: RunningServer[] = [];
let stub: DNSStub;

test.before(async () => {
  stub = await startDNSStub({ records: { 'outside.example.test': { A: ['203.0.113.9'] } } });
});

test.after.always(async () => {
  for (const s of running) await s.stop().catch(() => undefined);
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  await stub?.close();
});

function config(dataDir: string, over: Partial<ServerConfig> = {}): ServerConfig {
  return defaultConfig({
    dataDir,
    apiPort: 0,
    instance: 't5c',
    serviceCIDR: slot.serviceCIDR,
    podCIDR: slot.podCIDR,
    clusterDNS: slot.clusterDNS,
    nodePortRange: slot.nodePortRange,
    upstreamDNS: [stub.address],
    dnsTTL: 3,
    disabled: new Set(['agent', 'proxy', 'scheduler', 'controllers', 'ingress']),
    ...over,
  });
}

async function start(cfg: ServerConfig, dns = new DNSComponent()): Promise<{ server: RunningServer; dns: DNSComponent }> {
  const server = await startServer(cfg, [createServices(), dns], silentLogger());
  running.push(server);
  return { server, dns };
}

async function stop(server: RunningServer): Promise<void> {
  await server.stop();
  running.splice(running.indexOf(server), 1);
}

function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-dnscomp-'));
  dirs.push(d);
  return d;
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function ask(port: number, name: string, type = 'A'): Promise<{ rcode: number; answers: dnsPacket.Answer[] }> {
  const sock = dgram.createSocket('udp4');
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer for ${name}`)), 2000);
      sock.on('message', (m) => {
        clearTimeout(timer);
        const p = dnsPacket.decode(m);
        resolve({ rcode: (p.flags ?? 0) & 0xf, answers: p.answers ?? [] });
      });
      sock.send(dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: type as 'A' }] }), port, '127.0.0.1');
    });
  } finally {
    sock.close();
  }
}

const getSvc = (s: RunningServer) => s.registry.get<Service>(R.services, 'kube-system', 'kube-dns');
const getEps = (s: RunningServer) => s.registry.get<Endpoints>(R.endpoints, 'kube-system', 'kube-dns');

test.serial('without an agent: a free loopback port, published on the Service, no Endpoints address; restarts write nothing', async (t) => {
  const dir = tmpDir();
  const port = await freeUdpPort();
  const { server, dns } = await start(config(dir), new DNSComponent({ port }));
  t.deepEqual(dns.listen, { address: '127.0.0.1', port });
  const svc = await getSvc(server);
  t.is(svc.spec.clusterIP, slot.clusterDNS);
  t.is(svc.metadata.annotations?.[DNS_LISTEN_ANNOTATION], `127.0.0.1:${port}`);
  t.deepEqual(svc.spec.ports?.map((p) => p.targetPort), [port, port]);
  const eps = await getEps(server);
  t.deepEqual(eps.subsets, [], 'Endpoints may not name loopback');

  const r = await ask(port, 'kube-dns.kube-system.svc.cluster.local');
  t.is(r.rcode, 0);
  t.is((r.answers[0] as { data: string }).data, slot.clusterDNS);
  const out = await ask(port, 'outside.example.test');
  t.is((out.answers[0] as { data: string }).data, '203.0.113.9', 'forwarded to the loopback stub');
  const before = { svc: svc.metadata.resourceVersion, eps: eps.metadata.resourceVersion };
  await stop(server);

  const again = await start(config(dir), new DNSComponent({ port }));
  t.is((await getSvc(again.server)).metadata.resourceVersion, before.svc, 'the Service was not rewritten');
  t.is((await getEps(again.server)).metadata.resourceVersion, before.eps, 'the Endpoints were not rewritten');
  await stop(again.server);
});

test.serial('kube-dns edited or deleted by hand is put back', async (t) => {
  const { server, dns } = await start(config(tmpDir()));
  const port = dns.listen!.port;
  const svc = await getSvc(server);
  svc.spec.ports = [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 9999 }];
  svc.spec.selector = { app: 'someone-elses' };
  await server.registry.update(R.services, svc);
  const fixed = await waitFor(async () => {
    const s = await getSvc(server);
    return s.spec.ports?.length === 2 && !s.spec.selector ? s : undefined;
  }, 5000, 'the Service to be repaired');
  t.deepEqual(fixed!.spec.ports?.map((p) => p.targetPort), [port, port]);

  await server.registry.delete(R.services, 'kube-system', 'kube-dns');
  const back = await waitFor(() => getSvc(server).catch(() => undefined), 5000, 'the Service to come back');
  t.is(back!.spec.clusterIP, slot.clusterDNS, 'the reserved address is handed to kube-dns again');
  await stop(server);
});

test.serial('a new --cluster-dns replaces the Service (clusterIP is immutable)', async (t) => {
  const dir = tmpDir();
  const first = await start(config(dir));
  await stop(first.server);
  const moved = slot.clusterDNS.replace(/\.10$/, '.53');
  const second = await start(config(dir, { clusterDNS: moved }));
  const svc = await getSvc(second.server);
  t.is(svc.spec.clusterIP, moved);
  const r = await ask(second.dns.listen!.port, 'kube-dns.kube-system.svc.cluster.local');
  t.is((r.answers[0] as { data: string }).data, moved);
  await stop(second.server);
});

test.serial('with an agent whose bridge never comes up: loopback meanwhile, and still published', async (t) => {
  // 198.18.0.0/15 is for benchmarking (RFC 2544): no host has it, so the gateway never appears.
  const cfg = config(tmpDir(), { podCIDR: '198.18.77.0/24', disabled: new Set(['proxy', 'scheduler', 'controllers', 'ingress']) });
  const { server, dns } = await start(cfg, new DNSComponent({ addressWaitMs: 300 }));
  t.is(dns.listen?.address, '127.0.0.1');
  t.is((await getSvc(server)).metadata.annotations?.[DNS_LISTEN_ANNOTATION], `127.0.0.1:${dns.listen!.port}`);
  const ready = await server.registry.list(R.services, { namespace: 'kube-system' });
  t.is(ready.items.length, 1);
  await stop(server);
});

test.serial('kubelite dns lookup finds the loopback listener through the API; metrics count the answers', async (t) => {
  const { server, dns } = await start(config(tmpDir()));
  const r = await runCli(server.kubeconfigPath, ['dns', 'lookup', 'kube-dns', '-n', 'kube-system']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, new RegExp(`^;; server 127\\.0\\.0\\.1:${dns.listen!.port} \\(the DNS server's listen address\\)`, 'm'));
  t.regex(r.stdout, new RegExp(`^kube-dns\\.kube-system\\.svc\\.cluster\\.local\\. 3 IN A ${slot.clusterDNS.replace(/\./g, '\\.')}$`, 'm'));
  const nx = await runCli(server.kubeconfigPath, ['dns', 'lookup', 'nosuch.kube-system.svc.cluster.local.']);
  t.is(nx.code, 1);
  t.regex(nx.stderr, /NXDOMAIN/);
  const bad = await runCli(server.kubeconfigPath, ['dns', 'lookup', 'x', '--type', 'MX']);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /--type MX: one of A, AAAA, SRV, PTR, CNAME, TXT, ANY/);

  const metrics = await (await import('prom-client')).default.register.metrics();
  t.regex(metrics, /^kubelite_dns_responses_total\{rcode="NXDOMAIN"\} [1-9]/m);
  t.regex(metrics, /^kubelite_dns_requests_total\{proto="udp"\} [1-9]/m);
  await stop(server);
});
