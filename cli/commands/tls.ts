// `kubelite tls create`: a local CA and a certificate for some hosts, for trying the Ingress with TLS
// without a public CA. The CA is kept in the output directory and reused, so a client told to trust
// ca.crt once keeps trusting every certificate made there later.

import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import YAML from 'yaml';
import type { Secret } from '../../src/api/types.js';
import { isDNS1123Subdomain, isWildcardDNS1123Subdomain } from '../../src/api/names.js';
import { CliError, run, type GlobalOptions } from '../context.js';

interface TlsCreateOptions extends GlobalOptions {
  host: string[];
  out: string;
  secret?: string;
  days: string;
}

export interface TlsFiles {
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
}

export function tlsFiles(dir: string): TlsFiles {
  return { caCert: path.join(dir, 'ca.crt'), caKey: path.join(dir, 'ca.key'), cert: path.join(dir, 'tls.crt'), key: path.join(dir, 'tls.key') };
}

/** Host names for the certificate: DNS names or `*.` wildcards, lower case, no duplicates. */
export function checkHosts(hosts: string[]): string[] {
  const out: string[] = [];
  for (const given of hosts.flatMap((h) => h.split(',')).map((h) => h.trim()).filter(Boolean)) {
    const host = given.toLowerCase();
    const problems = host.startsWith('*.') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
    if (problems.length) throw new CliError(`error: --host ${JSON.stringify(given)}: ${problems[0]}`);
    if (!out.includes(host)) out.push(host);
  }
  if (out.length === 0) throw new CliError('error: give at least one --host, e.g. --host demo.kubelite.test');
  return out;
}

/** The kubernetes.io/tls Secret `kubectl create secret tls NAME --cert --key` would make. */
export function tlsSecretManifest(name: string, certPem: string, keyPem: string, namespace?: string): Secret {
  const problems = isDNS1123Subdomain(name);
  if (problems.length) throw new CliError(`error: --secret ${JSON.stringify(name)}: ${problems[0]}`);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, ...(namespace ? { namespace } : {}) },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from(certPem).toString('base64'), 'tls.key': Buffer.from(keyPem).toString('base64') },
  };
}

function writePrivate(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

export async function createTls(hosts: string[], dir: string, days: number): Promise<{ files: TlsFiles; caCreated: boolean; certPem: string; keyPem: string }> {
  // the certificate library is loaded only by this short-lived command, never by the server
  const { generateCA, generateCertificate } = await import('../../src/util/x509.js');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = tlsFiles(dir);
  let ca: { certPem: string; keyPem: string };
  let caCreated = false;
  if (fs.existsSync(files.caCert) && fs.existsSync(files.caKey)) {
    ca = { certPem: fs.readFileSync(files.caCert, 'utf8'), keyPem: fs.readFileSync(files.caKey, 'utf8') };
  } else {
    ca = await generateCA('kubelite local CA (kubelite tls create)', 3650);
    writePrivate(files.caKey, ca.keyPem);
    fs.writeFileSync(files.caCert, ca.certPem);
    caCreated = true;
  }
  const leaf = await generateCertificate({ commonName: hosts[0], dnsNames: hosts, ca, days });
  writePrivate(files.key, leaf.keyPem);
  fs.writeFileSync(files.cert, leaf.certPem);
  return { files, caCreated, ...leaf };
}

export function registerTls(program: Command): void {
  const tls = program.command('tls').description('Local certificates for trying the Ingress with TLS');
  tls
    .command('create')
    .description('Make a local CA (kept and reused in --out) and a certificate for the hosts: ca.crt, tls.crt, tls.key')
    .requiredOption('--host <names...>', 'host names the certificate is for (repeat or comma-separate; *.example.test wildcards work)')
    .option('--out <dir>', 'directory to write ca.crt, ca.key, tls.crt and tls.key to', 'kubelite-tls')
    .option('--secret <name>', 'print a kubernetes.io/tls Secret manifest with this name on stdout (pipe it to `kubelite apply -f -`)')
    .option('--days <n>', 'validity of the certificate in days', '365')
    .action((_o: unknown, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<TlsCreateOptions>();
        const hosts = checkHosts(opts.host);
        const days = Number(opts.days);
        if (!Number.isInteger(days) || days < 1 || days > 825) throw new CliError(`error: --days ${JSON.stringify(opts.days)}: must be an integer from 1 to 825`);
        const secret = opts.secret ? tlsSecretManifest(opts.secret, '', '') : undefined;
        const made = await createTls(hosts, opts.out, days);
        const { files } = made;
        // With --secret, stdout is the manifest alone (for a pipe); the guidance goes to stderr.
        const say = (s: string) => (secret ? process.stderr : process.stdout).write(s);
        say(`${made.caCreated ? 'created' : 'reused'} CA ${files.caCert} (key ${files.caKey})\n`);
        say(`wrote ${files.cert} and ${files.key} for ${hosts.join(', ')}\n\n`);
        const name = opts.secret ?? `${hosts[0].replace(/^\*\./, 'wildcard.').replace(/\./g, '-')}-tls`;
        say(`Load it as the Secret your Ingress names in spec.tls[].secretName, with either:\n`);
        say(`  kubectl create secret tls ${name} --cert ${files.cert} --key ${files.key}\n`);
        const quoted = hosts.map((h) => (h.startsWith('*') ? `'${h}'` : h));
        say(`  kubelite tls create --host ${quoted.join(' --host ')} --out ${opts.out} --secret ${name} | kubelite apply -f -\n`);
        say(`Then trust the CA, e.g.: curl --cacert ${files.caCert} --resolve ${hosts[0].replace(/^\*/, 'www')}:443:127.0.0.1 https://${hosts[0].replace(/^\*/, 'www')}/\n`);
        if (secret) process.stdout.write(YAML.stringify(tlsSecretManifest(secret.metadata.name!, made.certPem, made.keyPem, opts.namespace)));
      }),
    );
}
