// The HTTP(S) scaffolding the stores' wire servers share: listen on a free 127.0.0.1 port, read
// bodies, answer JSON or a raw page, count down injected failures, hold requests until healed.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** HTTPS settings of a loopback server; `requestCert` asks clients for a certificate signed by `ca`. */
export interface LoopbackTls {
  key: string;
  cert: string;
  ca?: string;
  requestCert?: boolean;
}

/** A server listening on 127.0.0.1. */
export interface Loopback {
  server: Server;
  port: number;
  /** `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`. */
  url: string;
  /** Drop every open connection and stop listening. */
  close(): Promise<void>;
}

/**
 * Serve `handle` on a free 127.0.0.1 port, over HTTPS when `tls` is given. A handler that rejects
 * is answered by `onError` (each protocol's own error body).
 */
export async function serveLoopback(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<unknown>,
  onError: (res: ServerResponse, error: unknown) => void,
  tls?: LoopbackTls,
): Promise<Loopback> {
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch((error) => onError(res, error));
  };
  const server: Server = tls
    ? createHttpsServer(
        {
          key: tls.key,
          cert: tls.cert,
          ...(tls.requestCert ? { requestCert: true, rejectUnauthorized: true, ca: tls.ca } : {}),
        },
        listener,
      )
    : createHttpServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Bodies larger than this are refused (the handler rejects, `onError` answers). */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** A request's whole body (at most {@link MAX_BODY_BYTES}). */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A JSON body parsed; an empty body is `{}`. */
export function parseJsonBody(body: Buffer): any {
  return body.length ? JSON.parse(body.toString('utf8')) : {};
}

/**
 * Answer `payload` as JSON with its length (`headers` add to or replace `content-type`); nothing
 * when the answer has already started or the connection is gone.
 */
export function sendJson(
  res: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Answer a body as it is (an HTML page from a proxy in the way, an XML error), with its length. */
export function sendPage(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * Injected failures that each answer `times` requests (default `defaultTimes`), first added first
 * used; `Infinity` lasts until {@link FailureQueue.clear}. A failure with `after: N` lets the first
 * N matching requests through (e.g. the 100th write of a copy fails).
 */
export class FailureQueue<F extends { times?: number; after?: number }> {
  private queued: F[] = [];

  constructor(private readonly defaultTimes = 1) {}

  /** Queue a copy of `failure`. */
  add(failure: F): void {
    this.queued.push({ ...failure });
  }

  /** The first queued failure `matches` accepts, with one use counted (dropped when used up). */
  take(matches: (failure: F) => boolean = () => true): F | undefined {
    const failure = this.queued.find(matches);
    if (!failure) return undefined;
    if (failure.after) {
      failure.after--;
      return undefined;
    }
    failure.times = (failure.times ?? this.defaultTimes) - 1;
    if (failure.times <= 0) this.queued = this.queued.filter((f) => f !== failure);
    return failure;
  }

  clear(): void {
    this.queued = [];
  }
}

/** Requests held (a network that stopped answering) until {@link Stall.release}. */
export class Stall {
  private waiting: Array<() => void> = [];

  /** Resolves at the next release. */
  wait(): Promise<void> {
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Let every held request go on. */
  release(): void {
    for (const resume of this.waiting.splice(0)) resume();
  }
}
