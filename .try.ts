import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { startEtcd } from './test/helpers/etcd.js';
const etcd = await startEtcd();
const procs: any[] = [];
try {
  const start = (i: number, extra: string[] = []) => {
    const dir = fs.mkdtempSync(`/tmp/kl-try-${i}-`);
    const p = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'server', '--data-dir', dir, '--api-port', String(26440 + i), '--instance', `t2${4 + i}`, '--store', etcd.url, '--disable', 'agent,proxy,dns,ingress,controllers,scheduler', '--service-cidr', '10.201.24.0/24', '--service-node-port-range', '22400-22499', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = ''; p.stdout.on('data', (d) => (out += d)); p.stderr.on('data', (d) => (out += d));
    procs.push(p);
    return { dir, out: () => out, p };
  };
  const a = start(0);
  const b = start(1);
  const c = start(2, ['--cluster-domain', 'other.local']);
  await new Promise((r) => setTimeout(r, 9000));
  const kc = (s: any) => `${s.dir}/kubeconfig`;
  const k = (s: any, ...args: string[]) => { try { return execFileSync('kubectl', ['--kubeconfig', kc(s), ...args], { encoding: 'utf8' }); } catch (e: any) { return 'ERR ' + e.stderr; } };
  console.log(k(a, 'create', 'configmap', 'hello', '--from-literal=k=v'));
  console.log(k(b, 'get', 'configmap', 'hello', '-o', 'jsonpath={.metadata.resourceVersion} {.data}'));
  console.log(k(b, 'get', 'ns'));
  console.log('C exited:', c.p.exitCode, c.out().slice(-600));
  console.log(execFileSync('curl', ['-sk', `https://127.0.0.1:26440/metrics`], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('kubelite_store')).slice(0, 8).join('\n'));
  console.log(execFileSync('curl', ['-sk', `https://127.0.0.1:26440/readyz`], { encoding: 'utf8' }));
} finally {
  for (const p of procs) p.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1500));
  await etcd.stop();
}
