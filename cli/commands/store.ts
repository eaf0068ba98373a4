// `kubelite store migrate --from <data-dir> --to etcd://...`: a one-host user moves to etcd without
// re-applying anything. The LevelDB store is only read (stop its server first: LevelDB allows one
// process); the etcd prefix must be empty.

import type { Command } from 'commander';
import { CliError, run } from '../context.js';
import { LevelStore, storePath, etcdStore } from '../../src/store/index.js';
import { migrateToEtcd } from '../../src/store/migrate.js';
import { normalizePrefix, parseEtcdURL } from '../../src/store/etcd-config.js';
import { StoreOpenError } from '../../src/store/data-dir.js';
import type { EtcdStoreConfig } from '../../src/config.js';

interface MigrateFlags {
  from: string;
  to: string;
  etcdPrefix: string;
  etcdCafile?: string;
  etcdCertfile?: string;
  etcdKeyfile?: string;
}

export function registerStore(program: Command): void {
  const store = program.command('store').description('Manage the server\'s store');
  store
    .command('migrate')
    .description('Copy a LevelDB store (a stopped server\'s --data-dir) into etcd, for `kubelite server --store etcd://...`')
    .requiredOption('--from <data-dir>', 'the --data-dir of the (stopped) one-host server')
    .requiredOption('--to <url>', 'etcd://HOST:PORT[,HOST:PORT...]')
    .option('--etcd-prefix <prefix>', 'etcd key prefix the new servers will use', '/kubelite')
    .option('--etcd-cafile <file>', 'CA bundle of the etcd members (turns TLS on)')
    .option('--etcd-certfile <file>', 'client certificate for etcd')
    .option('--etcd-keyfile <file>', 'client key for etcd')
    .action((f: MigrateFlags) =>
      run(async () => {
        let cfg: EtcdStoreConfig;
        try {
          const tls = { caFile: f.etcdCafile, certFile: f.etcdCertfile, keyFile: f.etcdKeyfile };
          parseEtcdURL(f.to, tls);
          cfg = { url: f.to, prefix: normalizePrefix(f.etcdPrefix), ...tls, compactionIntervalSeconds: 0 };
        } catch (err) {
          throw new CliError(`error: ${(err as Error).message.replace(/^--store/, '--to')}`);
        }
        const source = new LevelStore({ path: storePath(f.from) });
        try {
          await source.open();
        } catch (err) {
          throw new CliError(`error: ${err instanceof StoreOpenError && err.problem === 'locked' ? `${err.message} (stop the server that uses --data-dir ${f.from} first)` : (err as Error).message}`);
        }
        const target = etcdStore(cfg);
        try {
          await target.open();
          const out = process.stderr;
          const res = await migrateToEtcd(source, target, (what, done, total) => {
            if (total > 0 && (done === total || done % 5000 === 0)) out.write(`${what === 'advance' ? 'advancing etcd\'s revision' : 'copying objects'}: ${done}/${total}\n`);
          });
          process.stdout.write(
            `migrated ${res.objects} objects from ${f.from} (resourceVersion ${res.sourceResourceVersion}) to ${f.to}${cfg.prefix} (revision ${res.targetResourceVersion})\n` +
              `next: kubelite server --store ${f.to}${cfg.prefix !== '/kubelite' ? ` --etcd-prefix ${cfg.prefix}` : ''} --data-dir ${f.from}\n`,
          );
        } finally {
          await target.close().catch(() => undefined);
          await source.close();
        }
      }),
    );
}
