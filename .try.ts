import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { startEtcd } from './test/helpers/etcd.js';
const etcd = await startEtcd();
const procs: any[] = [];
try {
  const start = (i: number) => {
    const dir = fs.mkdtempSync(`/tmp/kl-try-${i}-`);
    const p = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'server', '--data-dir', dir, '--api-port', String(26440 + i), '--instance', `t2${4 + i}`, '--node-name', `n${i}`, '--store', etcd.url, '--disable', 'agent,proxy,dns,ingress', '--service-cidr', '10.201.24.0/24', '--service-node-port-range', '22400-22499'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = ''; p.stdout.on('data', (d) => (out += d)); p.stderr.on('data', (d) => (out += d));
    procs.push(p);
    return { dir, out: () => out, p };
  };
  const a = start(0);
  await new Promise((r) => setTimeout(r, 6000));
  const b = start(1);
  await new Promise((r) => setTimeout(r, 6000));
  const k = (s: any, ...args: string[]) => { try { return execFileSync('kubectl', ['--kubeconfig', `${s.dir}/kubeconfig`, ...args], { encoding: 'utf8' }); } catch (e: any) { return 'ERR ' + e.stderr; } };
  console.log(k(b, 'get', 'lease', '-n', 'kube-system'));
  console.log(k(a, 'create', 'deployment', 'web', '--image=x', '--replicas=2'));
  await new Promise((r) => setTimeout(r, 1500));
  console.log(k(b, 'get', 'rs,pods'));
  const t0 = Date.now();
  a.p.kill('SIGKILL');
  console.log(k(b, 'scale', 'deployment', 'web', '--replicas=4'));
  for (;;) { const out = k(b, 'get', 'pods', '--no-headers'); if (out.trim().split('\n').length >= 4) break; await new Promise((r) => setTimeout(r, 100)); }
  console.log('4 pods after kill -9 in ms', Date.now() - t0);
  console.log(k(b, 'get', 'lease', '-n', 'kube-system', '-o', 'jsonpath={.items[0].spec}'));
  console.log(b.out().split('\n').filter((l) => /lead|acquired/.test(l)).join('\n'));
} finally {
  for (const p of procs) p.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1500));
  await etcd.stop();
}
