// Spawning the host tools (iptables-restore, ip, conntrack) with argument arrays: nothing ever goes
// through a shell, so no name can be interpreted as shell syntax.

import { spawn } from 'node:child_process';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  input?: string;
  /** Kill the tool after this long (a wedged xtables lock must not stall every later sync). */
  timeoutMs?: number;
}

export class ExecError extends Error {
  constructor(
    readonly cmd: string,
    readonly args: string[],
    readonly result: ExecResult,
  ) {
    super(`${cmd} ${args.join(' ')}: exit ${result.code}: ${result.stderr.trim().split('\n').slice(-3).join(' | ') || result.stdout.trim().slice(0, 200)}`);
    this.name = 'ExecError';
  }
}

/** Runs a program and collects its output; never rejects for a non-zero exit (see `execOk`). */
export function exec(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + (signal ? `\nkilled by ${signal}` : ''),
      });
    });
    // A tool that exits early (bad input) closes stdin under us; its exit code tells the story.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

export async function execOk(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const r = await exec(cmd, args, opts);
  if (r.code !== 0) throw new ExecError(cmd, args, r);
  return r;
}
