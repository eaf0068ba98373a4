// The REST API on Kubernetes paths. Every response is JSON — objects, lists, Tables, watch streams, or a
// Status for every error (never an HTML page): that is what lets real kubectl and client-node drive us.

import crypto from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import promClient from 'prom-client';
import type { KObject, Status } from '../api/types.js';
import { errors, isStatusError, StatusError } from '../api/errors.js';
import { R, type ResourceInfo } from '../api/resources.js';
import type { DeleteOptions, ListOptions } from '../client/types.js';
import { WATCH_LINE, type Registry, type RegistryWriteOpts } from './registry.js';
import { parsePath, type ResourcePath } from './paths.js';
import { mediaType, patchTypeOf, readBody } from './body.js';
import { PROTOBUF_MEDIA_TYPE, readProtobufBody } from './protobuf.js';
import { negotiate, shapeList, shapeObject, toTable, type Shape } from './table.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.js';
import { mountOpenAPI } from './openapi.js';
import { isDNS1123Label } from '../api/names.js';
import { checkQuery, checkQueryCount, checkResourceVersionParam, parseBoolParam, parseIntParam } from '../api/query.js';
import type { LeveledLogger } from '../util/log.js';
import { authenticate, nodeForbidden, nodeMayUsePath, userName, type Principal, type RequestAttributes } from './node-auth.js';

type Logger = Pick<LeveledLogger, 'info' | 'warn' | 'error'>;

/** Handlers for pod subresources that stream from the node (logs, exec, port-forward). */
export type SubresourceHandler = (req: Request, res: Response, path: ResourcePath) => Promise<void> | void;

export interface AppContext {
  registry: Registry;
  token: string;
  kubeliteVersion: string;
  /** host:port clients use, for /api's serverAddressByClientCIDRs */
  serverAddress: () => string;
  logger: Logger;
  /** Extra routes mounted before the resource router (OpenAPI, ...). */
  extraRoutes?: (app: express.Express) => void;
  /** Routes mounted before the bearer-token check; each authenticates its requests itself. */
  publicRoutes?: (app: express.Express) => void;
  /** `pods/log`, `pods/exec`, `pods/portforward`, ... keyed by `<plural>/<subresource>`. */
  subresources?: Map<string, SubresourceHandler>;
  /** Readiness checks for /readyz (name -> ok). */
  readiness?: () => Record<string, boolean>;
  /** Authenticates and authorises every request (server/auth); without it, the admin bearer token alone. */
  authenticate?: express.RequestHandler;
  /** Called on every API request (the idle collector counts them). */
  onRequest?: () => void;
  /** Open watches one client (remote address + credential) may hold; default DEFAULT_MAX_WATCHES_PER_CLIENT. */
  maxWatchesPerClient?: number;
}

const requestDuration = new promClient.Histogram({
  name: 'kubelite_apiserver_request_duration_seconds',
  help: 'API request latency by verb and resource',
  labelNames: ['verb', 'resource', 'code'],
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
});

const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version', '/version/']);

export function createApp(ctx: AppContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');
  ctx.publicRoutes?.(app);

  app.use((req, res, next) => {
    // /healthz, /readyz and /version are public in Kubernetes too (system:public-info-viewer).
    if (PUBLIC_PATHS.has(req.path)) return next();
    const principal = authenticate(req.headers.authorization, ctx.token);
    // A joined node's token is checked here, before the cluster's authenticator: a node is authorised by
    // what a node needs (Kubernetes' Node authorizer, reduced; checked per request below), not by RBAC.
    if (principal?.kind === 'node') {
      res.locals.principal = principal;
      // A node's credentials reach the resources and a few paths, nothing else.
      if (!nodeMayUsePath(req.method, req.path) && parsePath(req.path).kind !== 'resource') {
        return sendError(res, forbidden(`User "${userName(principal)}" cannot ${req.method.toLowerCase()} path "${req.path}"`));
      }
      return next();
    }
    if (ctx.authenticate) return ctx.authenticate(req, res, next);
    if (!principal) return sendError(res, errors.unauthorized());
    res.locals.principal = principal;
    next();
  });

  app.get(['/healthz', '/livez'], (_req, res) => {
    res.type('text/plain').send('ok');
  });
  app.get('/readyz', (_req, res) => {
    const checks = ctx.readiness?.() ?? {};
    const bad = Object.entries(checks).filter(([, ok]) => !ok);
    res.status(bad.length ? 500 : 200).type('text/plain').send(bad.length ? bad.map(([n]) => `[-]${n} failed`).join('\n') + '\nreadyz check failed' : 'ok');
  });
  app.get(['/version', '/version/'], (_req, res) => {
    res.json(versionInfo(ctx.kubeliteVersion));
  });
  app.get('/metrics', async (_req, res) => {
    res.type(promClient.register.contentType).send(await promClient.register.metrics());
  });
  app.get('/api', (_req, res) => {
    res.json(apiVersions(ctx.serverAddress()));
  });
  const catalog = ctx.registry.resources;
  app.get('/apis', (_req, res) => {
    res.json(apiGroupList(catalog));
  });
  mountOpenAPI(app, catalog);
  ctx.extraRoutes?.(app);

  app.use(async (req, res, next) => {
    const started = process.hrtime.bigint();
    let resourceName = '';
    ctx.onRequest?.();
    res.on('finish', () => {
      if (isWatchRequest(req)) return;
      requestDuration.observe({ verb: req.method, resource: resourceName, code: String(res.statusCode) }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    try {
      checkQueryCount(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
      checkQuery(req.query as Record<string, unknown>);
      const parsed = parsePath(req.path, catalog);
      if (parsed.kind === 'other') {
        const m = /^\/apis\/([^/]+)\/?$/.exec(req.path);
        const group = m && apiGroup(m[1], catalog);
        if (group && req.method === 'GET') return void res.json(group);
        throw notFoundPath();
      }
      if (parsed.kind === 'groupVersion') {
        const doc = apiResourceList(parsed.group, parsed.version, catalog);
        if (!doc) throw notFoundPath();
        if (req.method !== 'GET') throw errors.methodNotAllowed(`${req.method} is not supported on ${req.path}`);
        return void res.json(doc);
      }
      if (parsed.kind === 'unknownResource') {
        throw new StatusError({ code: 404, reason: 'NotFound', message: `the server could not find the requested resource (${parsed.plural}${parsed.group ? '.' + parsed.group : ''})`, details: { kind: parsed.plural, group: parsed.group || undefined } });
      }
      resourceName = parsed.path.resource.plural;
      await handleResource(ctx, req, res, parsed.path);
    } catch (err) {
      next(err);
    }
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (!isStatusError(err)) {
      const e = err as { type?: string; status?: number; message?: string };
      if (e?.type === 'entity.too.large') return sendError(res, errors.tooLarge(e.message ?? 'request entity too large'));
      ctx.logger.error({ err: e?.message ?? String(err), stack: (err as Error)?.stack, path: req.path, method: req.method }, 'request failed');
    }
    sendError(res, isStatusError(err) ? err : errors.internal((err as Error)?.message ?? String(err)));
  });
  return app;
}

/** The request as Kubernetes' authorizers see it. */
function attributesOf(req: Request, path: ResourcePath, body?: KObject): RequestAttributes {
  const r = path.resource;
  const watch = path.watchPrefix || isTrue(req, 'watch');
  const verb: RequestAttributes['verb'] =
    req.method === 'GET' ? (watch ? 'watch' : path.name ? 'get' : 'list')
    : req.method === 'POST' ? 'create'
    : req.method === 'PUT' ? 'update'
    : req.method === 'PATCH' ? 'patch'
    : path.name ? 'delete' : 'deletecollection';
  const name = path.name ?? (verb === 'create' && !path.subresource ? body?.metadata?.name : undefined);
  return { verb, group: r.group, resource: r.plural, subresource: path.subresource, namespace: path.namespace, name };
}

/**
 * A node may write only its own objects (NodeRestriction): what it may do at all is decided by
 * nodeForbidden; for Pods, the Pod must be bound to it.
 */
async function checkNode(ctx: AppContext, p: Extract<Principal, { kind: 'node' }>, a: RequestAttributes, body?: KObject): Promise<void> {
  const why = nodeForbidden(p.node, a);
  if (why) throw forbidden(why);
  if (a.resource === 'serviceaccounts' && a.subresource === 'token') {
    // NodeRestriction: a token bound to a Pod on this node, of that Pod's own ServiceAccount.
    const ref = (body as { spec?: { boundObjectRef?: { kind?: string; name?: string; uid?: string } } } | undefined)?.spec?.boundObjectRef;
    const deny = () => forbidden(`serviceaccounts "${a.name ?? ''}" is forbidden: node "${p.node}" can only create tokens bound to pods on it, of their own service account`);
    if (ref?.kind !== 'Pod' || !ref.name || !a.namespace) throw deny();
    const pod = (await ctx.registry.get(R.pods, a.namespace, ref.name).catch(() => undefined)) as { metadata: { uid?: string }; spec?: { nodeName?: string; serviceAccountName?: string } } | undefined;
    if (!pod || pod.spec?.nodeName !== p.node || (ref.uid && ref.uid !== pod.metadata.uid) || (pod.spec?.serviceAccountName || 'default') !== a.name) throw deny();
  }
  if (a.resource === 'pods' && a.name && a.namespace && (a.subresource === 'status' || a.verb === 'delete')) {
    const pod = (await ctx.registry.get(R.pods, a.namespace, a.name)) as { spec?: { nodeName?: string } };
    if (pod.spec?.nodeName !== p.node) throw forbidden(`pods "${a.name}" is forbidden: node "${p.node}" can only ${a.verb} pods bound to it`);
  }
}

function forbidden(message: string): StatusError {
  return new StatusError({ code: 403, reason: 'Forbidden', message });
}

function notFoundPath(): StatusError {
  return new StatusError({ code: 404, reason: 'NotFound', message: 'the server could not find the requested resource' });
}

export function sendError(res: Response, err: StatusError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.status(err.status.code).type('application/json').send(JSON.stringify(err.status));
}

/** JSON/YAML bodies, or protobuf as kubectl's typed clients send it (`kubectl create deployment`, ...). */
function readRequestBody(req: Request): Promise<unknown> {
  return mediaType(req) === PROTOBUF_MEDIA_TYPE ? readProtobufBody(req) : readBody(req);
}

function sendJSON(res: Response, code: number, body: unknown, warnings?: string[]): void {
  if (warnings?.length) res.setHeader('Warning', warnings.map((w) => `299 - ${JSON.stringify(w)}`));
  res.status(code).type('application/json').send(JSON.stringify(body));
}

function q(req: Request, name: string): string | undefined {
  const v = req.query[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? String(v[0]) : undefined;
}

/** A boolean parameter as Go's strconv.ParseBool reads it (checkQuery has refused garbage already). */
function isTrue(req: Request, name: string): boolean {
  return parseBoolParam(name, q(req, name)) ?? false;
}

function isWatchRequest(req: Request): boolean {
  try {
    return isTrue(req, 'watch') || /\/watch\//.test(req.path);
  } catch {
    return false;
  }
}

function listOptions(req: Request, path: ResourcePath): ListOptions {
  return { namespace: path.namespace, labelSelector: q(req, 'labelSelector'), fieldSelector: q(req, 'fieldSelector') };
}

function writeOptions(req: Request, subresource?: string): RegistryWriteOpts {
  const fv = q(req, 'fieldValidation');
  if (fv && !['Strict', 'Warn', 'Ignore'].includes(fv)) throw errors.badRequest(`fieldValidation must be one of "Ignore", "Warn" or "Strict", got ${JSON.stringify(fv)}`);
  const dryRun = q(req, 'dryRun');
  if (dryRun && dryRun !== 'All') throw errors.badRequest(`dryRun: Unsupported value: ${JSON.stringify(dryRun)}: supported values: "All"`);
  return {
    subresource,
    dryRun: dryRun === 'All',
    fieldManager: q(req, 'fieldManager'),
    force: isTrue(req, 'force'),
    fieldValidation: fv as RegistryWriteOpts['fieldValidation'],
    warnings: [],
  };
}

async function handleResource(ctx: AppContext, req: Request, res: Response, path: ResourcePath): Promise<void> {
  const { registry } = ctx;
  const r = path.resource;
  const sub = path.subresource;

  if (sub && !r.subresources.includes(sub)) {
    throw new StatusError({ code: 404, reason: 'NotFound', message: `the server could not find the requested resource (${req.method.toLowerCase()} ${r.plural}/${sub})` });
  }
  const principal = res.locals.principal as Principal | undefined;
  if (principal?.kind === 'node' && req.method !== 'POST') await checkNode(ctx, principal, attributesOf(req, path));
  if (sub === 'exec' || sub === 'attach' || sub === 'portforward') {
    // These are served on an HTTP upgrade (WebSocket or SPDY) only; a plain request reaching the router
    // is refused as the API server does, after the Pod is found.
    if (!path.name) throw notFoundPath();
    await registry.get(r, path.namespace, path.name);
    throw errors.badRequest('Upgrade request required');
  }
  const streamHandler = sub ? ctx.subresources?.get(`${r.plural}/${sub}`) : undefined;
  if (streamHandler) return void (await streamHandler(req, res, path));
  if (sub === 'log') {
    throw errors.serviceUnavailable(`${r.plural}/${sub} is not available: this server runs no agent`);
  }

  const shape: Shape = negotiate(req.headers.accept, q(req, 'includeObject'));
  const watch = path.watchPrefix || isTrue(req, 'watch');
  if (!r.namespaced && path.namespace) throw errors.badRequest(`${r.plural} is not namespaced`);
  // No namespace can be named that: refuse the path rather than list an empty "a b" namespace.
  if (path.namespace !== undefined) {
    const problems = isDNS1123Label(path.namespace);
    if (problems.length) throw errors.badRequest(`invalid namespace ${JSON.stringify(path.namespace.slice(0, 80))} in the request path: ${problems.join('; ')}`);
  }

  switch (req.method) {
    case 'GET': {
      if (watch) return serveWatch(ctx, req, res, path, shape);
      if (path.name) {
        const obj = await registry.get(r, path.namespace, path.name, sub);
        return sendJSON(res, 200, shapeObject(r, obj, shape));
      }
      const list = await registry.list(r, listOptions(req, path));
      return sendJSON(res, 200, shapeList(r, list, shape));
    }
    case 'POST': {
      const body = (await readRequestBody(req)) as KObject;
      if (principal?.kind === 'node') await checkNode(ctx, principal, attributesOf(req, path, body), body);
      if (sub) {
        if (!path.name) throw notFoundPath();
        const out = await registry.createSubresource(r, path.namespace, path.name, sub, body);
        return sendJSON(res, 201, out);
      }
      if (path.name) throw errors.methodNotAllowed(`POST is not allowed on a named ${r.singular}: use PUT or PATCH`);
      requireObjectBody(r, body);
      if (r.namespaced) {
        const bodyNs = body.metadata?.namespace;
        if (path.namespace && bodyNs && bodyNs !== path.namespace) throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
        if (!path.namespace && !bodyNs) throw errors.badRequest(`${r.plural} must be created in a namespace: POST to /api/.../namespaces/{namespace}/${r.plural}`);
        body.metadata = { ...body.metadata, namespace: path.namespace ?? bodyNs };
      }
      const opts = writeOptions(req);
      const created = await registry.create(r, body, opts);
      return sendJSON(res, 201, shapeObject(r, created, shape), opts.warnings);
    }
    case 'PUT': {
      if (!path.name) throw errors.methodNotAllowed(`PUT requires a name: /${r.plural}/{name}`);
      const body = (await readRequestBody(req)) as KObject;
      requireObjectBody(r, body);
      body.metadata ??= {};
      if (body.metadata.name && body.metadata.name !== path.name) throw errors.badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${path.name})`);
      body.metadata.name = path.name;
      if (r.namespaced) {
        if (body.metadata.namespace && body.metadata.namespace !== path.namespace) throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
        body.metadata.namespace = path.namespace;
      }
      const opts = writeOptions(req, sub === 'finalize' ? undefined : sub);
      const updated = await registry.update(r, body, opts);
      return sendJSON(res, 200, shapeObject(r, updated, shape), opts.warnings);
    }
    case 'PATCH': {
      if (!path.name) throw errors.methodNotAllowed('PATCH requires a name');
      const type = patchTypeOf(req);
      const body = await readRequestBody(req);
      if (body === undefined) throw errors.badRequest('the patch body is empty');
      const opts = writeOptions(req, sub);
      const existed = type === 'apply' ? await exists(registry, r, path) : true;
      const patched = await registry.patch(r, path.namespace, path.name, type, body, opts);
      return sendJSON(res, existed ? 200 : 201, shapeObject(r, patched, shape), opts.warnings);
    }
    case 'DELETE': {
      const body = ((await readRequestBody(req)) ?? {}) as DeleteOptions & { kind?: string; dryRun?: string[] };
      const opts = {
        gracePeriodSeconds: parseIntParam('gracePeriodSeconds', q(req, 'gracePeriodSeconds')) ?? body.gracePeriodSeconds,
        propagationPolicy: (q(req, 'propagationPolicy') as DeleteOptions['propagationPolicy']) ?? body.propagationPolicy,
        preconditions: body.preconditions,
        dryRun: q(req, 'dryRun') === 'All' || (Array.isArray(body.dryRun) && body.dryRun.includes('All')),
      };
      if (opts.propagationPolicy && !['Background', 'Foreground', 'Orphan'].includes(opts.propagationPolicy)) {
        throw errors.badRequest(`propagationPolicy: Unsupported value: ${JSON.stringify(opts.propagationPolicy)}: supported values: "Foreground", "Background", "Orphan"`);
      }
      if (opts.gracePeriodSeconds !== undefined && (!Number.isInteger(opts.gracePeriodSeconds) || opts.gracePeriodSeconds < 0)) {
        throw errors.badRequest('gracePeriodSeconds must be a non-negative integer');
      }
      if (sub) throw errors.methodNotAllowed(`DELETE is not supported on ${r.plural}/${sub}`);
      if (!path.name) {
        // deletecollection: delete each matching object; report what was deleted as a list.
        const list = await registry.list(r, listOptions(req, path));
        const deleted: KObject[] = [];
        for (const item of list.items) {
          try {
            const out = await registry.delete(r, item.metadata.namespace, item.metadata.name!, opts);
            if ((out as KObject).metadata?.name) deleted.push(out as KObject);
          } catch (err) {
            if (!isStatusError(err, 'NotFound')) throw err;
          }
        }
        return sendJSON(res, 200, { ...list, items: deleted });
      }
      const out = await registry.delete(r, path.namespace, path.name, opts);
      return sendJSON(res, 200, (out as Status).kind === 'Status' ? out : shapeObject(r, out as KObject, shape));
    }
    default:
      throw errors.methodNotAllowed(`the server does not allow this method on the requested resource (${req.method} ${r.plural})`);
  }
}

/** The body of a create or update: an object whose metadata, when given, is an object too. */
function requireObjectBody(r: ResourceInfo, body: unknown): asserts body is KObject {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest(`the request body must be a ${r.kind} object`);
  const meta = (body as KObject).metadata as unknown;
  if (meta !== undefined && meta !== null && (typeof meta !== 'object' || Array.isArray(meta))) {
    throw errors.invalid(r.kind, '', [{ field: 'metadata', reason: 'FieldValueTypeInvalid', message: 'Invalid value: must be of type object' }], r.group || undefined);
  }
}

async function exists(registry: Registry, r: ResourceInfo, path: ResourcePath): Promise<boolean> {
  try {
    await registry.get(r, path.namespace, path.name!);
    return true;
  } catch (err) {
    if (isStatusError(err, 'NotFound')) return false;
    throw err;
  }
}

/** Open watches per client (remote address + credential): one client cannot hold the server's memory. */
export const DEFAULT_MAX_WATCHES_PER_CLIENT = 5000;
/**
 * Slow watchers are dropped so they relist (as kine and the API server's watch cache do) instead of the
 * server buffering for them without bound: past MAX_WATCH_BACKLOG_BYTES of unsent live events a watcher
 * has SLOW_WATCHER_GRACE_MS to read its way back under it; past HARD_WATCH_BACKLOG_BYTES it goes at once.
 * (A burst fills every watcher's buffer before the sockets can flush: only one that stays behind is slow.)
 */
export const MAX_WATCH_BACKLOG_BYTES = 1024 * 1024;
export const HARD_WATCH_BACKLOG_BYTES = 16 * 1024 * 1024;
export const SLOW_WATCHER_GRACE_MS = 5000;

const openWatches = new Map<string, number>();

function clientKey(req: Request): string {
  const cred = req.headers.authorization ?? '';
  return `${req.socket.remoteAddress ?? ''}|${cred ? crypto.createHash('sha256').update(cred).digest('base64').slice(0, 16) : 'anonymous'}`;
}

function serveWatch(ctx: AppContext, req: Request, res: Response, path: ResourcePath, shape: Shape): void {
  const r = path.resource;
  const opts = { ...listOptions(req, path), resourceVersion: q(req, 'resourceVersion') };
  if (path.name) opts.fieldSelector = [opts.fieldSelector, `metadata.name=${path.name}`].filter(Boolean).join(',');
  // Checked before the 200 goes out: a bad parameter is a 400, never an ERROR event or a hung stream.
  const timeoutSeconds = parseIntParam('timeoutSeconds', q(req, 'timeoutSeconds')) ?? 0;
  checkResourceVersionParam(opts.resourceVersion);
  ctx.registry.checkListOptions(r, opts);
  const client = clientKey(req);
  const max = ctx.maxWatchesPerClient ?? DEFAULT_MAX_WATCHES_PER_CLIENT;
  const open = openWatches.get(client) ?? 0;
  if (open >= max) {
    res.setHeader('Retry-After', '1');
    throw new StatusError({ code: 429, reason: 'TooManyRequests', message: `too many open watches from this client (${open}, at most ${max}): close some before opening more`, details: { retryAfterSeconds: 1 } });
  }
  openWatches.set(client, open + 1);

  res.status(200);
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-cache, private');
  res.setHeader('Transfer-Encoding', 'chunked');
  // kubectl waits for headers before it reads events; without this an idle watch looks hung.
  res.flushHeaders();

  let ended = false;
  let first = true;
  let timer: NodeJS.Timeout | undefined;
  let watch: { stop(): void } | undefined;
  let slowTimer: NodeJS.Timeout | undefined;
  const end = () => {
    if (ended) return;
    ended = true;
    clearTimeout(slowTimer);
    const left = (openWatches.get(client) ?? 1) - 1;
    if (left > 0) openWatches.set(client, left);
    else openWatches.delete(client);
    clearTimeout(timer);
    watch?.stop();
    res.end();
  };
  // What the initial events (a watch without resourceVersion sends every object first) left unsent
  // does not count against the live backlog: a consumer that drains it is not slow.
  let initialBacklog = 0;
  let live = false;
  const behind = () => res.writableLength - initialBacklog;
  const dropSlow = () => {
    ctx.logger.warn({ resource: r.plural, client: req.socket.remoteAddress, backlog: res.writableLength }, 'watcher too slow: closing its watch (it relists)');
    end();
  };
  const checkBacklog = () => {
    if (ended) return;
    if (behind() > HARD_WATCH_BACKLOG_BYTES) return dropSlow();
    if (behind() > MAX_WATCH_BACKLOG_BYTES && !slowTimer) {
      slowTimer = setTimeout(() => {
        slowTimer = undefined;
        if (behind() > MAX_WATCH_BACKLOG_BYTES) dropSlow();
      }, SLOW_WATCHER_GRACE_MS);
      slowTimer.unref();
    }
  };
  watch = ctx.registry.watch(r, opts, {
    onEvent(ev) {
      if (ended) return;
      if (live) checkBacklog();
      if (ended) return;
      const shared = shape.as === 'object' ? (ev as unknown as Record<symbol, (() => Buffer) | undefined>)[WATCH_LINE] : undefined;
      if (shared) {
        // One encoding of the event shared by every watcher (no parse, no stringify per watcher).
        res.write(shared());
        return;
      }
      let object: unknown = ev.object;
      if (shape.as === 'table') {
        object = toTable(r, [ev.object as KObject], ev.object.metadata.resourceVersion, shape.include, first);
        first = false;
      } else if (shape.as === 'metadata') object = shapeObject(r, ev.object as KObject, shape);
      res.write(JSON.stringify({ type: ev.type, object }) + '\n');
    },
    onClose(err) {
      if (ended) return;
      if (err) {
        const status = isStatusError(err) ? err.status : errors.internal(err.message).status;
        res.write(JSON.stringify({ type: 'ERROR', object: status }) + '\n');
      }
      end();
    },
  });
  live = true;
  initialBacklog = res.writableLength;
  if (ended) watch.stop();
  else if (timeoutSeconds > 0) timer = setTimeout(end, Math.min(timeoutSeconds * 1000, 2 ** 31 - 1));
  // On Node 20 req 'close' fires once the body is read; the response's 'close' is the client going away.
  res.on('close', end);
}
