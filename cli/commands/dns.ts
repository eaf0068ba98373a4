// `kubelite dns lookup NAME`: resolve a name the way a Pod in namespace NS would (its search list,
// ndots:5) against the cluster DNS, and print the answer like a short dig. For newcomers without dig,
// and to check what a Pod sees without starting one.

import type { Command } from 'commander';
import type { Endpoints, Service } from '../../src/api/types.js';
import { R } from '../../src/api/resources.js';
import { isStatusError } from '../../src/api/errors.js';
import { CLUSTER_DOMAIN_ANNOTATION, DNS_LISTEN_ANNOTATION, KUBE_DNS_NAME, KUBE_DNS_NAMESPACE } from '../../src/dns/publish.js';
import { chooseLookupServer, formatRecord, isFinal, lookupCandidates, lookupOutcome, LOOKUP_TYPES, parseServer, podSearchList, routeStaysLocal, type LookupType, type ServerChoice, type TriedName } from '../../src/dns/lookup.js';
import { lookupOnce, routeTo, type LookupAnswer } from '../../src/dns/lookup-client.js';
import { isLocalAddress } from '../../src/dns/listen.js';
import { CliError, cliContext, run, type GlobalOptions } from '../context.js';
import { isIPv4 } from '../../src/util/ip.js';

interface LookupOptions extends GlobalOptions {
  type?: string;
  server?: string;
  domain?: string;
}

export function registerDns(program: Command): void {
  const dns = program.command('dns').description('Cluster DNS: ask the embedded DNS server what a Pod would get');
  dns
    .command('lookup')
    .description('Resolve NAME as a Pod in the namespace (-n) would: its search list, ndots:5. Exit 1 on NXDOMAIN.')
    .argument('<name>', 'a Service name (web), web.other, a full name, _port._proto.web (SRV), or an IP (PTR)')
    .option('-t, --type <type>', `record type: ${LOOKUP_TYPES.join(', ')} (default: A, PTR for an IP)`)
    .option('--server <ip[:port]>', 'ask this server instead of the kube-dns ClusterIP')
    .option('--domain <domain>', 'cluster domain (default: what the server publishes on kube-dns)')
    .addHelpText('after', '\nExamples:\n  kubelite dns lookup web\n  kubelite dns lookup web.other -n default\n  kubelite dns lookup _http._tcp.web --type SRV\n  kubelite dns lookup 10.96.0.10')
    .action((name: string, _o: unknown, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<LookupOptions>();
        const type = (opts.type?.toUpperCase() ?? (isIPv4(name) ? 'PTR' : 'A')) as LookupType;
        if (!LOOKUP_TYPES.includes(type)) throw new CliError(`error: --type ${opts.type}: one of ${LOOKUP_TYPES.join(', ')}`);
        if (opts.server) parseServer(opts.server);

        const { client, namespace } = cliContext(opts);
        let svc: Service | undefined;
        let eps: Endpoints | undefined;
        try {
          [svc, eps] = await Promise.all([client.get<Service>(R.services, KUBE_DNS_NAMESPACE, KUBE_DNS_NAME), client.get<Endpoints>(R.endpoints, KUBE_DNS_NAMESPACE, KUBE_DNS_NAME).catch(() => undefined)]);
        } catch (err) {
          if (!isStatusError(err, 'NotFound')) throw err;
          if (!opts.server) throw new CliError(`error: the Service ${KUBE_DNS_NAMESPACE}/${KUBE_DNS_NAME} does not exist: is the dns component disabled on the server (--disable dns)? Pass --server to ask another DNS server`);
        } finally {
          client.close();
        }
        const domain = opts.domain ?? svc?.metadata.annotations?.[CLUSTER_DOMAIN_ANNOTATION] ?? 'cluster.local';
        const clusterIP = svc?.spec.clusterIP && svc.spec.clusterIP !== 'None' ? svc.spec.clusterIP : undefined;
        const listen = svc?.metadata.annotations?.[DNS_LISTEN_ANNOTATION];
        let listenIP: string | undefined;
        try {
          listenIP = listen ? parseServer(listen).address : undefined;
        } catch {
          listenIP = undefined;
        }
        const server = chooseLookupServer({
          explicit: opts.server,
          clusterIP,
          clusterIPLocal: !opts.server && !!clusterIP && routeStaysLocal(await routeTo(clusterIP)),
          listen,
          listenLocal: !opts.server && !!listenIP && (await isLocalAddress(listenIP)),
          hasEndpoints: (eps?.subsets ?? []).some((s) => (s.addresses ?? []).length > 0),
        });
        if ('error' in server) throw new CliError(`error: ${server.error}`);

        const search = podSearchList(namespace, domain);
        let candidates: string[];
        try {
          candidates = lookupCandidates(name, type, search);
        } catch (err) {
          throw new CliError(`error: ${(err as Error).message}`);
        }
        return report(name, type, server, search, candidates, domain);
      }),
    );
}

async function report(input: string, type: LookupType, server: ServerChoice, search: string[], candidates: string[], domain: string): Promise<number> {
  const out = (l: string) => process.stdout.write(`${l}\n`);
  out(`;; server ${server.address}:${server.port} (${server.via}); search ${search.join(' ')}; ndots:5`);
  const tried: TriedName[] = [];
  const answers = new Map<string, LookupAnswer>();
  for (const name of candidates) {
    const a = await lookupOnce(server.address, server.port, name, type);
    const t = { name, rcode: a.rcode, answers: a.answers.length };
    tried.push(t);
    answers.set(name, a);
    if (isFinal(t)) break;
  }
  const outcome = lookupOutcome(tried);
  const triedList = tried.map((t) => `${t.name} ${t.rcode}${t.rcode === 'NOERROR' && t.answers === 0 ? ' (no records)' : ''}`).join(', ');
  switch (outcome.kind) {
    case 'answer': {
      const a = answers.get(outcome.name)!;
      out(`;; ${outcome.name} ${type}: NOERROR, ${a.answers.length} record${a.answers.length === 1 ? '' : 's'} in ${a.ms.toFixed(1)} ms over ${a.transport.toUpperCase()}${tried.length > 1 ? ` (tried ${triedList})` : ''}`);
      for (const rr of a.answers) out(formatRecord(rr));
      if (a.additionals.length) {
        out(';; additional:');
        for (const rr of a.additionals) out(formatRecord(rr));
      }
      return 0;
    }
    case 'nodata':
      out(`;; NODATA: ${outcome.name} exists but has no ${type} records (tried ${triedList})`);
      return 0;
    case 'error':
      process.stderr.write(`error: ${outcome.rcode} from ${server.address}:${server.port} for ${outcome.name} (tried ${triedList})\n`);
      if (!outcome.name.endsWith(`.${domain.replace(/\.$/, '')}.`)) process.stderr.write(`note: names outside ${domain} are forwarded to the server's upstream resolvers (--upstream-dns or its /etc/resolv.conf)\n`);
      return 1;
    case 'nxdomain':
      process.stderr.write(`** NXDOMAIN: ${JSON.stringify(input)} does not exist (tried ${triedList})\n`);
      return 1;
  }
}
