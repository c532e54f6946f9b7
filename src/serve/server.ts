// `envmux serve`: secrets over loopback HTTP for processes that are not Node. A bearer token on every
// request, read-only unless writes are enabled with a second (admin) token, bounded bodies, every
// request audited with source `sidecar`, never a value in a log line. Built on node:http.

import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuditLog } from '../audit/audit-log.js';
import { EnvmuxAggregateError, EnvmuxError, type ErrorCode, toEnvmuxError } from '../errors.js';
import type { Resolver } from '../resolver/client.js';
import { monotonicMs } from '../resolver/clock.js';
import { parseDuration } from '../resolver/durations.js';
import { parseEnvSource } from '../resolver/parse.js';
import { Evaluation, resolveAsync } from '../resolver/resolve.js';
import type { ServeMetrics } from './prometheus.js';
import { bearerMatcher } from './token.js';

/** Largest request body read, bytes; a larger one gets 413. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface ServeOptions {
  /** The resolver requests are answered through (its audit source should be `sidecar`). */
  resolver: Resolver;
  /** The audit log requests are recorded in (the resolver's). */
  audit?: AuditLog;
  /** The token every request must carry (`Authorization: Bearer …`). */
  token: string;
  /** Writes (`PUT`, `DELETE`, rotate) are enabled and need this token; absent: read-only. */
  adminToken?: string;
  metrics: ServeMetrics;
  /** Address to bind; default 127.0.0.1. */
  host?: string;
  /** Port; default 0 (a free one). */
  port?: number;
  /** Largest request body, bytes; default 1 MiB. */
  maxBody?: number;
  /** Deadline of one request's resolution (ms or `15s`); default 15 s. */
  deadline?: number | string;
}

export interface RunningServer {
  server: Server;
  /** `http://host:port`. */
  url: string;
  port: number;
  /** Stop accepting, finish requests in flight (up to `graceMs`), then close the resolver. */
  close(graceMs?: number): Promise<void>;
}

/** An HTTP answer: status and JSON (or text) body. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** HTTP status of an error code. */
function statusOf(code: ErrorCode): number {
  switch (code) {
    case 'NOT_FOUND':
      return 404;
    case 'INVALID_REFERENCE':
    case 'CONFIG':
    case 'VALIDATION_FAILED':
      return 400;
    case 'ACCESS_DENIED':
    case 'AUTH_FAILED':
    case 'SESSION_EXPIRED':
    case 'LOCKED':
      return 403;
    case 'THROTTLED':
      return 429;
    case 'TIMEOUT':
      return 504;
    default:
      return 502;
  }
}

/** Start the server; resolves once it listens. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const handler = createHandler(options);
  // noDelay: an answer is one small write, sent at once (no Nagle wait for more bytes).
  const server = createServer({ keepAliveTimeout: 5000, noDelay: true }, (req, res) => {
    void handler(req, res);
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    server,
    url: `http://${host}:${address.port}`,
    port: address.port,
    close(graceMs = 5000) {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        await closed;
        clearTimeout(force);
        await options.resolver.close();
      })();
      return closing;
    },
  };
}

/** A request target split into its path and query (what `new URL` gives, without building one). */
interface Target {
  path: string;
  query: URLSearchParams | undefined;
}

/** A path that needs no normalisation: no dot segment (even encoded), no `//` start, no fragment. */
const PLAIN_PATH = /^\/(?!\/)[A-Za-z0-9_\-~%/+:@=,!$&'()*;.]*$/;
const DOT_SEGMENT = /(^|\/)(\.|%2e){1,2}(\/|$)/i;

/**
 * Split `req.url`: the common target (a plain path and a query) by hand; anything else through the
 * WHATWG URL parser, which resolves dot segments as it always did here.
 */
export function parseTarget(raw: string | undefined): Target {
  const text = raw ?? '/';
  const q = text.indexOf('?');
  const path = q < 0 ? text : text.slice(0, q);
  if (PLAIN_PATH.test(path) && !DOT_SEGMENT.test(path) && !text.includes('#')) {
    return { path, query: q < 0 ? undefined : new URLSearchParams(text.slice(q + 1)) };
  }
  const url = new URL(text, 'http://localhost');
  return { path: url.pathname, query: url.searchParams };
}

/**
 * `AbortSignal.timeout(ms)` shared by the requests that start within the same `windowMs`: one timer
 * per window instead of one per request (a warm read never waits on it). A request's deadline is
 * then between `ms - windowMs` and `ms`.
 */
export function sharedDeadline(ms: number, windowMs = 100): () => AbortSignal {
  let signal: AbortSignal | undefined;
  let until = 0;
  return () => {
    const now = monotonicMs();
    if (!signal || now >= until) {
      signal = AbortSignal.timeout(ms);
      // Every request of the window may listen to it while it reads from a store.
      setMaxListeners(0, signal);
      until = now + windowMs;
    }
    return signal;
  };
}

/** The request handler (exported for tests that drive it without a socket). */
export function createHandler(options: ServeOptions) {
  const { resolver, metrics } = options;
  const maxBody = options.maxBody ?? MAX_BODY_BYTES;
  const deadlineMs = parseDuration(options.deadline ?? undefined, 15_000);
  const deadline = sharedDeadline(deadlineMs);
  const readerToken = bearerMatcher(options.token);
  const adminToken = options.adminToken ? bearerMatcher(options.adminToken) : undefined;
  const record = (entry: Parameters<AuditLog['record']>[0]) =>
    options.audit?.record({ ...entry, source: 'sidecar' });

  const readBody = (req: IncomingMessage): Promise<string> =>
    new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length']);
      if (declared > maxBody) {
        reject(new HttpError(413, 'TOO_LARGE', `the body is over ${maxBody} bytes`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBody) {
          req.removeAllListeners('data');
          req.resume();
          reject(new HttpError(413, 'TOO_LARGE', `the body is over ${maxBody} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const send = (res: ServerResponse, status: number, body: unknown, type = 'application/json') => {
    const text = type === 'application/json' ? JSON.stringify(body) : String(body);
    // A flat header list: no header object for Node to walk per answer.
    res.writeHead(status, [
      'content-type',
      type === 'application/json' ? 'application/json; charset=utf-8' : type,
      'content-length',
      String(Buffer.byteLength(text)),
      'cache-control',
      'no-store',
    ]);
    res.end(text);
  };

  const secretName = (path: string, prefix: string): string => {
    let name = path.slice(prefix.length);
    try {
      if (name.includes('%')) name = decodeURIComponent(name);
    } catch {
      throw new HttpError(400, 'INVALID_REFERENCE', 'the secret name is not valid URL encoding');
    }
    if (!name) throw new HttpError(400, 'INVALID_REFERENCE', 'no secret name in the path');
    return name;
  };

  const requireAdmin = (req: IncomingMessage) => {
    if (!adminToken) {
      throw new HttpError(405, 'READ_ONLY', 'writes are disabled (start with --allow-write)');
    }
    if (!adminToken(req.headers['x-envmux-admin-token'] as string | undefined)) {
      throw new HttpError(
        403,
        'ACCESS_DENIED',
        'writes need the admin token (X-Envmux-Admin-Token: Bearer …)',
      );
    }
  };

  const resolveBody = async (text: string) => {
    const entries = parseEnvSource(text, '<request>');
    // The server's own environment is not the client's: `$<env:…>` finds nothing here.
    const evaluation = new Evaluation(entries, { processEnv: {}, isScheme: resolver.isScheme });
    const signal = deadline();
    const resolution = await resolveAsync(
      evaluation,
      (requests) => resolver.fetch(requests, signal),
      signal,
    );
    return resolution;
  };

  const route = async (req: IncomingMessage, res: ServerResponse, url: Target): Promise<string> => {
    const { path, query } = url;
    const method = req.method ?? 'GET';
    if (path === '/v1/health' && method === 'GET') {
      const rows = await resolver.health();
      const ok = rows.every((r) => r.ok);
      send(res, ok ? 200 : 503, {
        ok,
        providers: rows.map((r) => ({ provider: r.provider, ok: r.ok, latencyMs: r.latencyMs })),
      });
      return 'health';
    }
    if (path === '/v1/metrics' && method === 'GET') {
      send(res, 200, metrics.render(await resolver.breakers()), 'text/plain; version=0.0.4');
      record({ action: 'health', key: 'metrics', outcome: 'ok' });
      return 'metrics';
    }
    if (path === '/v1/resolve' && method === 'POST') {
      const text = await readBody(req);
      const resolution = await resolveBody(text);
      if (resolution.errors.length) {
        send(res, 422, { problems: resolution.errors.map((e) => toEnvmuxError(e).toJSON()) });
      } else {
        send(res, 200, { values: Object.fromEntries(resolution.values) });
      }
      record({ action: 'resolve', outcome: resolution.errors.length ? 'error' : 'ok' });
      return 'resolve';
    }
    if (path.startsWith('/v1/secrets/')) {
      const name = secretName(path, '/v1/secrets/');
      const provider = query?.get('provider') ?? undefined;
      if (method === 'GET') {
        const value = await resolver.get(name, {
          provider,
          version: query?.get('version') ?? undefined,
          field: query?.get('field') ?? undefined,
          signal: deadline(),
        });
        send(res, 200, { name, value });
        return 'get';
      }
      if (method === 'PUT') {
        requireAdmin(req);
        const body = await readBody(req);
        let value: unknown;
        try {
          value = (JSON.parse(body) as { value?: unknown }).value;
        } catch {
          throw new HttpError(400, 'CONFIG', 'the body must be JSON: {"value": "…"}');
        }
        if (typeof value !== 'string') {
          throw new HttpError(400, 'CONFIG', 'the body must be JSON: {"value": "…"}');
        }
        const outcomes = await resolver.set(name, value, { provider });
        send(res, 200, { name, outcomes: outcomes.map(publicOutcome) });
        return 'put';
      }
      if (method === 'DELETE') {
        requireAdmin(req);
        const outcomes = await resolver.delete(name, { provider });
        send(res, 200, { name, outcomes: outcomes.map(publicOutcome) });
        return 'delete';
      }
    }
    if (path.startsWith('/v1/rotate/') && method === 'POST') {
      requireAdmin(req);
      const name = secretName(path, '/v1/rotate/');
      const body = await readBody(req);
      let params: { provider?: string; grace?: string | number } = {};
      if (body.trim()) {
        try {
          params = JSON.parse(body) as typeof params;
        } catch {
          throw new HttpError(400, 'CONFIG', 'the body must be JSON: {"grace": "1h"} or empty');
        }
      }
      const outcomes = await resolver.rotate(name, {
        provider: params.provider ?? query?.get('provider') ?? undefined,
        ...(params.grace !== undefined ? { grace: params.grace } : {}),
      } as Parameters<Resolver['rotate']>[1]);
      send(res, 200, { name, outcomes: outcomes.map(publicOutcome) });
      return 'rotate';
    }
    throw new HttpError(404, 'NO_ROUTE', `no route ${method} ${path}`);
  };

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let routeName = 'unknown';
    try {
      const url = parseTarget(req.url);
      if (!readerToken(req.headers.authorization)) {
        routeName = 'unauthorized';
        // Audited without the token or the path's name: a scanner must not fill the log with its guesses.
        record({ action: 'auth', outcome: 'error', code: 'AUTH_FAILED' });
        req.resume();
        res.setHeader('www-authenticate', 'Bearer realm="envmux"');
        send(res, 401, {
          error: { code: 'AUTH_FAILED', message: 'a valid bearer token is required' },
        });
        return;
      }
      routeName = await route(req, res, url);
    } catch (error) {
      if (error instanceof HttpError) {
        if (error.status === 413) res.setHeader('connection', 'close');
        send(res, error.status, { error: { code: error.code, message: error.message } });
        if (error.status === 403 || error.status === 405) {
          record({ action: 'auth', outcome: 'error', code: 'ACCESS_DENIED' });
        }
      } else if (error instanceof EnvmuxAggregateError) {
        send(res, statusOf(error.code), {
          error: { code: error.code, message: 'some secrets could not be read' },
          problems: error.errors.map((e) => e.toJSON()),
        });
      } else {
        const e = error instanceof EnvmuxError ? error : toEnvmuxError(error);
        send(res, statusOf(e.code), { error: e.toJSON() });
      }
    } finally {
      metrics.request(routeName, res.statusCode);
    }
  };
}

function publicOutcome(o: { provider: string; version?: string; error?: EnvmuxError }) {
  return {
    provider: o.provider,
    ...(o.version ? { version: o.version } : {}),
    ...(o.error ? { error: o.error.toJSON() } : {}),
  };
}
