// Which rights node containers get: --privileged where the engine allows it, the capability set where it
// refuses ("unable to apply caps"), a clear error where it refuses both; found once, remembered per engine.

import test from 'ava';
import type Dockerode from 'dockerode';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { engineFacts, explainRunFailure, securityMode } from '../../../src/cluster/engine.js';

/** A Docker double whose container start fails for the given modes. */
function fakeDocker(refuse: { privileged?: string; capabilities?: string }) {
  const runs: string[] = [];
  const docker = {
    createContainer: async (opts: { HostConfig: { Privileged?: boolean } }) => {
      const mode = opts.HostConfig.Privileged ? 'privileged' : 'capabilities';
      runs.push(mode);
      return {
        start: async () => {
          const msg = refuse[mode];
          if (msg) throw Object.assign(new Error('(HTTP code 400) unexpected'), { json: { message: msg } });
        },
        wait: async () => ({ StatusCode: 0 }),
        remove: async () => undefined,
      };
    },
  };
  return { docker: docker as unknown as Dockerode, runs };
}

const engine = { id: 'ENGINE-1', version: '20.10.24', cgroupV2: false };
const tmpFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kl-engine-')), 'engine.json');

test('privileged where allowed, remembered', async (t) => {
  const file = tmpFile();
  const { docker, runs } = fakeDocker({});
  t.is(await securityMode(docker, engine, 'img', file, () => {}), 'privileged');
  t.is(await securityMode(docker, engine, 'img', file, () => {}), 'privileged');
  t.deepEqual(runs, ['privileged'], 'checked once');
});

test('the capability set where --privileged is refused, remembered per engine', async (t) => {
  const file = tmpFile();
  const logs: string[] = [];
  const { docker, runs } = fakeDocker({ privileged: 'OCI runtime create failed: unable to apply caps: operation not permitted: unknown' });
  t.is(await securityMode(docker, engine, 'img', file, (l) => logs.push(l)), 'capabilities');
  t.is(await securityMode(docker, engine, 'img', file, () => {}), 'capabilities');
  t.deepEqual(runs, ['privileged', 'capabilities']);
  t.regex(logs[0], /refuses --privileged .*every capability but CAP_SYS_RESOURCE/);
  t.is(JSON.parse(fs.readFileSync(file, 'utf8'))['ENGINE-1'].mode, 'capabilities');
  const other = fakeDocker({});
  t.is(await securityMode(other.docker, { ...engine, id: 'ENGINE-2' }, 'img', file, () => {}), 'privileged', 'another engine is checked anew');
});

test('an engine refusing both says which and what to do', async (t) => {
  const { docker } = fakeDocker({ privileged: 'unable to apply caps: operation not permitted', capabilities: 'unable to apply caps: operation not permitted' });
  await t.throwsAsync(securityMode(docker, engine, 'img', tmpFile(), () => {}), { message: /cannot run on this engine. With --privileged: the engine refuses --privileged .* Without it: the engine refuses the capabilities a nested engine needs .*rootless Docker/ });
});

test('run failures in words', (t) => {
  t.regex(explainRunFailure('unable to apply caps: operation not permitted', 'privileged'), /refuses --privileged/);
  t.regex(explainRunFailure('userns remap is on', 'capabilities'), /remaps user namespaces/);
  t.is(explainRunFailure('no space left on device', 'capabilities'), 'no space left on device');
});

test('no engine: a clear message', async (t) => {
  const docker = { info: async () => Promise.reject(Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' })) } as unknown as Dockerode;
  await t.throwsAsync(engineFacts(docker), { message: /no Docker engine answers \(connect ENOENT \/var\/run\/docker.sock\): start one/ });
  const v2 = { info: async () => ({ ID: 'X', ServerVersion: '24.0.0', CgroupVersion: '2' }) } as unknown as Dockerode;
  t.deepEqual(await engineFacts(v2), { id: 'X', version: '24.0.0', cgroupV2: true });
});
