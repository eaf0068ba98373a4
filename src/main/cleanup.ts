// `kubelite cleanup`: every trace one instance leaves on the host — an ingress HAProxy a killed server
// left running, its containers (by the instance label), its Docker network (only if it carries our
// label), its chains, jump rules, routes and service device, the pod bridge if Docker no longer owns it,
// and with `purge` its data dir (only if it has the kubelite marker). Nothing else: other instances,
// Docker's own rules and foreign networks stay. The composition root's counterpart of main/server.ts:
// it asks each component's own cleanup in turn.

import fs from 'node:fs';
import path from 'node:path';
import Dockerode from 'dockerode';
import type { HostNames } from '../config.js';
import { cleanupNetfilter, type CleanupResult } from '../netfilter/cleanup.js';
import { exec } from '../util/exec.js';
import { ingressRunDir, stopOrphanProxy } from '../ingress/index.js';

export interface ContainerSummary {
  id: string;
  names: string[];
  labels: Record<string, string>;
}

export interface NetworkInfo {
  id: string;
  name: string;
  labels: Record<string, string>;
}

export interface DockerPlan {
  containers: ContainerSummary[];
  network?: NetworkInfo;
  /** A network with our name but without our label: reported, never removed. */
  foreignNetwork?: NetworkInfo;
}

/** What of Docker's state belongs to this instance. Pure. */
export function planDockerCleanup(names: HostNames, containers: ContainerSummary[], networks: NetworkInfo[]): DockerPlan {
  const plan: DockerPlan = { containers: containers.filter((c) => c.labels[names.instanceLabel] === names.instanceValue) };
  const net = networks.find((n) => n.name === names.dockerNetwork);
  if (net) {
    if (net.labels[names.instanceLabel] === names.instanceValue) plan.network = net;
    else plan.foreignNetwork = net;
  }
  return plan;
}

export interface InstanceCleanupOptions {
  names: HostNames;
  serviceCIDR?: string;
  lbPool?: string;
  /** The instance's data dir: an ingress HAProxy left running under it is stopped. */
  dataDir?: string;
  /** Remove the data dir too (it must hold the kubelite marker). */
  purge?: boolean;
  docker?: Dockerode;
}

export interface InstanceCleanupReport {
  /** An ingress HAProxy that a killed server left holding the ingress ports was stopped. */
  haproxyStopped: boolean;
  containersRemoved: string[];
  networkRemoved?: string;
  bridgeRemoved?: string;
  netfilter: CleanupResult;
  dataDirRemoved?: string;
  /** Problems that did not stop the rest of the cleanup. */
  warnings: string[];
}

const DATA_DIR_MARKER = 'kubelite.json';

function dockerError(err: unknown): string {
  const e = err as { statusCode?: number; json?: { message?: string }; message?: string; code?: string };
  return e.json?.message ?? e.message ?? String(err);
}

export async function cleanupInstance(opts: InstanceCleanupOptions): Promise<InstanceCleanupReport> {
  const { names } = opts;
  const report: InstanceCleanupReport = { haproxyStopped: false, containersRemoved: [], netfilter: { chainsDeleted: 0, jumpsDeleted: 0, deviceRemoved: false, routesDeleted: 0 }, warnings: [] };
  // A server killed with SIGKILL leaves its HAProxy holding the ingress ports.
  if (opts.dataDir) report.haproxyStopped = await stopOrphanProxy(ingressRunDir(opts.dataDir, names.instanceValue === 'default' ? '' : names.instanceValue)).catch(() => false);
  const docker = opts.docker ?? new Dockerode();
  let dockerReachable = false;
  let networkGone = false;
  try {
    const list = await docker.listContainers({ all: true, filters: { label: [`${names.instanceLabel}=${names.instanceValue}`] } });
    dockerReachable = true;
    const nets = await docker.listNetworks({ filters: { name: [names.dockerNetwork] } });
    const plan = planDockerCleanup(
      names,
      list.map((c) => ({ id: c.Id, names: c.Names ?? [], labels: c.Labels ?? {} })),
      nets.map((n) => ({ id: n.Id, name: n.Name, labels: n.Labels ?? {} })),
    );
    // A few at a time: removing a running container waits for it to die.
    const queue = [...plan.containers];
    await Promise.all(
      Array.from({ length: Math.min(8, queue.length) }, async () => {
        for (let c = queue.shift(); c; c = queue.shift()) {
          try {
            await docker.getContainer(c.id).remove({ force: true, v: true });
            report.containersRemoved.push((c.names[0] ?? c.id).replace(/^\//, ''));
          } catch (err) {
            if ((err as { statusCode?: number }).statusCode !== 404) report.warnings.push(`container ${c.id.slice(0, 12)}: ${dockerError(err)}`);
          }
        }
      }),
    );
    if (plan.foreignNetwork) report.warnings.push(`Docker network ${plan.foreignNetwork.name} is not labelled ${names.instanceLabel}=${names.instanceValue}: left alone`);
    if (plan.network) {
      try {
        await docker.getNetwork(plan.network.id).remove();
        report.networkRemoved = plan.network.name;
        networkGone = true;
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) networkGone = true;
        else report.warnings.push(`Docker network ${plan.network.name}: ${dockerError(err)}`);
      }
    } else if (!plan.foreignNetwork) {
      networkGone = true;
    }
  } catch (err) {
    report.warnings.push(`Docker engine not reachable (${dockerError(err)}): containers and network not checked`);
  }
  report.netfilter = await cleanupNetfilter(names, { serviceCIDR: opts.serviceCIDR, lbPool: opts.lbPool });
  // The pod bridge is ours by name; once Docker no longer has a network on it, nothing else can own it.
  if (dockerReachable && networkGone) {
    const r = await exec('ip', ['link', 'show', 'dev', names.podBridge]);
    if (r.code === 0) {
      const del = await exec('ip', ['link', 'del', names.podBridge]);
      if (del.code === 0) report.bridgeRemoved = names.podBridge;
      else report.warnings.push(`bridge ${names.podBridge}: ${del.stderr.trim()}`);
    }
  }
  if (opts.purge && opts.dataDir) {
    const dir = path.resolve(opts.dataDir);
    if (!fs.existsSync(dir)) {
      // Nothing to purge: idempotent.
    } else if (!fs.existsSync(path.join(dir, DATA_DIR_MARKER))) {
      report.warnings.push(`data dir ${dir} has no ${DATA_DIR_MARKER}: not a kubelite data dir, left alone`);
    } else {
      fs.rmSync(dir, { recursive: true, force: true });
      report.dataDirRemoved = dir;
    }
  }
  return report;
}
