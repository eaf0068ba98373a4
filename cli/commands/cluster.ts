// `kubelite cluster create|list|delete|kubeconfig|dns`: kubelite clusters in node containers on this
// machine's Docker engine, each on a network of its own and routed from the host.

import type { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { clusterDNS } from '../../src/cluster/cidrs.js';
import { createCluster } from '../../src/cluster/create.js';
import { deleteCluster } from '../../src/cluster/delete.js';
import { listClusters } from '../../src/cluster/docker.js';
import { engineFacts } from '../../src/cluster/engine.js';
import { resolvedAvailable, runResolvectl } from '../../src/cluster/host-net.js';
import { mergeKubeconfig } from '../../src/cluster/kubeconfig.js';
import { checkClusterName, clusterNames } from '../../src/cluster/names.js';
import { serverNode } from '../../src/cluster/record.js';
import { resolvedApply, resolverSnippet } from '../../src/cluster/resolver.js';
import { defaultClustersDir, kubeconfigFile, userKubeconfig } from '../../src/cluster/state.js';
import { loadConnection } from '../../src/client/kubeconfig.js';
import { CliError, run } from '../context.js';

interface CreateFlags {
  apiPort?: string;
  image?: string;
  podCidr?: string;
  serviceCidr?: string;
  lbPool?: string;
  nodeCidr?: string;
  serverArg?: string[];
  dockerApi?: boolean;
  agents?: string;
  wait: string;
  keepOnFailure?: boolean;
}

function name(n: string): string {
  try {
    return checkClusterName(n);
  } catch (err) {
    throw new CliError(`error: ${(err as Error).message}`);
  }
}

function ago(created?: number): string {
  if (!created) return '-';
  const s = Math.max(0, Math.round(Date.now() / 1000 - created));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : s < 172800 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86400)}d`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join('').trimEnd()).join('\n') + '\n';
}

export function registerCluster(program: Command): void {
  const cluster = program.command('cluster').description('kubelite clusters in node containers on this machine (Docker-in-Docker), routed from the host');

  cluster
    .command('create')
    .description('Start a cluster: a node container on a Docker network of its own; waits until its Node is Ready and writes its kubeconfig')
    .argument('<name>', 'cluster name (1-32 of a-z, 0-9, -); the node is kubelite-NAME-server-0')
    .option('--api-port <[address:]port>', 'also publish the API on the host (default address 127.0.0.1); the kubeconfig then names it')
    .option('--image <image>', 'node image to run (default: kubelite/cluster-node:<version>, built or refreshed first)')
    .option('--pod-cidr <cidr>', 'Pod range (default: picked so it differs from the host\'s and every other cluster\'s)')
    .option('--service-cidr <cidr>', 'ClusterIP range (default: picked)')
    .option('--lb-pool <cidr>', 'LoadBalancer address pool (default: picked)')
    .option('--node-cidr <cidr>', 'the cluster\'s Docker network (default: picked)')
    .option('--server-arg <arg...>', 'extra `kubelite server` arguments for the node, e.g. --server-arg=--upstream-dns=10.0.0.2')
    .option('--docker-api', 'serve the node\'s Docker API on tcp://NODE:2375 on the cluster network (no TLS: the host and that network only)')
    .option('--agents <n>', 'agent nodes (not yet: the next release)', '0')
    .option('--wait <seconds>', 'how long to wait for the Node to be Ready', '180')
    .option('--keep-on-failure', 'leave the node container for inspection when the create fails')
    .action((n: string, f: CreateFlags) =>
      run(async () => {
        const wait = Number(f.wait);
        if (!Number.isInteger(wait) || wait < 1) throw new CliError(`error: --wait ${JSON.stringify(f.wait)}: a positive number of seconds`);
        const agents = Number(f.agents ?? 0);
        if (!Number.isInteger(agents) || agents < 0) throw new CliError(`error: --agents ${JSON.stringify(f.agents)}: a number`);
        // Ctrl-C (or a TERM) while the node comes up: the create stops and removes what it made.
        const abort = new AbortController();
        const stop = () => abort.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        const c = await createCluster({
          signal: abort.signal,
          name: name(n),
          image: f.image,
          apiPort: f.apiPort,
          cidrs: { podCIDR: f.podCidr, serviceCIDR: f.serviceCidr, lbPool: f.lbPool, nodeCIDR: f.nodeCidr },
          serverArgs: f.serverArg ?? [],
          dockerApi: f.dockerApi,
          agents,
          waitSeconds: wait,
          keepOnFailure: f.keepOnFailure,
          log: (line) => process.stderr.write(line + '\n'),
        });
        if (process.env.KUBELITE_TIMINGS === '1') process.stderr.write(`timings ${JSON.stringify(c.timings)}\n`);
        process.stdout.write(
          [
            `cluster ${c.name} is ready in ${c.seconds.toFixed(1)}s: node ${c.container} at ${c.address}`,
            `  API         ${c.server}`,
            `  kubeconfig  ${c.kubeconfig}   (export KUBECONFIG=${c.kubeconfig}; or kubelite cluster kubeconfig ${c.name} --merge)`,
            `  pods        ${c.cidrs.podCIDR}   services ${c.cidrs.serviceCIDR}   LoadBalancers ${c.cidrs.lbPool}   (routed from this host via ${c.address})`,
            `  DNS         ${c.dns}   (kubelite cluster dns ${c.name})`,
            `  NodePorts   ${c.address}:30000-32767`,
            ...(c.dockerHost ? [`  Docker      export DOCKER_HOST=${c.dockerHost}`] : []),
            '',
          ].join('\n'),
        );
      }),
    );

  cluster
    .command('list')
    .description('List the clusters on this machine')
    .option('-o, --output <format>', 'json for a machine-readable list')
    .action((f: { output?: string }) =>
      run(async () => {
        const Docker = (await import('dockerode')).default;
        const docker = new Docker();
        await engineFacts(docker);
        const clusters = await listClusters(docker);
        if (f.output === 'json') {
          process.stdout.write(JSON.stringify(clusters.map((c) => ({ ...c, kubeconfig: kubeconfigFile(defaultClustersDir(), c.name) })), null, 2) + '\n');
          return;
        }
        if (f.output !== undefined) throw new CliError(`error: --output ${f.output}: only json`);
        if (clusters.length === 0) {
          process.stdout.write('No clusters (kubelite cluster create NAME)\n');
          return;
        }
        const rows = [['NAME', 'STATUS', 'NODES', 'SERVER', 'PODS', 'SERVICES', 'LB POOL', 'AGE']];
        for (const c of clusters) {
          const s = serverNode(c);
          rows.push([c.name, s ? s.state : 'broken (no server node)', String(c.nodes.length), s?.address ?? '-', c.cidrs?.podCIDR ?? '-', c.cidrs?.serviceCIDR ?? '-', c.cidrs?.lbPool ?? '-', ago(c.created)]);
        }
        process.stdout.write(table(rows));
      }),
    );

  cluster
    .command('delete')
    .description('Delete a cluster: its node containers, volumes, network, host routes, resolver settings and kubeconfig')
    .argument('<name...>', 'cluster name(s)')
    .action((ns: string[]) =>
      run(async () => {
        let failed = 0;
        for (const n of ns.map(name)) {
          const r = await deleteCluster({ name: n });
          if (!r.found) {
            process.stderr.write(`error: no cluster ${n} on this machine (kubelite cluster list)\n`);
            failed++;
            continue;
          }
          const parts = [
            r.containers.length ? `container ${r.containers.join(', ')}` : '',
            r.volumes.length ? `volume ${r.volumes.join(', ')}` : '',
            r.network ? `network ${r.network}` : '',
            r.disconnected.length ? `disconnected ${r.disconnected.join(', ')} from it` : '',
            r.routes.length ? `routes ${r.routes.join(', ')}` : '',
            r.resolver ? 'resolver settings' : '',
            r.contextRemovedFrom ? `context ${clusterNames(n).context} in ${r.contextRemovedFrom}` : '',
          ].filter(Boolean);
          process.stdout.write(`deleted cluster ${n}${parts.length ? `: ${parts.join('; ')}` : ''}\n`);
          for (const p of r.problems) process.stderr.write(`warning: ${p}\n`);
          if (r.problems.length) failed++;
        }
        return failed ? 1 : 0;
      }),
    );

  cluster
    .command('kubeconfig')
    .description('Print the path of a cluster\'s kubeconfig; --merge also merges it into $KUBECONFIG or ~/.kube/config as context kubelite-NAME')
    .argument('<name>', 'cluster name')
    .option('--merge', 'merge into your kubeconfig and make kubelite-NAME the current context')
    .option('--print', 'print the kubeconfig itself')
    .action((n: string, f: { merge?: boolean; print?: boolean }) =>
      run(async () => {
        const file = kubeconfigFile(defaultClustersDir(), name(n));
        if (!fs.existsSync(file)) throw new CliError(`error: no kubeconfig for cluster ${n} (${file}): is it created? (kubelite cluster list)`);
        if (f.print) process.stdout.write(fs.readFileSync(file, 'utf8'));
        else process.stdout.write(file + '\n');
        if (f.merge) {
          const conn = loadConnection(file);
          const target = userKubeconfig();
          const before = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined;
          const server = conn.server;
          const text = fs.readFileSync(file, 'utf8');
          const tlsServerName = /tls-server-name:\s*(\S+)/.exec(text)?.[1];
          const merged = mergeKubeconfig(before, { name: clusterNames(n).context, server, caPem: conn.caPem ?? '', token: conn.token ?? '', tlsServerName }, { setCurrent: true, what: target });
          fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
          fs.writeFileSync(target, merged, { mode: 0o600 });
          process.stderr.write(`merged into ${target}; current context: ${clusterNames(n).context}\n`);
        }
      }),
    );

  cluster
    .command('dns')
    .description('How to resolve a cluster\'s Service names (*.svc.cluster.local) on this host; --apply sets it up with systemd-resolved')
    .argument('<name>', 'cluster name')
    .option('--apply', 'send *.svc.cluster.local to the cluster\'s DNS through systemd-resolved (per link: undone by cluster delete)')
    .option('--domain <domain>', 'the cluster domain', 'cluster.local')
    .action((n: string, f: { apply?: boolean; domain: string }) =>
      run(async () => {
        const Docker = (await import('dockerode')).default;
        const c = (await listClusters(new Docker())).find((x) => x.name === name(n));
        if (!c?.cidrs) throw new CliError(`error: no cluster ${n} on this machine (kubelite cluster list)`);
        const d = { cluster: c.name, bridge: c.bridge, server: clusterDNS(c.cidrs.serviceCIDR), domain: f.domain.replace(/\.$/, '') };
        if (!f.apply) {
          process.stdout.write(resolverSnippet(d));
          return;
        }
        if (!(await resolvedAvailable())) throw new CliError('error: systemd-resolved does not answer here (resolvectl status failed): use one of the other ways `kubelite cluster dns NAME` prints');
        await runResolvectl(resolvedApply(d));
        process.stdout.write(`*.svc.${d.domain} now resolves through ${d.server} on ${c.bridge} (kubelite cluster delete ${c.name} undoes it)\n`);
      }),
    );
}
