// `kubelite cleanup`: removes what one kubelite instance left on this host (containers, Docker network,
// iptables chains and jumps, routes, devices; the data dir with --purge). Idempotent; touches nothing
// that is not the instance's.

import type { Command } from 'commander';
import { hostNames } from '../../src/config.js';
import { cleanupInstance } from '../../src/main/cleanup.js';
import { CliError, run } from '../context.js';
import { parseCIDR } from '../../src/util/ip.js';

interface CleanupFlags {
  instance?: string;
  serviceCidr: string;
  lbPool?: string;
  dataDir?: string;
  purge?: boolean;
  clusters?: boolean;
  keepClusters?: boolean;
}

function cidr(flag: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  try {
    parseCIDR(v);
  } catch (err) {
    throw new CliError(`error: --${flag}: ${(err as Error).message}`);
  }
  return v;
}

export function registerCleanup(program: Command): void {
  program
    .command('cleanup')
    .description('Remove every trace of a kubelite instance from this host: containers, Docker network, iptables chains, nftables table, routes, devices (and the data dir with --purge)')
    .option('--instance <id>', 'the instance to clean up (default: the untagged one)')
    .option('--service-cidr <cidr>', 'the instance\'s service CIDR (its route is removed)', '10.96.0.0/12')
    .option('--lb-pool <cidr>', 'the instance\'s LoadBalancer pool, if it had one (its route is removed)')
    .option('--data-dir <dir>', 'the instance\'s data dir (removed only with --purge)', '/var/lib/kubelite')
    .option('--purge', 'also delete the data dir (state, PKI, token): the cluster is gone for good')
    .option('--clusters', 'also delete every `kubelite cluster` (the default without --instance)')
    .option('--keep-clusters', 'leave `kubelite cluster` clusters alone')
    .action((flags: CleanupFlags) =>
      run(async () => {
        let names;
        try {
          names = hostNames({ instance: flags.instance ?? '' });
        } catch (err) {
          throw new CliError(`error: ${(err as Error).message}`);
        }
        const serviceCIDR = cidr('service-cidr', flags.serviceCidr);
        const lbPool = cidr('lb-pool', flags.lbPool);
        if (process.getuid?.() !== 0) throw new CliError('error: kubelite cleanup needs root (it removes iptables rules, routes and devices)');
        const r = await cleanupInstance({ names, serviceCIDR, lbPool, dataDir: flags.dataDir, purge: flags.purge });
        const label = flags.instance ? `instance ${flags.instance}` : 'the default instance';
        const lines: string[] = [];
        if (r.haproxyStopped) lines.push('stopped the ingress HAProxy the server left running');
        if (r.containersRemoved.length) lines.push(`removed ${r.containersRemoved.length} container(s): ${r.containersRemoved.sort().join(', ')}`);
        if (r.networkRemoved) lines.push(`removed Docker network ${r.networkRemoved}`);
        if (r.bridgeRemoved) lines.push(`removed bridge ${r.bridgeRemoved}`);
        const nf = r.netfilter;
        if (nf.chainsDeleted || nf.jumpsDeleted) lines.push(`removed ${nf.chainsDeleted} iptables chain(s) and ${nf.jumpsDeleted} jump rule(s)`);
        if (nf.nftTableDeleted) lines.push(`removed nftables table ip ${nf.nftTableDeleted}`);
        if (nf.deviceRemoved) lines.push(`removed device ${names.serviceDevice} and its routes`);
        else if (nf.routesDeleted) lines.push(`removed ${nf.routesDeleted} route(s) to ${names.serviceDevice}`);
        if (r.dataDirRemoved) lines.push(`removed data dir ${r.dataDirRemoved}`);
        if (lines.length === 0) lines.push(`nothing to clean up for ${label}`);
        else lines.unshift(`cleaned up ${label}:`);
        process.stdout.write(lines.join('\n') + '\n');
        for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
        // Clusters are no instance's: the plain `kubelite cleanup` (everything) takes them too.
        if (flags.clusters || (!flags.instance && !flags.keepClusters)) {
          const { deleteAllClusters } = await import('../../src/cluster/delete.js');
          for (const c of await deleteAllClusters().catch((err: Error) => {
            process.stderr.write(`warning: clusters: ${err.message}\n`);
            return [];
          })) {
            process.stdout.write(`deleted cluster ${c.name} (${[...c.containers, ...(c.network ? [c.network] : []), ...c.routes].join(', ') || 'left-overs'})\n`);
            for (const p of c.problems) process.stderr.write(`warning: cluster ${c.name}: ${p}\n`);
          }
        }
      }),
    );
}
