// GET .../pods/NAME/log: a container's output as text/plain, streamed as it comes (follow ends when
// the container exits), Docker's frame headers stripped from stdout and stderr alike.

import type { Request, Response } from 'express';
import type { Pod } from '../api/types.js';
import { R } from '../api/resources.js';
import { errors } from '../api/errors.js';
import type { ApiClient } from '../client/types.js';
import type { ResourcePath } from '../server/paths.js';
import { dockerMessage, type DockerRuntime } from './docker.js';
import { FrameDemuxer } from './frames.js';
import { checkStreamable, logContainerId, parseLogQuery, selectContainer } from './stream-select.js';

export interface LogDeps {
  client: ApiClient;
  runtime: DockerRuntime;
}

export function logsHandler(deps: LogDeps) {
  return async (req: Request, res: Response, path: ResourcePath): Promise<void> => {
    if (req.method !== 'GET') throw errors.methodNotAllowed(`${req.method} is not supported on pods/log`);
    if (!path.name) throw errors.badRequest('pods/log needs a pod name');
    const pod = await deps.client.get<Pod>(R.pods, path.namespace ?? 'default', path.name);
    checkStreamable(pod, 'log');
    const opts = parseLogQuery(req.query as Record<string, string | undefined>);
    const container = selectContainer(pod, opts.container);
    const id = logContainerId(pod, container, opts.previous);
    const info = await deps.runtime.inspectRaw(id);
    if (!info) throw errors.badRequest(`container "${container}" in pod "${pod.metadata.name}" is not available: its container ${id.slice(0, 12)} was removed`);
    let stream: NodeJS.ReadableStream & { destroy?(): void };
    try {
      stream = await deps.runtime.logs(id, { follow: opts.follow && info.State?.Running === true, tail: opts.tailLines, timestamps: opts.timestamps, since: opts.since });
    } catch (err) {
      throw errors.internal(`reading the logs of container ${container}: ${dockerMessage(err)}`);
    }
    res.status(200);
    res.setHeader('Content-Type', 'text/plain');
    res.setHeader('Cache-Control', 'no-cache, private');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.flushHeaders();

    const tty = info.Config?.Tty === true;
    const demux = new FrameDemuxer();
    let left = opts.limitBytes ?? Infinity;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      stream.destroy?.();
      res.end();
    };
    const write = (data: Buffer) => {
      if (left <= 0) return;
      const part = data.length > left ? data.subarray(0, left) : data;
      left -= part.length;
      res.write(part);
      if (left <= 0) finish();
    };
    res.on('close', finish);
    stream.on('data', (chunk: Buffer) => {
      if (tty) write(chunk);
      else for (const f of demux.push(chunk)) write(f.data);
    });
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', finish);
  };
}
