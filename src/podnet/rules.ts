// The two netfilter rules the pod network needs on a Docker host (flannel has the same two):
//  - forwarding: Docker's FORWARD policy is DROP and it accepts only its own published ports, so a
//    packet from a Pod on another node to a Pod here would die; our chain accepts traffic from and to
//    the cluster's pod CIDR (jumped to from DOCKER-USER, the chain Docker leaves first and alone).
//    Except a packet still addressed to a Service's VIP: it was not DNATed (the Service has no
//    endpoint), and the proxier's rules further down FORWARD must refuse it. Docker moves its jump to
//    DOCKER-USER back to the top of FORWARD whenever it creates a network, so an accept here would
//    come first and the Pod's connection would hang instead of being refused;
//  - no masquerade between Pods: Docker masquerades whatever leaves its bridge for another interface,
//    which would hide a Pod's address from Pods on other nodes; our chain in nat POSTROUTING accepts
//    Pod-to-Pod traffic before Docker's MASQUERADE (marked packets return first: the proxier still
//    masquerades what it marked, e.g. a Pod reaching itself through its Service).
// Rules are planned here (pure) and applied with iptables -C/-I/-A (argument arrays), idempotently.

import { exec, ExecError } from '../util/exec.js';

export interface PodNetRules {
  filterChain: string;
  natChain: string;
  clusterCIDR: string;
  /** The Service CIDR: packets still addressed there are left to the proxier's rules. */
  serviceCIDR?: string;
  /** The proxier's masquerade mark (kube-proxy's 0x4000). */
  mark: string;
}

export function podNetChains(chainPrefix: string): { filterChain: string; natChain: string } {
  return { filterChain: `${chainPrefix}-PODNET`, natChain: `${chainPrefix}-PODNET-NAT` };
}

export interface RuleSpec {
  table: 'filter' | 'nat';
  chain: string;
  args: string[];
}

/** Rules in our own chains, in order. Pure. */
export function chainRules(r: PodNetRules): RuleSpec[] {
  const c = ['-m', 'comment', '--comment'];
  return [
    ...(r.serviceCIDR ? [{ table: 'filter' as const, chain: r.filterChain, args: ['-d', r.serviceCIDR, ...c, 'kubelite: Service VIPs are left to the proxier', '-j', 'RETURN'] }] : []),
    { table: 'filter', chain: r.filterChain, args: ['-s', r.clusterCIDR, ...c, 'kubelite pod network', '-j', 'ACCEPT'] },
    { table: 'filter', chain: r.filterChain, args: ['-d', r.clusterCIDR, ...c, 'kubelite pod network', '-j', 'ACCEPT'] },
    { table: 'nat', chain: r.natChain, args: ['-m', 'mark', '--mark', `${r.mark}/${r.mark}`, ...c, 'kubelite: the proxier masquerades marked traffic', '-j', 'RETURN'] },
    { table: 'nat', chain: r.natChain, args: ['-s', r.clusterCIDR, '-d', r.clusterCIDR, ...c, 'kubelite: no masquerade between Pods', '-j', 'ACCEPT'] },
  ];
}

/** Our jumps in the built-in chains (DOCKER-USER when Docker made it). Pure. */
export function jumpRules(r: PodNetRules, dockerUser: boolean): RuleSpec[] {
  return [
    { table: 'filter', chain: dockerUser ? 'DOCKER-USER' : 'FORWARD', args: ['-m', 'comment', '--comment', 'kubelite pod network', '-j', r.filterChain] },
    { table: 'nat', chain: 'POSTROUTING', args: ['-m', 'comment', '--comment', 'kubelite pod network', '-j', r.natChain] },
  ];
}

async function ipt(args: string[]): Promise<{ code: number; stderr: string }> {
  return exec('iptables', ['-w', '5', ...args], { timeoutMs: 15_000 });
}

async function chainExists(table: string, chain: string): Promise<boolean> {
  return (await ipt(['-t', table, '-S', chain])).code === 0;
}

/** Makes the chains hold exactly their rules and the jumps exist (at the top). */
export async function ensureRules(r: PodNetRules): Promise<void> {
  const rules = chainRules(r);
  for (const [table, chain] of [['filter', r.filterChain], ['nat', r.natChain]] as const) {
    if (!(await chainExists(table, chain))) {
      const res = await ipt(['-t', table, '-N', chain]);
      if (res.code !== 0 && !/already exists/i.test(res.stderr)) throw new ExecError('iptables', ['-t', table, '-N', chain], { ...res, stdout: '' });
    }
    const want = rules.filter((x) => x.table === table && x.chain === chain);
    // Cheap check first: every rule there and nothing else (-S lists `-N chain` plus the rules).
    const listed = await exec('iptables', ['-w', '5', '-t', table, '-S', chain]);
    const count = listed.stdout.split('\n').filter((l) => l.startsWith('-A ')).length;
    let ok = count === want.length;
    if (ok) for (const x of want) if ((await ipt(['-t', table, '-C', chain, ...x.args])).code !== 0) ok = false;
    if (ok) continue;
    await ipt(['-t', table, '-F', chain]);
    for (const x of want) {
      const res = await ipt(['-t', table, '-A', chain, ...x.args]);
      if (res.code !== 0) throw new ExecError('iptables', ['-t', table, '-A', chain, ...x.args], { ...res, stdout: '' });
    }
  }
  const dockerUser = await chainExists('filter', 'DOCKER-USER');
  for (const j of jumpRules(r, dockerUser)) {
    if ((await ipt(['-t', j.table, '-C', j.chain, ...j.args])).code === 0) continue;
    const res = await ipt(['-t', j.table, '-I', j.chain, '1', ...j.args]);
    if (res.code !== 0) throw new ExecError('iptables', ['-t', j.table, '-I', j.chain, '1', ...j.args], { ...res, stdout: '' });
  }
}

/** Removes our jumps and chains (kubelite cleanup). */
export async function removeRules(r: Pick<PodNetRules, 'filterChain' | 'natChain'>): Promise<void> {
  const fake: PodNetRules = { ...r, clusterCIDR: '0.0.0.0/0', mark: '0x4000' };
  for (const dockerUser of [true, false]) {
    for (const j of jumpRules(fake, dockerUser)) {
      for (let i = 0; i < 8; i++) if ((await ipt(['-t', j.table, '-D', j.chain, ...j.args])).code !== 0) break;
    }
  }
  for (const [table, chain] of [['filter', r.filterChain], ['nat', r.natChain]] as const) {
    await ipt(['-t', table, '-F', chain]);
    await ipt(['-t', table, '-X', chain]);
  }
}
