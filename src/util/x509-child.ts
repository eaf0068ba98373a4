// Runs certificate generation in a short-lived child process. @peculiar/x509 and its ASN.1 schema
// registry cost ~20 MiB of resident memory that a long-running server would otherwise keep forever for
// something it does once (first start, or a certificate renewal).

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { KeyPairPem, LeafOptions } from './x509.js';

type Request = { op: 'ca'; commonName: string; days?: number } | { op: 'leaf'; opts: LeafOptions };

const SELF = fileURLToPath(import.meta.url);

function runChild(req: Request): Promise<KeyPairPem> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--inspect')), SELF], { maxBuffer: 1 << 20, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`certificate generation failed: ${stderr.trim() || err.message}`));
      try {
        resolve(JSON.parse(stdout) as KeyPairPem);
      } catch {
        reject(new Error(`certificate generation returned garbage: ${stdout.slice(0, 200)}`));
      }
    });
    child.stdin!.end(JSON.stringify(req));
  });
}

export const generateCAIsolated = (commonName: string, days?: number) => runChild({ op: 'ca', commonName, days });
export const generateCertificateIsolated = (opts: LeafOptions) => runChild({ op: 'leaf', opts });

// Child mode: read one request on stdin, print the PEMs as JSON.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  let input = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => (input += d));
  process.stdin.on('end', async () => {
    const { generateCA, generateCertificate } = await import('./x509.js');
    const req = JSON.parse(input) as Request;
    const out = req.op === 'ca' ? await generateCA(req.commonName, req.days) : await generateCertificate(req.opts);
    process.stdout.write(JSON.stringify(out));
  });
}
