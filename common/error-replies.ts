// How the app answers what goes wrong: always in the catalog's shape (common/errors.ts). What a client got wrong (a
// 4xx from Fastify: a method no route takes, a URL the router cannot take, a body that is not JSON) is answered with
// its status and logged at debug level only, because anyone can send such requests and an error line for each would
// let anyone flood the log. Only failures on our side (500, 503) are error lines.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from './log.js';
import { ApiError, ERRORS, errorBody, type ErrorCode } from './errors.js';

/** Fastify's client errors that have a code of their own in the catalog. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  // A body that is not JSON is a body that does not match the schema (docs/api.md).
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_BAD_URL: 'BAD_URL',
  FST_ERR_MAX_PARAM_LENGTH: 'URL_TOO_LONG',
};

const isClientStatus = (status: unknown): status is number => typeof status === 'number' && status >= 400 && status < 500;

/** The catalog's code for a client error: its own, else the first of its status, else BAD_REQUEST. */
function clientCode(err: FastifyError): ErrorCode {
  if (err.validation) return 'BAD_REQUEST';
  const own = FASTIFY_CODES[err.code];
  if (own) return own;
  const byStatus = (Object.keys(ERRORS) as ErrorCode[]).find((c) => ERRORS[c].status === err.statusCode);
  return byStatus ?? 'BAD_REQUEST';
}

/** Answers a client error in the catalog's shape; the request may have no route (Fastify's frameworkErrors). */
function replyClientError(err: FastifyError, req: FastifyRequest, reply: FastifyReply, log: Logger): FastifyReply {
  const code = clientCode(err);
  log.debug('client error', { method: req.method, url: req.url, code, error: err.message });
  // Schema and JSON messages say which field; the router's messages only repeat the URL.
  const message = code === 'BAD_REQUEST' ? `${ERRORS.BAD_REQUEST.message} ${err.message}` : ERRORS[code].message;
  return reply.status(ERRORS[code].status).send(errorBody(code, message));
}

/** Fastify's `frameworkErrors` option: a URL the router cannot take (bad percent-escape, a parameter too long). */
export function frameworkErrorReplier(log: Logger, answered?: (req: FastifyRequest, reply: FastifyReply) => void) {
  const answer = (err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (isClientStatus(err.statusCode)) return replyClientError(err, req, reply, log);
    log.error('request failed', { url: req.url, error: err.message });
    return reply.status(500).send(errorBody('INTERNAL'));
  };
  // These replies skip the app's hooks (there is no route), so whoever counts responses is told here.
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const sent = answer(err, req, reply);
    answered?.(req, reply);
    return sent;
  };
}

/**
 * Fastify's `clientErrorHandler` option: a request Node's HTTP parser refused before Fastify saw it (bytes that are
 * not HTTP, headers too large, too slow). Written to the socket by hand, as there is no request to reply to.
 */
export function clientErrorReplier(log: Logger) {
  return (err: NodeJS.ErrnoException, socket: Duplex): void => {
    // A reset connection has no one left to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const code: ErrorCode =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'REQUEST_TIMEOUT' : err.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : 'MALFORMED_REQUEST';
    log.debug('client error', { code, error: err.message });
    const body = JSON.stringify(errorBody(code));
    const { status } = ERRORS[code];
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(err);
  };
}

/** Sets the error and not-found handlers; call before the routes are added, so it sees every route's methods. */
export function installErrorReplies(app: FastifyInstance, log: Logger, unreachable: ErrorCode = 'WAREHOUSE_UNAVAILABLE'): void {
  const methods = new Set<string>();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) methods.add(method);
  });

  // A path some route has, asked with a method none takes, is 405 with the methods it takes; any other path is 404.
  const notFound = (req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const path = req.url.split('?')[0];
    const allow = [...methods].filter((method) => app.findRoute({ method, url: path })).sort();
    if (allow.length === 0) return reply.status(404).send(errorBody('NOT_FOUND', `${ERRORS.NOT_FOUND.message} ${req.method} ${path}`));
    return reply
      .status(405)
      .header('allow', allow.join(', '))
      .send(errorBody('METHOD_NOT_ALLOWED', `${ERRORS.METHOD_NOT_ALLOWED.message} ${req.method} ${path}: ${allow.join(', ')}.`));
  };
  app.setNotFoundHandler(notFound);

  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    if (err instanceof ApiError) return reply.status(err.statusCode).send(errorBody(err.code, err.message));
    const fe = err as FastifyError;
    if (isClientStatus(fe.statusCode) || fe.validation) {
      // Fastify reads the body before it calls the not-found handler; when that fails, the path or method is still
      // what the client got wrong.
      if (req.is404) return notFound(req, reply);
      return replyClientError(fe, req, reply, log);
    }
    const code: ErrorCode = /ECONNREFUSED|socket hang up|ETIMEDOUT/.test(fe.message) ? unreachable : 'INTERNAL';
    log.error('request failed', { url: req.url, error: fe.message });
    return reply.status(ERRORS[code].status).send(errorBody(code));
  });
}
