// The image builder's pure parts: names, recipes, hashing, Docker changes, and the host-output parsers.

import test from 'ava';
import { dockerChanges, quoteDockerfileValue } from '../../../src/images/changes.js';
import { elfLinkage } from '../../../src/images/elf.js';
import { recipeHash } from '../../../src/images/hash.js';
import { parseAppletList, parseLdd } from '../../../src/images/host-parsing.js';
import { echoRecipe, nodeRecipe, normalizeEntries, pauseRecipe, type HostInputs, type ImageRecipe } from '../../../src/images/recipes.js';
import { imageKeyOf, isKubeliteImage, splitRef } from '../../../src/images/refs.js';
import { selectImageKeys } from '../../../src/images/build.js';

const inputs: HostInputs = {
  busybox: '/bin/busybox',
  applets: ['[', '[[', 'cat', 'httpd', 'nc', 'pause', 'sh', 'sleep'],
  node: { binary: '/usr/bin/node', libs: ['/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2'], wsDir: '/x/node_modules/ws' },
};

function digestsFor(recipe: ImageRecipe, value = 'a'.repeat(64)): Map<string, string> {
  return new Map(recipe.entries.filter((e) => e.kind === 'copy' || e.kind === 'tree').map((e) => [e.path, value]));
}

test('image names: keys, refs and docker.io refs map to keys; others do not', (t) => {
  t.is(imageKeyOf('echo'), 'echo');
  t.is(imageKeyOf('kubelite/pause:1'), 'pause');
  t.is(imageKeyOf('docker.io/kubelite/node:20'), 'node');
  t.is(imageKeyOf('kubelite/echo:2'), undefined);
  t.is(imageKeyOf('nginx'), undefined);
  t.true(isKubeliteImage('kubelite/echo:1'));
  t.false(isKubeliteImage('echo'));
  t.false(isKubeliteImage('busybox:latest'));
  t.deepEqual(splitRef('kubelite/echo:1'), { repo: 'kubelite/echo', tag: '1' });
  t.deepEqual(splitRef('localhost:5000/a/b'), { repo: 'localhost:5000/a/b', tag: 'latest' });
});

test('selectImageKeys: default echo+pause, "all" adds node, unknown names are errors', (t) => {
  t.deepEqual(selectImageKeys(), ['echo', 'pause']);
  t.deepEqual(selectImageKeys(['all']), ['echo', 'pause', 'node']);
  t.deepEqual(selectImageKeys(['node', 'kubelite/echo:1', 'echo']), ['echo', 'node']);
  t.throws(() => selectImageKeys(['nginx']), { message: /unknown image "nginx".*echo \(kubelite\/echo:1\)/ });
});

test('dockerChanges renders CMD, ENV, EXPOSE, WORKDIR and LABEL instructions', (t) => {
  const changes = dockerChanges({
    cmd: ['echo-server'],
    env: { PATH: '/bin', Z: 'a "b" $HOME \\' },
    exposedPorts: ['8080/tcp', '9000/udp'],
    workdir: '/',
    labels: { 'io.kubelite.image': 'echo' },
  });
  t.deepEqual(changes, [
    'CMD ["echo-server"]',
    'ENV PATH="/bin"',
    'ENV Z="a \\"b\\" \\$HOME \\\\"',
    'EXPOSE 8080/tcp',
    'EXPOSE 9000/udp',
    'WORKDIR /',
    'LABEL io.kubelite.image="echo"',
  ]);
  t.throws(() => quoteDockerfileValue('a\nb'));
  t.throws(() => dockerChanges({ cmd: [], env: { 'BAD-NAME': 'x' }, exposedPorts: [], workdir: '/', labels: {} }));
  t.throws(() => dockerChanges({ cmd: [], env: {}, exposedPorts: ['70000/tcp'], workdir: '/', labels: {} }));
  t.throws(() => dockerChanges({ cmd: [], env: {}, exposedPorts: [], workdir: 'relative', labels: {} }));
});

test('normalizeEntries adds parents, sorts parents first, lets later entries win, rejects bad paths', (t) => {
  const out = normalizeEntries([
    { kind: 'file', path: '/a/b/c', mode: 0o644, content: 'one' },
    { kind: 'symlink', path: '/bin/x', target: 'busybox' },
    { kind: 'file', path: '/bin/x', mode: 0o755, content: 'two' },
  ]);
  t.deepEqual(
    out.map((e) => `${e.kind}:${e.path}`),
    ['dir:/a', 'dir:/a/b', 'file:/a/b/c', 'dir:/bin', 'file:/bin/x'],
  );
  t.throws(() => normalizeEntries([{ kind: 'dir', path: '/a/../b', mode: 0o755 }]), { message: /must not contain/ });
  t.throws(() => normalizeEntries([{ kind: 'dir', path: 'relative', mode: 0o755 }]), { message: /absolute/ });
  t.throws(() => normalizeEntries([{ kind: 'dir', path: '/', mode: 0o755 }]));
  t.throws(
    () =>
      normalizeEntries([
        { kind: 'symlink', path: '/usr/bin', target: '../bin' },
        { kind: 'file', path: '/usr/bin/tool', mode: 0o755, content: '' },
      ]),
    { message: /below \/usr\/bin, which is a symlink/ },
  );
});

test('echo recipe: busybox, applet links, its programs (replacing same-named applets), /www, sticky /tmp', (t) => {
  const r = echoRecipe(inputs);
  const at = (p: string) => r.entries.find((e) => e.path === p);
  t.deepEqual(at('/bin/busybox'), { kind: 'copy', path: '/bin/busybox', mode: 0o755, source: '/bin/busybox' });
  t.deepEqual(at('/bin/sh'), { kind: 'symlink', path: '/bin/sh', target: 'busybox' });
  t.deepEqual(at('/bin/['), { kind: 'symlink', path: '/bin/[', target: 'busybox' });
  t.deepEqual(at('/tmp'), { kind: 'dir', path: '/tmp', mode: 0o1777 });
  t.deepEqual(at('/usr/bin'), { kind: 'symlink', path: '/usr/bin', target: '../bin' });
  for (const p of ['/bin/echo-server', '/bin/http-echo', '/bin/tcp-echo', '/bin/udp-echo']) t.is(at(p)?.kind, 'file', p);
  t.is(at('/bin/pause'), undefined, 'the echo image has no pause program, and no applet of that name either');
  t.is(at('/www/static')?.kind, 'file');
  t.deepEqual(r.config.cmd, ['echo-server']);
  t.deepEqual(r.config.exposedPorts, ['8080/tcp', '8081/tcp', '9001/tcp']);
  t.is(r.config.labels['io.kubelite.image'], 'echo');
});

test('pause recipe runs /bin/pause; node recipe needs node inputs and places libs where ldd found them', (t) => {
  const p = pauseRecipe(inputs);
  t.deepEqual(p.config.cmd, ['pause']);
  t.is(p.entries.find((e) => e.path === '/bin/pause')?.kind, 'file');

  const n = nodeRecipe(inputs);
  const paths = n.entries.map((e) => e.path);
  for (const p of ['/bin/node', '/lib64/ld-linux-x86-64.so.2', '/lib/x86_64-linux-gnu/libc.so.6', '/usr/lib/node_modules/ws', '/bin/ws-echo', '/bin/udp-echo']) {
    t.true(paths.includes(p), p);
  }
  t.is(n.config.env.NODE_PATH, '/usr/lib/node_modules');
  t.deepEqual(n.config.exposedPorts, ['8080/tcp', '9000/udp']);
  t.throws(() => nodeRecipe({ busybox: inputs.busybox, applets: inputs.applets }), { message: /node binary/ });
});

test('recipeHash is stable, follows content (not host paths), and needs every digest', (t) => {
  const r = echoRecipe(inputs);
  const h = recipeHash(r, digestsFor(r));
  t.regex(h, /^[0-9a-f]{64}$/);
  t.is(recipeHash(echoRecipe(inputs), digestsFor(r)), h);
  t.not(recipeHash(r, digestsFor(r, 'b'.repeat(64))), h, 'another busybox binary');
  const moved = echoRecipe({ ...inputs, busybox: '/usr/bin/busybox' });
  t.is(recipeHash(moved, digestsFor(moved)), h, 'same busybox content elsewhere on the host');
  const fewer = echoRecipe({ ...inputs, applets: ['sh'] });
  t.not(recipeHash(fewer, digestsFor(fewer)), h);
  const edited: ImageRecipe = { ...r, entries: r.entries.map((e) => (e.path === '/bin/http-echo' && e.kind === 'file' ? { ...e, content: `${e.content}\n` } : e)) };
  t.not(recipeHash(edited, digestsFor(r)), h, 'a changed script');
  t.not(recipeHash({ ...r, config: { ...r.config, cmd: ['sh'] } }, digestsFor(r)), h, 'a changed config');
  t.throws(() => recipeHash(r, new Map()), { message: /no content digest for \/bin\/busybox/ });
});

test('parseAppletList keeps applet names, drops busybox itself, rejects odd names', (t) => {
  t.deepEqual(parseAppletList('sh\n[\n[[\nbusybox\ncat\n\ncat\n'), ['[', '[[', 'cat', 'sh']);
  t.throws(() => parseAppletList('sh\n../evil\n'));
  t.throws(() => parseAppletList('a b\n'));
});

test('parseLdd lists libraries and the loader, skips the vDSO, fails on a missing library', (t) => {
  const out = [
    '\tlinux-vdso.so.1 (0x00007ffd5a1f2000)',
    '\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007f3192037000)',
    '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f3191e00000)',
    '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f3191b1e000)',
    '\t/lib64/ld-linux-x86-64.so.2 (0x00007f319204f000)',
  ].join('\n');
  t.deepEqual(parseLdd(out), [
    '/lib/x86_64-linux-gnu/libdl.so.2',
    '/lib/x86_64-linux-gnu/libstdc++.so.6',
    '/lib/x86_64-linux-gnu/libc.so.6',
    '/lib64/ld-linux-x86-64.so.2',
  ]);
  t.deepEqual(parseLdd('\tnot a dynamic executable\n'), []);
  t.throws(() => parseLdd('\tlibfoo.so.1 => not found\n'), { message: /libfoo.so.1 not found/ });
});

/** A minimal little-endian ELF64 header with the given program header types. */
function elf64(types: number[]): Uint8Array {
  const phoff = 64;
  const buf = new Uint8Array(phoff + 56 * types.length);
  const view = new DataView(buf.buffer);
  buf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  view.setBigUint64(0x20, BigInt(phoff), true);
  view.setUint16(0x36, 56, true);
  view.setUint16(0x38, types.length, true);
  types.forEach((type, i) => view.setUint32(phoff + 56 * i, type, true));
  return buf;
}

test('elfLinkage tells static from dynamic binaries by PT_INTERP', (t) => {
  t.is(elfLinkage(elf64([1, 1, 4])), 'static');
  t.is(elfLinkage(elf64([6, 3, 1])), 'dynamic');
  t.is(elfLinkage(new TextEncoder().encode('#!/bin/sh\necho hi\n'.repeat(5))), 'not-elf');
  const truncated = elf64([1, 3]).subarray(0, 80);
  t.is(elfLinkage(truncated), 'not-elf');
});
