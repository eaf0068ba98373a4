// Cluster DNS inside a real `kubelite server` (slot 5): the dns component publishes kube-system/kube-dns
// on the slot's cluster DNS address, the proxier DNATs it to the server's listen address on the pod
// bridge, and Pods made by the agent resolve through it. Queried with dig from the host, with busybox
// nslookup from inside Pods, and with `kubelite dns lookup`. The upstream is a stub on 127.0.0.1: no
// query ever reaches the host's resolver, and no Pod here has a policy that would send one to it.
// Needs root and Docker; every container, rule, route and network of instance t5 is removed afterwards.

import test from 'ava';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { execFile } from 'node:child_process';
import dnsPacket from 'dns-packet';
import type { KObject, Namespace, Node, Pod, PodSpec, Service } from '../../src/api/types.js';
import { R } from '../../src/api/resources.js';
import { isStatusError } from '../../src/api/errors.js';
import { parseResolvConf } from '../../src/dns/resolv.js';
import { routeStaysLocal } from '../../src/dns/lookup.js';
import { routeTo } from '../../src/dns/lookup-client.js';
import { CLUSTER_DOMAIN_ANNOTATION, DNS_LISTEN_ANNOTATION } from '../../src/dns/publish.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { dockerAvailable, execIn } from '../helpers/docker.js';
import { startDNSStub, type DNSStub } from '../helpers/dns-stub.js';
import { tearDownServer } from '../helpers/teardown.js';

const SLOT = 5;
const TTL = 2;
let server: TestServer | undefined;
let stub: DNSStub | undefined;
let node = '';
let dnsIP = '';
let gateway = '';

function srv(): TestServer {
  if (!server) throw new Error('no server');
  return server;
}

test.before(async () => {
  if (!(await dockerAvailable())) throw new Error('these tests need a Docker engine (scripts/ensure-docker.sh starts one)');
  // The "host resolver" for names outside the cluster: only ever this loopback stub.
  stub = await startDNSStub({ records: { 'api.example.test': { A: ['203.0.113.7'], ttl: 60 } } });
  server = await startTestServer({ slot: SLOT, args: ['--upstream-dns', stub.address, '--dns-ttl', String(TTL), '--disable', 'ingress'] });
  dnsIP = server.slot.clusterDNS;
  gateway = server.slot.podCIDR.replace(/\.0\/24$/, '.1');
  const nodes = await waitFor(async () => (await server!.client.list<Node>(R.nodes)).items[0], 30_000, 'the agent to register its node');
  node = nodes!.metadata.name!;
  // Network safety: nothing is sent to the cluster DNS address until the host routes it to kubelite's
  // own service device (a VIP no rule matches then dies there instead of leaving through the uplink).
  await waitFor(async () => routeStaysLocal(await routeTo(dnsIP)), 30_000, `a local route to ${dnsIP}`);
  // /readyz can pass before the last components have started (only the checks registered so far count).
  await waitFor(() => server!.client.get(R.endpoints, 'kube-system', 'kube-dns'), 30_000, 'kube-dns to be published');
});

test.after.always(async () => {
  await tearDownServer(server, SLOT);
  await stub?.close();
});

// ---------- helpers ----------

interface DigResult {
  status: string;
  answers: string[][];
  raw: string;
}

/** dig from the host; each answer line split on whitespace: [name, ttl, class, type, ...data]. */
function dig(args: string[], server = dnsIP): Promise<DigResult> {
  return new Promise((resolve, reject) => {
    execFile('dig', [`@${server}`, '+time=2', '+tries=1', '+noall', '+comments', '+answer', ...args], { timeout: 10_000 }, (err, stdout) => {
      if (err && !stdout) return reject(err);
      const status = /status: ([A-Z]+)/.exec(stdout)?.[1] ?? 'NONE';
      const answers = stdout
        .split('\n')
        .filter((l) => l && !l.startsWith(';'))
        .map((l) => l.trim().split(/\s+/));
      resolve({ status, answers, raw: stdout });
    });
  });
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** One UDP question with dns-packet on a socket kept open: fast enough for a tight polling loop. */
class Asker {
  private sock = dgram.createSocket('udp4');
  private waiting = new Map<number, (p: dnsPacket.Packet) => void>();
  private id = 1;
  constructor() {
    this.sock.on('message', (m) => {
      try {
        const p = dnsPacket.decode(m);
        this.waiting.get(p.id!)?.(p);
      } catch {
        // not for us
      }
    });
  }
  ask(name: string, type = 'A', timeoutMs = 500): Promise<{ rcode: string; answers: dnsPacket.Answer[] } | undefined> {
    const id = (this.id = (this.id % 65535) + 1);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.set(id, (p) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve({ rcode: RCODES[(p.flags ?? 0) & 0xf] ?? 'OTHER', answers: p.answers ?? [] });
      });
      this.sock.send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: type as 'A' }] }), 53, dnsIP);
    });
  }
  close(): void {
    this.sock.close();
  }
}

function svc(ns: string, name: string, spec: Service['spec']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec };
}

async function ensureNamespace(name: string): Promise<void> {
  try {
    await srv().client.create<Namespace>(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } as Namespace);
  } catch (err) {
    if (!isStatusError(err, 'AlreadyExists')) throw err;
  }
}

async function runPod(ns: string, name: string, spec: Partial<PodSpec> = {}, labels?: Record<string, string>): Promise<Pod> {
  await srv().client.create<Pod>(R.pods, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: ns, name, labels },
    spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'kubelite/echo:1' }], ...spec },
  });
  const ready = await waitFor(
    async () => {
      const p = await srv().client.get<Pod>(R.pods, ns, name);
      return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
    },
    60_000,
    `pod ${ns}/${name} Ready`,
    100,
  );
  return ready!;
}

/**
 * getaddrinfo() inside a Pod, through node in the kubelite/node image: glibc's resolver applies the
 * search list with ndots as every libc-linked program (curl, wget, language runtimes) does, which
 * busybox nslookup does not for names with a dot. Prints the addresses, or the error code.
 */
async function getaddrinfo(id: string, name: string): Promise<string> {
  const script = "require('dns').lookup(process.argv[1], { all: true, family: 4 }, (e, a) => console.log(e ? e.code : a.map((x) => x.address).join(' ')))";
  const r = await execIn(id, ['node', '-e', script, name]);
  return r.stdout.trim();
}

function containerId(p: Pod): string {
  return (p.status?.containerStatuses?.find((c) => c.name === 'app')?.containerID ?? '').replace('docker://', '');
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ---------- tests ----------

test.serial('kube-dns is published on the cluster DNS address, with Endpoints at the pod bridge gateway', async (t) => {
  const s = await srv().client.get<Service>(R.services, 'kube-system', 'kube-dns');
  t.is(s.spec.clusterIP, dnsIP);
  t.deepEqual(
    s.spec.ports?.map((p) => `${p.name}/${p.port}/${p.protocol}->${p.targetPort}`),
    ['dns/53/UDP->53', 'dns-tcp/53/TCP->53'],
  );
  t.is(s.metadata.annotations?.[CLUSTER_DOMAIN_ANNOTATION], 'cluster.local');
  t.is(s.metadata.annotations?.[DNS_LISTEN_ANNOTATION], `${gateway}:53`);
  const ep = await srv().client.get<KObject & { subsets?: { addresses?: { ip: string }[]; ports?: { port: number }[] }[] }>(R.endpoints, 'kube-system', 'kube-dns');
  t.deepEqual(ep.subsets?.[0].addresses?.map((a) => a.ip), [gateway]);
  t.deepEqual(ep.subsets?.[0].ports?.map((p) => p.port), [53, 53]);
  const ready = await srv().client.raw('GET', '/readyz');
  t.is(ready.status, 200);
  // The route check the test relies on for safety, stated once more where it can fail loudly.
  const route = await routeTo(dnsIP);
  t.not(route?.dev, 'eth0');
  t.is(route?.dev, `klsvc-${srv().slot.instance}`);
});

test.serial('dig from the host through the VIP: A, SRV, PTR, ExternalName CNAME, NXDOMAIN, TCP', async (t) => {
  const c = srv().client;
  await ensureNamespace('other');
  const web = await c.create<Service>(R.services, svc('default', 'web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] }));
  await c.create<Service>(R.services, svc('other', 'api', { selector: { app: 'api' }, ports: [{ name: 'grpc', port: 9090, protocol: 'TCP' }] }));
  await c.create<Service>(R.services, svc('default', 'ext', { type: 'ExternalName', externalName: 'api.example.test' }));
  const webIP = web.spec.clusterIP!;
  t.regex(webIP, /^10\.201\.5\.\d+$/);

  const a = await waitFor(async () => {
    const r = await dig(['web.default.svc.cluster.local', 'A']);
    return r.status === 'NOERROR' && r.answers.length ? r : undefined;
  }, 5000, 'web A');
  t.deepEqual(a!.answers, [['web.default.svc.cluster.local.', String(TTL), 'IN', 'A', webIP]]);

  const srvr = await dig(['_http._tcp.web.default.svc.cluster.local', 'SRV']);
  t.is(srvr.status, 'NOERROR');
  t.deepEqual(srvr.answers.map((l) => l.slice(3)), [['SRV', '0', '100', '80', 'web.default.svc.cluster.local.']]);

  const ptr = await dig(['-x', webIP]);
  t.is(ptr.status, 'NOERROR');
  t.is(ptr.answers[0]?.[4], 'web.default.svc.cluster.local.');

  const ext = await dig(['ext.default.svc.cluster.local', 'A']);
  t.is(ext.status, 'NOERROR');
  t.deepEqual(ext.answers.map((l) => [l[0], l[3], l[4]]), [
    ['ext.default.svc.cluster.local.', 'CNAME', 'api.example.test.'],
    ['api.example.test.', 'A', '203.0.113.7'],
  ]);
  t.true(stub!.log.includes('api.example.test A'), 'the target was resolved by the loopback stub');

  const other = await dig(['api.other.svc.cluster.local', 'A']);
  t.is(other.status, 'NOERROR');
  t.is(other.answers.length, 1);

  const nx = await dig(['nosuch.default.svc.cluster.local', 'A']);
  t.is(nx.status, 'NXDOMAIN');
  t.deepEqual(nx.answers, []);

  const tcp = await dig(['+tcp', 'web.default.svc.cluster.local', 'A']);
  t.is(tcp.status, 'NOERROR');
  t.is(tcp.answers[0]?.[4], webIP);

  // Also straight at the listen address (no DNAT): the same answer.
  const direct = await dig(['web.default.svc.cluster.local', 'A'], gateway);
  t.is(direct.answers[0]?.[4], webIP);
});

test.serial('an ExternalName that is not a DNS name is rejected at apply time', async (t) => {
  const err = await t.throwsAsync(srv().client.create<Service>(R.services, svc('default', 'badext', { type: 'ExternalName', externalName: 'not a name!' })));
  t.true(isStatusError(err, 'Invalid'), String(err));
  t.regex(String((err as Error | undefined)?.message), /externalName/);
});

test.serial('a new Service resolves within 100 ms of its creation; a deleted one is NXDOMAIN within its TTL', async (t) => {
  const asker = new Asker();
  t.teardown(() => asker.close());
  const name = 'fresh.default.svc.cluster.local';
  t.is((await asker.ask(name))?.rcode, 'NXDOMAIN');
  const t0 = performance.now();
  const created = await srv().client.create<Service>(R.services, svc('default', 'fresh', { ports: [{ port: 80, protocol: 'TCP' }] }));
  const t1 = performance.now();
  let answered = 0;
  for (;;) {
    const r = await asker.ask(name, 'A', 200);
    if (r?.rcode === 'NOERROR' && r.answers.length) {
      t.is((r.answers[0] as { data: string }).data, created.spec.clusterIP ?? '');
      answered = performance.now();
      break;
    }
    if (performance.now() - t1 > 2000) break;
    await new Promise((res) => setTimeout(res, 2));
  }
  t.true(answered > 0, 'the new Service never resolved');
  const sinceCreated = answered - t1;
  t.log(`resolvable ${sinceCreated.toFixed(1)} ms after the create returned (${(answered - t0).toFixed(1)} ms after it was sent)`);
  // Event-driven, not the 30 s resync: the speed itself is a benchmark figure (bench/dns-api-latency.ts).
  t.true(sinceCreated < 1500, `took ${sinceCreated.toFixed(1)} ms`);

  await srv().client.delete(R.services, 'default', 'fresh');
  const d0 = performance.now();
  let gone = 0;
  while (performance.now() - d0 < TTL * 1000 + 1000) {
    const r = await asker.ask(name, 'A', 200);
    if (r?.rcode === 'NXDOMAIN') {
      gone = performance.now() - d0;
      break;
    }
    await new Promise((res) => setTimeout(res, 5));
  }
  t.true(gone > 0, 'the deleted Service still resolves');
  t.log(`NXDOMAIN ${gone.toFixed(1)} ms after the delete returned (TTL ${TTL} s)`);
  t.true(gone <= TTL * 1000, `took ${gone.toFixed(0)} ms, more than the TTL`);
});

test.serial('Pods resolve by short name, full name and name.namespace; a headless Service gives the Pod IP', async (t) => {
  const c = srv().client;
  await ensureNamespace('other');
  const client = await runPod('default', 'client', {}, { app: 'client' });
  const far = await runPod('other', 'far', { containers: [{ name: 'app', image: 'kubelite/node:20' }] });
  await c.create<Service>(R.services, svc('default', 'db', { clusterIP: 'None', selector: { app: 'client' }, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }));
  const web = await c.get<Service>(R.services, 'default', 'web');
  const webIP = web.spec.clusterIP!;

  const resolv = (await execIn(containerId(client), ['cat', '/etc/resolv.conf'])).stdout;
  t.regex(resolv, new RegExp(`^nameserver ${esc(dnsIP)}$`, 'm'));
  t.regex(resolv, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/m);
  t.regex(resolv, /^options ndots:5$/m);

  // busybox nslookup also asks AAAA along the search list and exits 1 when any of those is NXDOMAIN,
  // so its output is what is checked.
  const short = await execIn(containerId(client), ['nslookup', 'web']);
  t.regex(short.stdout, new RegExp(`Name:\\s+web\\.default\\.svc\\.cluster\\.local\\s+Address:\\s+${esc(webIP)}`));

  const full = await execIn(containerId(client), ['nslookup', 'web.default.svc.cluster.local']);
  t.regex(full.stdout, new RegExp(`Address:\\s+${esc(webIP)}`));
  t.regex(full.stdout, new RegExp(`Server:\\s+${esc(dnsIP)}`));

  // From namespace other, as `curl http://web.default` would resolve it: the search list turns
  // web.default into web.default.svc.cluster.local.
  t.is(await getaddrinfo(containerId(far), 'web.default'), webIP);
  t.is(await getaddrinfo(containerId(far), 'web.default.svc.cluster.local'), webIP);
  // The short name finds other's own Service, and default's web is not visible by its short name.
  const api = await srv().client.get<Service>(R.services, 'other', 'api');
  t.is(await getaddrinfo(containerId(far), 'api'), api.spec.clusterIP ?? '');
  t.is(await getaddrinfo(containerId(far), 'web'), 'ENOTFOUND');
  const missing = await execIn(containerId(far), ['nslookup', 'web']);
  t.notRegex(missing.stdout, /Name:\s+web\./);
  t.regex(missing.stdout, /can't find web\.other\.svc\.cluster\.local: NXDOMAIN/);

  const ext = await execIn(containerId(client), ['nslookup', 'ext']);
  t.regex(ext.stdout, /canonical name = api\.example\.test/);
  t.regex(ext.stdout, /Address:\s+203\.0\.113\.7/);

  const podIP = client.status!.podIP!;
  const headless = await waitFor(async () => {
    const r = await getaddrinfo(containerId(far), 'db.default');
    return r === podIP ? r : undefined;
  }, 10_000, 'db.default to give the pod IP');
  t.is(headless, podIP);
  const byShortName = await execIn(containerId(client), ['nslookup', 'db']);
  t.regex(byShortName.stdout, new RegExp(`Name:\\s+db\\.default\\.svc\\.cluster\\.local\\s+Address:\\s+${esc(podIP)}`));
});

test.serial('resolv.conf for dnsPolicy Default and None with dnsConfig', async (t) => {
  const host = parseResolvConf(fs.readFileSync('/etc/resolv.conf', 'utf8'));
  // Only the file is read here: a Default Pod would send its queries to the host's resolver.
  const def = await runPod('default', 'hostdns', { dnsPolicy: 'Default' });
  const defConf = parseResolvConf((await execIn(containerId(def), ['cat', '/etc/resolv.conf'])).stdout);
  const expectNs = host.nameservers.map((ns) => (ns.startsWith('127.') || ns === '::1' ? dnsIP : ns));
  t.deepEqual(defConf.nameservers, expectNs.length ? [...new Set(expectNs)] : [dnsIP]);
  t.false(defConf.searches.includes('default.svc.cluster.local'));

  const none = await runPod('default', 'custom', { dnsPolicy: 'None', dnsConfig: { nameservers: [dnsIP], searches: ['custom.example'], options: [{ name: 'ndots', value: '2' }, { name: 'timeout', value: '1' }] } });
  const noneText = (await execIn(containerId(none), ['cat', '/etc/resolv.conf'])).stdout;
  const noneConf = parseResolvConf(noneText);
  t.deepEqual(noneConf.nameservers, [dnsIP]);
  t.deepEqual(noneConf.searches, ['custom.example']);
  t.deepEqual(noneConf.options, [{ name: 'ndots', value: '2' }, { name: 'timeout', value: '1' }]);
  // With only the cluster DNS as its nameserver it can resolve full names.
  const web = await srv().client.get<Service>(R.services, 'default', 'web');
  const r = await execIn(containerId(none), ['nslookup', 'web.default.svc.cluster.local']);
  t.regex(r.stdout, new RegExp(`Address:\\s+${esc(web.spec.clusterIP!)}`));
});

test.serial('kubelite dns lookup: short name, other namespace, SRV, PTR, NXDOMAIN', async (t) => {
  const web = await srv().client.get<Service>(R.services, 'default', 'web');
  const webIP = web.spec.clusterIP!;
  const a = await srv().cli(['dns', 'lookup', 'web']);
  t.is(a.code, 0, a.stderr);
  t.regex(a.stdout, new RegExp(`^;; server ${esc(dnsIP)}:53 \\(the kube-dns ClusterIP\\)`, 'm'));
  t.regex(a.stdout, new RegExp(`^web\\.default\\.svc\\.cluster\\.local\\. ${TTL} IN A ${esc(webIP)}$`, 'm'));

  const cross = await srv().cli(['dns', 'lookup', 'web', '-n', 'other']);
  t.is(cross.code, 1);
  t.regex(cross.stderr, /NXDOMAIN: "web" does not exist \(tried web\.other\.svc\.cluster\.local\. NXDOMAIN/);
  const qualified = await srv().cli(['dns', 'lookup', 'web.default', '-n', 'other']);
  t.is(qualified.code, 0, qualified.stderr);
  t.regex(qualified.stdout, new RegExp(`IN A ${esc(webIP)}$`, 'm'));

  const srvr = await srv().cli(['dns', 'lookup', '_http._tcp.web', '--type', 'SRV']);
  t.is(srvr.code, 0, srvr.stderr);
  t.regex(srvr.stdout, /IN SRV 0 100 80 web\.default\.svc\.cluster\.local\.$/m);
  t.regex(srvr.stdout, /;; additional:/);

  const ptr = await srv().cli(['dns', 'lookup', webIP]);
  t.is(ptr.code, 0, ptr.stderr);
  t.regex(ptr.stdout, /IN PTR web\.default\.svc\.cluster\.local\.$/m);

  const nodata = await srv().cli(['dns', 'lookup', 'web.default.svc.cluster.local.', '--type', 'AAAA']);
  t.is(nodata.code, 0);
  t.regex(nodata.stdout, /NODATA: web\.default\.svc\.cluster\.local\. exists but has no AAAA records/);

  const nx = await srv().cli(['dns', 'lookup', 'nosuch']);
  t.is(nx.code, 1);
  t.regex(nx.stderr, /NXDOMAIN: "nosuch" does not exist/);
  t.true(stub!.log.includes('nosuch A'), 'the bare name went to the stub upstream, as from a Pod');

  const direct = await srv().cli(['dns', 'lookup', 'web', '--server', gateway]);
  t.is(direct.code, 0, direct.stderr);
  t.regex(direct.stdout, new RegExp(`^;; server ${esc(gateway)}:53 \\(--server\\)`, 'm'));
});

test.serial('kube-dns deleted by hand is published again; DNS metrics are served', async (t) => {
  const c = srv().client;
  await c.delete(R.endpoints, 'kube-system', 'kube-dns');
  const back = await waitFor(async () => {
    try {
      return await c.get<KObject & { subsets?: { addresses?: { ip: string }[] }[] }>(R.endpoints, 'kube-system', 'kube-dns');
    } catch {
      return undefined;
    }
  }, 5000, 'kube-dns Endpoints to come back');
  t.is(back!.subsets?.[0].addresses?.[0].ip, gateway);
  const r = await waitFor(async () => (await dig(['web.default.svc.cluster.local', 'A'])).answers.length > 0, 5000, 'the VIP to answer again');
  t.true(r);

  const m = await c.raw('GET', '/metrics');
  const text = String(m.body);
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  t.true(value(/^kubelite_dns_responses_total\{rcode="NXDOMAIN"\} (\d+)/m) > 0);
  t.true(value(/^kubelite_dns_responses_total\{rcode="NOERROR"\} (\d+)/m) > 0);
  t.true(value(/^kubelite_dns_requests_total\{proto="tcp"\} (\d+)/m) > 0);
  t.true(value(/^kubelite_dns_forwarded_total (\d+)/m) > 0);
  t.true(value(/^kubelite_dns_index_objects\{kind="service"\} (\d+)/m) >= 4);
});
