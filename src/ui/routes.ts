// The UI's HTTP surface under /ui on the API port. The page and its files are public (they hold no
// data); everything under /ui/api needs the session cookie or the API's bearer token, and a missing or
// wrong one gets the API's own 401 Status. Read-only: nothing here writes to the cluster.

import express, { type Request, type Response, type NextFunction } from 'express';
import type { Event as KEvent } from '../api/types.js';
import { R } from '../api/resources.js';
import { errors, isStatusError, StatusError } from '../api/errors.js';
import type { ApiClient } from '../client/types.js';
import { COOKIE_NAME, readCookie, UiAuth } from './auth.js';
import type { Asset } from './assets.js';
import type { StreamHub } from './hub.js';
import { ApiFailure, readLogTail, TAIL_LINES, type SelfApi } from './logs.js';
import { slimEvent } from './slim.js';

export interface UiRouteDeps {
  auth: UiAuth;
  hub: StreamHub;
  client: ApiClient;
  assets: Map<string, Asset>;
  /** How to reach this server's own API (for logs), given the request that asked. */
  selfApi(req: Request): SelfApi;
  logger: { warn(o: unknown, m?: string): void };
}

/** DNS-1123 label (namespaces, container names) and subdomain (Pod names). */
const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
export const MAX_EVENTS_RESPONSE = 200;

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function secure(res: Response): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

const notFound = (message: string) => new StatusError({ code: 404, reason: 'NotFound', message });
const forbidden = (message: string) => new StatusError({ code: 403, reason: 'Forbidden', message });

function fail(res: Response, err: StatusError): void {
  res.status(err.status.code).type('application/json').setHeader('Cache-Control', 'no-store');
  res.send(JSON.stringify(err.status));
}

function json(res: Response, body: unknown): void {
  res.status(200).type('application/json').setHeader('Cache-Control', 'no-store');
  res.send(JSON.stringify(body));
}

/** A POST from another origin is refused (the cookie is SameSite=Strict; this covers browsers that ignore it). */
function sameOrigin(req: Request): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

export function mountUiRoutes(router: express.Router, deps: UiRouteDeps): void {
  const { auth } = deps;
  const authed = (req: Request): boolean => {
    if (auth.validSession(readCookie(req.headers.cookie, COOKIE_NAME))) return true;
    const h = req.headers.authorization;
    return !!h?.startsWith('Bearer ') && auth.checkToken(h.slice(7));
  };
  const guard = (req: Request, res: Response, next: NextFunction) => {
    secure(res);
    if (!authed(req)) return fail(res, errors.unauthorized());
    next();
  };
  const serve = (name: string) => (req: Request, res: Response) => {
    const a = deps.assets.get(name);
    secure(res);
    if (!a) return fail(res, notFound(`${name} is not part of this build`));
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('ETag', a.etag);
    if (req.headers['if-none-match'] === a.etag) return void res.status(304).end();
    res.status(200).type(a.type).send(a.body);
  };

  // Routers here are not strict: '/ui' matches '/ui/' too, so look at the path itself.
  router.get('/ui', (req, res, next) => (req.path === '/ui' ? res.redirect(308, '/ui/') : next()));
  router.get('/ui/', serve('index.html'));
  router.get('/ui/app.js', serve('app.js'));
  router.get('/ui/app.css', serve('app.css'));
  router.get('/ui/favicon.svg', serve('favicon.svg'));

  const body = express.json({ limit: '8kb', type: 'application/json' });
  router.post('/ui/api/login', body, (req, res) => {
    secure(res);
    if (!sameOrigin(req)) return fail(res, forbidden('a login from another origin is refused'));
    if (!req.is('application/json')) return fail(res, errors.badRequest('send {"token": "..."} or {"code": "..."} as application/json'));
    const b = (req.body ?? {}) as { token?: unknown; code?: unknown };
    const ok = b.code !== undefined ? auth.redeemCode(b.code) : auth.checkToken(b.token);
    if (!ok) {
      return fail(res, errors.unauthorized(b.code !== undefined ? 'this login link was already used or has expired: run `kubelite ui` again, or paste the token' : 'wrong token'));
    }
    res.setHeader('Set-Cookie', UiAuth.setCookie(auth.newSession()));
    json(res, { ok: true });
  });
  router.post('/ui/api/logout', (req, res) => {
    secure(res);
    if (!sameOrigin(req)) return fail(res, forbidden('a logout from another origin is refused'));
    res.setHeader('Set-Cookie', UiAuth.setCookie(''));
    json(res, { ok: true });
  });
  // For `kubelite ui`: the bearer token buys a one-time code the printed URL carries in its fragment.
  router.post('/ui/api/login-codes', (req, res) => {
    secure(res);
    const h = req.headers.authorization;
    if (!h?.startsWith('Bearer ') || !auth.checkToken(h.slice(7))) return fail(res, errors.unauthorized());
    json(res, auth.issueCode());
  });

  router.get('/ui/api/session', guard, (_req, res) => json(res, { ok: true }));

  router.get('/ui/api/stream', guard, (req, res) => {
    const ns = typeof req.query.namespace === 'string' ? req.query.namespace : '';
    if (ns && !LABEL.test(ns)) return fail(res, errors.badRequest(`namespace ${JSON.stringify(ns.slice(0, 80))} is not a valid namespace name`));
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    deps.hub.open(res, ns).catch((err) => {
      deps.logger.warn({ err: String(err) }, 'ui: stream failed');
      res.end();
    });
  });

  router.get('/ui/api/events', guard, async (req, res) => {
    const ns = typeof req.query.namespace === 'string' ? req.query.namespace : '';
    const uid = typeof req.query.uid === 'string' ? req.query.uid : '';
    if (!LABEL.test(ns)) return fail(res, errors.badRequest('namespace is required'));
    try {
      const list = await deps.client.list<KEvent>(R.events, { namespace: ns });
      const items = list.items
        .filter((e) => !uid || e.involvedObject?.uid === uid)
        .map(slimEvent)
        .sort((a, b) => (a.last < b.last ? 1 : -1))
        .slice(0, MAX_EVENTS_RESPONSE);
      json(res, { items });
    } catch (err) {
      fail(res, isStatusError(err) ? err : errors.internal(String(err)));
    }
  });

  router.get('/ui/api/namespaces/:ns/pods/:name/log', guard, async (req, res) => {
    const { ns, name } = req.params as { ns: string; name: string };
    const container = typeof req.query.container === 'string' ? req.query.container : '';
    if (!LABEL.test(ns) || !SUBDOMAIN.test(name) || (container && !LABEL.test(container))) return fail(res, errors.badRequest('invalid namespace, pod or container name'));
    const q = new URLSearchParams({ tailLines: String(TAIL_LINES) });
    if (container) q.set('container', container);
    try {
      const tail = await readLogTail(deps.selfApi(req), `/api/v1/namespaces/${ns}/pods/${name}/log?${q}`);
      json(res, { ...tail, ...(container ? { container } : {}) });
    } catch (err) {
      if (err instanceof ApiFailure) {
        res.status(err.code).type('application/json').setHeader('Cache-Control', 'no-store');
        return void res.send(err.body.startsWith('{') ? err.body : JSON.stringify(errors.internal(err.body.slice(0, 500)).status));
      }
      fail(res, errors.internal(`reading the log: ${(err as Error).message}`));
    }
  });

  router.use('/ui/api', (_req, res) => {
    secure(res);
    fail(res, notFound('the UI has no such API'));
  });
}
