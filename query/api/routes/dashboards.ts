// GET /dashboards/…: the built dashboards (policylens dashboards build), served as static files.
//
// Access: the pages show per-business numbers, so they need a key whose role has "dashboards" (analyst,
// admin). Browsers cannot send a bearer header when following a link, so besides `Authorization: Bearer`
// a key is accepted once as `?key=…`: the answer sets a signed, expiring session (sessions.ts, never the key) in
// an HttpOnly, SameSite=Strict cookie scoped to /dashboards, and redirects to the same address without it.
// /dashboards/logout clears the cookie. Pages opened from disk need no key at all. See docs/dashboards.md.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { assertRoleMay, bearer } from '../../../common/api-keys.js';
import type { RouteModule } from '../route-module.js';
import { createSessions } from '../sessions.js';
import { ApiError } from '../../../common/errors.js';

export const DASHBOARDS_PREFIX = '/dashboards';
export const DASHBOARDS_COOKIE = 'policylens_dashboards';
export const DASHBOARDS_LOGOUT = `${DASHBOARDS_PREFIX}/logout`;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Plot writes <style> elements and style attributes into its SVG; everything else comes from 'self'. */
const CSP =
  "default-src 'none'; style-src 'self' 'unsafe-inline'; script-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function cookieValue(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** The file under `root` a request path names, or null when it would leave root or is not a file. */
export function resolveStatic(root: string, rel: string): string | null {
  const path = rel === '' || rel.endsWith('/') ? `${rel}index.html` : rel;
  if (path.includes('\0') || path.includes('\\') || path.split('/').some((s) => s === '..' || s === '.')) return null;
  const full = resolve(root, path);
  if (!full.startsWith(root.endsWith(sep) ? root : root + sep)) return null;
  try {
    return statSync(full).isFile() ? full : null;
  } catch {
    return null;
  }
}

/** `value` null clears the cookie. Secure when the request came over https (X-Forwarded-Proto only from trusted proxies). */
function sessionCookie(req: FastifyRequest, value: string | null, maxAgeS: number): string {
  const secure = req.protocol === 'https' ? '; Secure' : '';
  return `${DASHBOARDS_COOKIE}=${value ?? ''}; Path=${DASHBOARDS_PREFIX}; HttpOnly; SameSite=Strict; Max-Age=${value === null ? 0 : maxAgeS}${secure}`;
}

export const routes: RouteModule = (app, { config, keys }) => {
  const root = resolve(config.dashboards.dir);
  const sessions = createSessions(keys, config.sessions.secret, config.sessions.hours * 3_600_000);
  const signIn = `open ${DASHBOARDS_PREFIX}/?key=<your key> once (a session cookie lasts ${config.sessions.hours} hours), or send the key as a bearer header.`;

  const serve = async (req: FastifyRequest<{ Params: { '*'?: string }; Querystring: Record<string, string> }>, reply: FastifyReply) => {
    reply.header('Referrer-Policy', 'no-referrer').header('X-Content-Type-Options', 'nosniff');
    const queryKey = typeof req.query.key === 'string' ? req.query.key : null;
    const key = queryKey ?? bearer(req.headers.authorization);
    const session = key === null ? cookieValue(req.headers.cookie, DASHBOARDS_COOKIE) : null;
    const role = key !== null ? keys.roleOf(key) : session !== null ? sessions.roleOf(session) : null;
    if (!role) {
      const why = session !== null ? 'Dashboards: the session has expired or ended;' : 'Dashboards:';
      throw new ApiError('UNAUTHORIZED', `${why} ${signIn}`);
    }
    assertRoleMay(role, 'dashboards');

    if (queryKey !== null) {
      // Keep the key out of the address bar, history, logs and the cookie jar from here on.
      const url = new URL(req.url, 'http://local');
      url.searchParams.delete('key');
      return reply
        .header('Set-Cookie', sessionCookie(req, sessions.issue(queryKey), sessions.ttlMs / 1000))
        .header('Cache-Control', 'no-store')
        .redirect(`${url.pathname}${url.search}`, 303);
    }

    if (!existsSync(join(root, 'index.html'))) throw new ApiError('NOT_FOUND', `Dashboards are not built in ${root}: run \`policylens dashboards build\`.`);
    const file = resolveStatic(root, req.params['*'] ?? '');
    if (!file) throw new ApiError('NOT_FOUND', `No dashboards file ${req.url.split('?')[0]}.`);
    return reply
      .type(TYPES[extname(file)] ?? 'application/octet-stream')
      .header('Cache-Control', 'no-cache')
      .header('Content-Security-Policy', CSP)
      .send(createReadStream(file));
  };

  const schema = { hide: true, tags: ['dashboards'] };
  app.get(DASHBOARDS_PREFIX, { schema }, async (req, reply) => {
    const q = req.url.indexOf('?');
    return reply.redirect(`${DASHBOARDS_PREFIX}/${q >= 0 ? req.url.slice(q) : ''}`, 301);
  });
  app.get(`${DASHBOARDS_PREFIX}/*`, { schema }, serve);
  // Ends the session in this browser. The session itself stays valid until it expires, for whoever copied it;
  // revoking the key ends it everywhere.
  app.route({
    method: ['GET', 'POST'],
    url: DASHBOARDS_LOGOUT,
    schema,
    handler: async (req, reply) =>
      reply
        .header('Set-Cookie', sessionCookie(req, null, 0))
        .header('Cache-Control', 'no-store')
        .type('text/plain; charset=utf-8')
        .send(`Signed out of the dashboards in this browser. To sign in again, open ${DASHBOARDS_PREFIX}/?key=<your key>.\n`),
  });
};
