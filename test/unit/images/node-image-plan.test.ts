// The node image's pure parts: the base recipe and its hash, the production packages from a lockfile,
// the top layer's entries, the image config, and the hash that decides a rebuild.

import test from 'ava';
import { dockerChanges } from '../../../src/images/changes.js';
import {
  BASE_RECIPE,
  baseHash,
  baseImageRef,
  debootstrapArgs,
  layerEntries,
  nodeImageConfig,
  nodeImageHash,
  nodeImageRef,
  productionPackages,
  type NodeImageManifest,
} from '../../../src/images/node-image-plan.js';

test('base recipe: debootstrap arguments and a hash that only the recipe changes', (t) => {
  const args = debootstrapArgs(BASE_RECIPE, '/tmp/x/rootfs', 'http://deb.debian.org/debian');
  t.deepEqual(args.slice(0, 1), ['--variant=minbase']);
  t.regex(args[1], /^--include=docker\.io,iptables,nftables,conntrack,iproute2,haproxy,busybox-static,ca-certificates,procps,tini,/);
  t.deepEqual(args.slice(2), ['bookworm', '/tmp/x/rootfs', 'http://deb.debian.org/debian']);
  t.is(baseHash(), baseHash({ ...BASE_RECIPE, packages: [...BASE_RECIPE.packages].reverse() }), 'order does not matter');
  t.not(baseHash(), baseHash({ ...BASE_RECIPE, packages: [...BASE_RECIPE.packages, 'vim'] }));
  t.regex(baseImageRef(baseHash()), /^kubelite\/cluster-node-base:[0-9a-f]{12}$/);
  t.throws(() => debootstrapArgs({ ...BASE_RECIPE, packages: ['a;b'] }, '/x', 'http://m'), { message: /package name/ });
  t.throws(() => debootstrapArgs(BASE_RECIPE, '/x', 'file:///etc'), { message: /mirror/ });
});

test('production packages: not dev, nested ones come with their parent', (t) => {
  const lock = {
    packages: {
      '': {},
      'node_modules/express': {},
      'node_modules/express/node_modules/debug': {},
      'node_modules/ava': { dev: true },
      'node_modules/ava/node_modules/x': { dev: true },
      'node_modules/local': { link: true },
      'node_modules/@peculiar/x509': {},
    },
  };
  t.deepEqual(productionPackages(lock), ['node_modules/@peculiar/x509', 'node_modules/express']);
  t.throws(() => productionPackages({}), { message: /lockfile v2/ });
});

test('the top layer: kubelite under /opt, node and the entry point on the PATH, the images tarball', (t) => {
  const entries = layerEntries({
    node: '/usr/bin/node',
    dist: '/tmp/b/dist',
    packageJson: '/src/package.json',
    bin: '/src/bin/kubelite',
    root: '/src',
    modules: ['node_modules/express', 'node_modules/@peculiar/x509'],
    entrypoint: '/src/scripts/node-entrypoint.sh',
    imagesTar: '/tmp/b/images.tar',
  });
  const byPath = new Map(entries.map((e) => [e.path, e]));
  t.deepEqual(byPath.get('/usr/local/bin/node'), { kind: 'copy', path: '/usr/local/bin/node', mode: 0o755, source: '/usr/bin/node' });
  t.deepEqual(byPath.get('/usr/local/bin/kubelite'), { kind: 'symlink', path: '/usr/local/bin/kubelite', target: '/opt/kubelite/bin/kubelite' });
  t.deepEqual(byPath.get('/opt/kubelite/node_modules/@peculiar/x509'), { kind: 'tree', path: '/opt/kubelite/node_modules/@peculiar/x509', source: '/src/node_modules/@peculiar/x509' });
  t.is(byPath.get('/opt/kubelite/dist')?.kind, 'tree');
  t.is(byPath.get('/usr/share/kubelite/images.tar')?.kind, 'copy');
  // never a directory entry where Debian has a symlink (merged /usr): /bin, /sbin, /lib stay untouched
  for (const p of ['/bin', '/sbin', '/lib', '/lib64', '/usr/bin']) t.false(byPath.has(p), p);
  t.throws(() => layerEntries({ node: '', dist: '', packageJson: '', bin: '', root: '/src', modules: ['node_modules/../../etc'], entrypoint: '', imagesTar: '' }), { message: /module dir/ });
});

test('the image config: tini, the entry point, kubelite server, a volume for the inner engine', (t) => {
  const changes = dockerChanges(nodeImageConfig({ 'io.kubelite.image': 'cluster-node' }));
  t.true(changes.includes('ENTRYPOINT ["/usr/bin/tini","--","/usr/local/bin/kubelite-node"]'));
  t.true(changes.includes('CMD ["kubelite","server","--bind-address","0.0.0.0"]'));
  t.true(changes.includes('VOLUME ["/var/lib/docker"]'));
  t.true(changes.includes('EXPOSE 6443/tcp'));
  t.is(nodeImageRef('0.1.0'), 'kubelite/cluster-node:0.1.0');
  t.throws(() => nodeImageRef('bad tag!'));
});

test('the image hash moves with every input and nothing else', (t) => {
  const m: NodeImageManifest = { ref: 'kubelite/cluster-node:0.1.0', baseHash: 'b', node: 'n', kubelite: 'k', modules: 'm', entrypoint: 'e', images: { 'kubelite/pause:1': 'p', 'kubelite/echo:1': 'x' } };
  const h = nodeImageHash(m);
  t.is(nodeImageHash({ ...m, images: { 'kubelite/echo:1': 'x', 'kubelite/pause:1': 'p' } }), h, 'image order does not matter');
  for (const k of ['baseHash', 'node', 'kubelite', 'modules', 'entrypoint'] as const) t.not(nodeImageHash({ ...m, [k]: 'changed' }), h, k);
  t.not(nodeImageHash({ ...m, images: { ...m.images, 'kubelite/pause:1': 'q' } }), h);
});
