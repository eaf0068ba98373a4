// One timed run of the real kubectl for the benchmarks that measure what a user types: wall time, and
// kubectl's CPU time (user + system from bash's `times`), which other load on the machine inflates far
// less than wall time.

import { spawn } from 'node:child_process';

export interface KubectlRun {
  ms: number;
  cpuMs: number;
  code: number;
  stdout: string;
  stderr: string;
}

export function timedKubectl(kubectl: string, args: string[], env: Record<string, string>, input?: string): Promise<KubectlRun> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn('bash', ['-c', '"$@"; rc=$?; times >&2; exit $rc', 'bash', kubectl, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.stdin.end(input ?? '');
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      // `times` prints the shell's own user/sys line, then its children's: "0m0.041s 0m0.012s".
      const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(stderr);
      const cpuMs = m ? (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000 : NaN;
      resolve({ ms, cpuMs, code: code ?? -1, stdout, stderr: stderr.replace(/(\d+m[\d.]+s \d+m[\d.]+s\s*){2}$/, '') });
    });
  });
}
