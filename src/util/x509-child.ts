// Runs certificate generation in a short-lived child process. @peculiar/x509 and its ASN.1 schema
// registry cost ~20 MiB of resident memory that a long-running server would otherwise keep forever for
// something it does once (first start, or a certificate renewal).
//
// Loading that library is most of the cost (a few hundred ms; the keys and signatures take
// milliseconds), so one child serves every request that arrives while it lives: a first start asks
// for the cluster CA, the API serving certificate and the ingress default certificate within a second,
// and they share one child. The child exits once it has been idle for IDLE_MS (its stdin is closed).

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { KeyPairPem, LeafOptions } from './x509.js';

type Request = { op: 'ca'; commonName: string; days?: number } | { op: 'leaf'; opts: LeafOptions };
type Answer = { id: number; ok: true; result: KeyPairPem } | { id: number; ok: false; error: string };

const SELF = fileURLToPath(import.meta.url);
const IDLE_MS = 1500;
const TIMEOUT_MS = 30_000;

interface Pending {
  resolve(p: KeyPairPem): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

class CertChild {
  private child?: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idle?: NodeJS.Timeout;
  private stderr = '';

  /** Starts the child (and its library load) ahead of the first request; a no-op while one lives. */
  warm(): void {
    this.ensure();
    this.armIdle();
  }

  request(req: Request): Promise<KeyPairPem> {
    const child = this.ensure();
    clearTimeout(this.idle);
    const id = this.nextId++;
    return new Promise<KeyPairPem>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`certificate generation failed: no answer within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      child.stdin!.write(JSON.stringify({ id, ...req }) + '\n');
    });
  }

  private ensure(): ChildProcess {
    if (this.child) return this.child;
    this.stderr = '';
    const child = spawn(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--inspect')), SELF], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    let buf = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        this.answer(line);
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-2000)));
    child.stdin!.on('error', () => undefined); // a dead child is reported by 'exit'
    child.on('error', (err) => this.fail(new Error(`certificate generation failed: ${err.message}`), child));
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      this.failAll(new Error(`certificate generation failed: ${this.stderr.trim() || `the helper process exited (${signal ?? code})`}`));
    });
    // Never keep the server (or a CLI command) alive just for this child.
    child.unref();
    (child.stdin as unknown as { unref?(): void }).unref?.();
    (child.stdout as unknown as { unref?(): void }).unref?.();
    (child.stderr as unknown as { unref?(): void }).unref?.();
    return child;
  }

  private answer(line: string): void {
    let a: Answer;
    try {
      a = JSON.parse(line) as Answer;
    } catch {
      return this.fail(new Error(`certificate generation returned garbage: ${line.slice(0, 200)}`));
    }
    const p = this.pending.get(a.id);
    if (!p) return;
    this.pending.delete(a.id);
    clearTimeout(p.timer);
    if (a.ok) p.resolve(a.result);
    else p.reject(new Error(`certificate generation failed: ${a.error}`));
    if (this.pending.size === 0) this.armIdle();
  }

  private armIdle(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      if (this.pending.size > 0) return;
      // EOF on stdin: the child finishes what it has and exits.
      this.child?.stdin?.end();
      this.child = undefined;
    }, IDLE_MS);
    this.idle.unref();
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  private fail(err: Error, child = this.child): void {
    this.failAll(err);
    if (child && this.child === child) this.child = undefined;
    child?.kill('SIGKILL');
  }
}

const shared = new CertChild();

export const generateCAIsolated = (commonName: string, days?: number) => shared.request({ op: 'ca', commonName, days });
export const generateCertificateIsolated = (opts: LeafOptions) => shared.request({ op: 'leaf', opts });
/** Starts the helper now, so its library load overlaps other start-up work (a first start will need it). */
export const warmCertificateHelper = () => shared.warm();

// Child mode: one JSON request per line on stdin, one JSON answer per line on stdout, until stdin ends.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const lib = import('./x509.js');
  let buf = '';
  let queue = Promise.resolve();
  const handle = async (line: string) => {
    let id = 0;
    try {
      const req = JSON.parse(line) as Request & { id: number };
      id = req.id;
      const { generateCA, generateCertificate } = await lib;
      const result = req.op === 'ca' ? await generateCA(req.commonName, req.days) : await generateCertificate(req.opts);
      process.stdout.write(JSON.stringify({ id, ok: true, result }) + '\n');
    } catch (err) {
      process.stdout.write(JSON.stringify({ id, ok: false, error: (err as Error).message }) + '\n');
    }
  };
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim()) queue = queue.then(() => handle(line));
    }
  });
  process.stdin.on('end', () => void queue.then(() => process.exit(0)));
}
