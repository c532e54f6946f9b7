// The optional second cache tier: Redis, cache-aside, shared by processes and restarts. Entries are
// AES-256-GCM encrypted; keys and fields are HMACs, so neither a value nor a name is readable or
// guessable in Redis. A Redis failure is a miss: every wait is bounded, and nothing reconnects in
// the background or holds the process open. A write publishes the name's HMAC on a channel, and every
// process sharing the tier drops its first-tier entry. See docs/architecture.md, "Resolution".

import type { Socket } from 'node:net';
import { nodeCrypto } from '../crypto/lazy-crypto.js';
import { EnvmuxError, toEnvmuxError } from '../errors.js';
import { importLib } from '../providers/import-lib.js';
import type { HealthResult } from '../providers/provider.js';
import { monotonicMs } from '../resolver/clock.js';
import type { CachedSecret } from './secret-cache.js';

export interface RedisTierOptions {
  /** `redis://...`; default `ENVMUX_REDIS_URL`. */
  url?: string;
  /** 32-byte key (base64 or hex) the tier's keys are derived from; default `ENVMUX_REDIS_KEY`. Required. */
  key?: string | Uint8Array;
  /** Prefix of every Redis key; default `envmux:`. */
  prefix?: string;
  /** Longest wait for one Redis command before it counts as a miss, ms; default 250. */
  commandTimeout?: number;
  /**
   * Longest wait, ms, for another process already reading the same missing entry from its store to
   * write it (so N processes starting together make one provider call, not N); default 500, 0 = none.
   * A read that fails or finds nothing writes no entry: the others then wait this long, once.
   */
  fillWait?: number;
  /** Longest wait for a connection (TCP and Redis's ready check), ms; default 250. */
  connectTimeout?: number;
  /** An ioredis client to use instead of connecting (its options and lifetime are then the caller's). */
  client?: RedisLike;
  /** The `ioredis` module, for bundlers (see importLib). */
  lib?: unknown;
}
/** The few ioredis members the tier uses. */
export interface RedisLike {
  status?: string;
  stream?: unknown;
  hget(key: string, field: string): Promise<string | null>;
  hset(key: string, field: string, value: string): Promise<unknown>;
  set?(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<string | null>;
  exists?(key: string): Promise<number>;
  pexpire(key: string, ms: number): Promise<unknown>;
  del(key: string): Promise<unknown>;
  publish?(channel: string, message: string): Promise<unknown>;
  subscribe?(channel: string): Promise<unknown>;
  duplicate?(): RedisLike;
  ping(): Promise<unknown>;
  quit(): Promise<unknown>;
  connect?(): Promise<void>;
  disconnect?(): void;
  on?(event: string, listener: (...args: unknown[]) => void): unknown;
}

/**
 * What the resolver needs of a second tier. `scope` names what answered (the chain's identities, or
 * one provider's); an entry is only ever read back under the scope it was written with.
 */
export interface SecondTier {
  get(scope: string, cacheKey: string, name: string): Promise<CachedSecret | undefined>;
  set(
    scope: string,
    cacheKey: string,
    name: string,
    value: CachedSecret,
    ttl: number,
  ): Promise<void>;
  /**
   * Forget `name` under every scope (any chain, any version), and tell every other process sharing
   * the tier to drop its first-tier entries for it.
   */
  invalidate(name: string): Promise<void>;
  /**
   * Listen for other processes' invalidations: `name`, or `undefined` when some may have been missed
   * (the subscription was lost and is back) and every first-tier entry should go.
   */
  onInvalidate(listener: (name: string | undefined) => void): void;
  /** Connect if needed (ignoring the reconnect back-off) and PING, bounded. */
  health(): Promise<HealthResult>;
  /** Finish pending writes (bounded), hang up, and never reconnect. */
  close(): Promise<void>;
}

type RedisConstructor = new (url: string, opts: object) => RedisLike;

/** Most names whose HMAC a process remembers to map an invalidation back to its name. */
const MAX_KNOWN_NAMES = 100_000;

/** First pause of a process waiting for another's fill before it looks again, ms (doubling to 250). */
const FILL_POLL = 10;

/** Back-off between connection attempts after a failure: 1 s doubling to 30 s. */
const FIRST_BACKOFF = 1000;
const MAX_BACKOFF = 30_000;

/** Create the Redis tier (ioredis is loaded now; the connection opens on first use). */
export async function redisTier(
  options: RedisTierOptions = {},
  env: Record<string, string | undefined> = process.env,
): Promise<SecondTier> {
  const keys = deriveKeys(decodeKey(options.key ?? env.ENVMUX_REDIS_KEY));
  const prefix = options.prefix ?? 'envmux:';
  const timeout = options.commandTimeout ?? 250;
  const connectTimeout = options.connectTimeout ?? 250;
  const fillWait = options.fillWait ?? 500;
  const url = options.url ?? env.ENVMUX_REDIS_URL ?? '';
  let Redis: RedisConstructor | undefined;
  if (!options.client) {
    const mod = await importLib(
      'redis-cache',
      'ioredis',
      options.lib as never,
      () => import('ioredis'),
    );
    Redis = ((mod as { default?: unknown }).default ?? mod) as RedisConstructor;
  }

  let closed = false;
  let current: RedisLike | undefined = options.client;
  let connecting: Promise<RedisLike | undefined> | undefined;
  let downUntil = 0;
  let backoff = FIRST_BACKOFF;
  let lastProblem = 'not connected';
  const pending = new Set<Promise<unknown>>();
  const listeners: ((name: string | undefined) => void)[] = [];

  const markDown = (client: RedisLike | undefined, problem: string) => {
    lastProblem = problem;
    if (options.client) return; // the caller's client: its lifetime is theirs
    if (client && current === client) current = undefined;
    if (client) hangUp(client);
    downUntil = Date.now() + backoff;
    backoff = Math.min(backoff * 2, MAX_BACKOFF);
  };

  /**
   * A connection with the tier's bounds, not yet connected: it fails fast instead of queueing
   * while Redis is away (a miss costs less than a wait), commands are bounded by the race in
   * `command`, it never reconnects in the background (its timer would hold the process open; the
   * next command after the back-off opens a new connection), and its socket is unref'd once it
   * exists. Both the command connection and the subscriber's are made here.
   */
  const newClient = (): RedisLike => {
    const client = new Redis!(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout,
      disconnectTimeout: connectTimeout,
      retryStrategy: () => null,
    });
    // ioredis emits 'error' on every failure; unhandled it would crash the process.
    client.on?.('error', () => {});
    client.on?.('connect', () => (client.stream as Socket | undefined)?.unref?.());
    return client;
  };

  /** One connection attempt, bounded by connectTimeout; undefined when Redis is not there. */
  const open = (): Promise<RedisLike | undefined> => {
    const client = newClient();
    client.on?.('close', () => {
      if (current === client) markDown(client, 'connection closed');
    });
    return new Promise((resolve) => {
      let settled = false;
      const settle = (ready: boolean, problem = '') => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (ready && !closed) {
          current = client;
          backoff = FIRST_BACKOFF;
          subscriber.start();
          return resolve(client);
        }
        if (ready) hangUp(client);
        else markDown(client, problem);
        resolve(undefined);
      };
      const timer = setTimeout(() => settle(false, 'connect timeout'), connectTimeout);
      client.connect!().then(
        () => settle(true),
        (error: unknown) => settle(false, `unreachable (${errorCode(error)})`),
      );
    });
  };

  /** The ready connection, one being opened, or undefined (closed, or down within its back-off). */
  const connection = (force = false): Promise<RedisLike | undefined> => {
    if (closed) return Promise.resolve(undefined);
    if (options.client) return Promise.resolve(options.client);
    if (current && current.status === 'ready') return Promise.resolve(current);
    if (connecting) return connecting;
    if (!force && Date.now() < downUntil) return Promise.resolve(undefined);
    connecting = open().finally(() => {
      connecting = undefined;
    });
    return connecting;
  };

  /** Run one command bounded by the command timeout; undefined on any failure or timeout. */
  const command = async <T>(run: (redis: RedisLike) => Promise<T>): Promise<T | undefined> => {
    const redis = await connection();
    if (!redis) return undefined;
    subscriber.start();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = Symbol('timeout');
    const result = await Promise.race([
      run(redis).catch(() => undefined),
      new Promise<typeof timedOut>((resolve) => {
        timer = setTimeout(() => resolve(timedOut), timeout);
      }),
    ]).finally(() => clearTimeout(timer));
    if (result === timedOut) {
      // A Redis that stops answering is treated as down, so later reads do not wait again.
      markDown(redis, 'command timeout');
      return undefined;
    }
    return result as T | undefined;
  };

  /** Each name's HMAC, seen by this process: what an invalidation message is mapped back with. */
  const known = new Map<string, string>();
  const macOf = (name: string) => {
    const mac = keys.mac('name', name);
    if (!known.has(mac)) {
      if (known.size >= MAX_KNOWN_NAMES) known.delete(known.keys().next().value!);
      known.set(mac, name);
    }
    return mac;
  };
  const hashKey = (name: string) => prefix + macOf(name);
  const channel = `${prefix}invalidate`;
  /** Tells this process's own messages from others' (its writes invalidated its own tier already). */
  const origin = nodeCrypto().randomBytes(8).toString('hex');
  const subscriber = invalidationSubscriber({
    channel,
    connect: async () => {
      if (options.client) return options.client.duplicate?.();
      return newClient();
    },
    timeout,
    onMessage(message) {
      const [from, mac] = message.split(' ');
      if (from === origin || !mac) return;
      const name = known.get(mac);
      if (name !== undefined) for (const listener of listeners) listener(name);
    },
    onGap() {
      for (const listener of listeners) listener(undefined);
    },
    isClosed: () => closed,
  });

  const fieldOf = (scope: string, cacheKey: string) => keys.mac('field', `${scope}\0${cacheKey}`);
  const track = <T>(promise: Promise<T>): Promise<T> => {
    pending.add(promise);
    void promise.finally(() => pending.delete(promise));
    return promise;
  };

  return {
    async get(scope, cacheKey, name) {
      const k = hashKey(name);
      const field = fieldOf(scope, cacheKey);
      const open = (stored: string) => {
        try {
          return JSON.parse(decrypt(keys.entries, stored, `${k}:${field}`)) as CachedSecret;
        } catch {
          return undefined; // tampered, or written under another key: a miss
        }
      };
      const stored = await command((redis) => redis.hget(k, field));
      if (stored) return open(stored);
      if (stored === undefined || fillWait <= 0) return undefined; // Redis away: a plain miss
      // A miss: take the fill lease, or wait (bounded) for the process holding it to write the entry.
      const lease = `${k}:fill:${field}`;
      const taken = await command((redis) =>
        redis.set ? redis.set(lease, origin, 'PX', fillWait, 'NX') : Promise.resolve('OK'),
      );
      if (taken !== null) {
        // Ours (or Redis away): read the store, unless a fill finished between the two commands.
        const late = taken === undefined ? null : await command((redis) => redis.hget(k, field));
        return late ? open(late) : undefined;
      }
      const deadline = Date.now() + fillWait;
      for (
        let pause = FILL_POLL;
        Date.now() < deadline && !closed;
        pause = Math.min(pause * 2, 250)
      ) {
        await new Promise((r) => setTimeout(r, pause));
        const again = await command((redis) => redis.hget(k, field));
        if (again) return open(again);
        if (again === undefined) return undefined;
        // The lease is gone: the holder wrote the entry just now, or gave up (its read failed or
        // found nothing) and this process reads the store itself.
        if ((await command((redis) => redis.exists?.(lease) ?? Promise.resolve(1))) === 0) {
          const last = await command((redis) => redis.hget(k, field));
          return last ? open(last) : undefined;
        }
      }
      return undefined;
    },
    async set(scope, cacheKey, name, value, ttl) {
      const k = hashKey(name);
      const field = fieldOf(scope, cacheKey);
      const sealed = encrypt(keys.entries, JSON.stringify(value), `${k}:${field}`);
      await track(
        command((redis) =>
          redis
            .hset(k, field, sealed)
            .then(() => redis.pexpire(k, Math.max(1, Math.round(ttl))))
            .then(() => redis.del(`${k}:fill:${field}`)),
        ),
      );
    },
    async invalidate(name) {
      const mac = macOf(name);
      await track(
        command(async (redis) => {
          await redis.del(prefix + mac);
          await redis.publish?.(channel, `${origin} ${mac}`);
        }),
      );
    },
    onInvalidate(listener) {
      listeners.push(listener);
    },
    async health() {
      const started = monotonicMs();
      const redis = await connection(true);
      const pong = redis ? await command((r) => r.ping()) : undefined;
      const latencyMs = monotonicMs() - started;
      if (pong !== undefined) return { ok: true, latencyMs, detail: 'ready' };
      return { ok: false, latencyMs, detail: `UNAVAILABLE: Redis ${lastProblem}` };
    },
    async close() {
      if (closed) return;
      await Promise.allSettled([...pending]);
      closed = true;
      subscriber.stop();
      const client = current;
      current = undefined;
      if (options.client || !client) return;
      // QUIT lets Redis finish what it received; then hang up whatever happened.
      if (client.status === 'ready') {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          client.quit().catch(() => undefined),
          new Promise((resolve) => {
            timer = setTimeout(resolve, timeout);
          }),
        ]).finally(() => clearTimeout(timer));
      }
      hangUp(client);
    },
  };
}

/**
 * The subscribe-mode connection that hears other processes' invalidations: opened when the tier's
 * first connection is, re-opened after a loss on an unref'd timer (1 s doubling to 30 s, never
 * holding the process open); each subscription, the first one included, reports a gap (entries
 * cached before it may have missed a message). Every wait is bounded by `timeout`.
 */
function invalidationSubscriber(options: {
  channel: string;
  connect(): Promise<RedisLike | undefined>;
  timeout: number;
  onMessage(message: string): void;
  onGap(): void;
  isClosed(): boolean;
}): { start(): void; stop(): void } {
  let client: RedisLike | undefined;
  let starting = false;
  let retry: NodeJS.Timeout | undefined;
  let backoff = FIRST_BACKOFF;
  let unsupported = false;

  const scheduleRetry = () => {
    if (options.isClosed() || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      start();
    }, backoff);
    retry.unref();
    backoff = Math.min(backoff * 2, MAX_BACKOFF);
  };

  const drop = (which: RedisLike) => {
    if (client !== which) return;
    client = undefined;
    hangUp(which);
    scheduleRetry();
  };

  const start = () => {
    if (client || starting || unsupported || options.isClosed()) return;
    starting = true;
    void (async () => {
      let candidate: RedisLike | undefined;
      try {
        candidate = await options.connect();
        // A caller's client that cannot open a second connection: no cross-process invalidation.
        if (!candidate?.subscribe) {
          unsupported = true;
          return;
        }
        const c = candidate;
        c.on?.('error', () => {});
        c.on?.('message', (channel: unknown, message: unknown) => {
          if (channel === options.channel && typeof message === 'string') {
            options.onMessage(message);
          }
        });
        c.on?.('close', () => drop(c));
        let timer: NodeJS.Timeout | undefined;
        const ok = await Promise.race([
          (async () => {
            if (c.status !== 'ready' && c.status !== 'connect') await c.connect?.();
            await c.subscribe!(options.channel);
            return true;
          })().catch(() => false),
          new Promise<false>((resolve) => {
            timer = setTimeout(() => resolve(false), options.timeout * 2);
            timer.unref();
          }),
        ]).finally(() => clearTimeout(timer));
        if (!ok || options.isClosed()) throw new Error('not subscribed');
        client = c;
        // A duplicate of a caller's client may have connected before any listener: unref it here too.
        (c.stream as Socket | undefined)?.unref?.();
        backoff = FIRST_BACKOFF;
        // Entries cached before this moment may have missed a message (before the first
        // subscription, or while it was lost): report a gap every time it comes up.
        options.onGap();
      } catch {
        if (candidate) hangUp(candidate);
        scheduleRetry();
      } finally {
        starting = false;
      }
    })();
  };

  return {
    // Waits out a pending back-off: the tier's commands call this on every use.
    start: () => {
      if (!retry) start();
    },
    stop() {
      clearTimeout(retry);
      retry = undefined;
      const c = client;
      client = undefined;
      if (c) hangUp(c);
    },
  };
}

/**
 * Close a connection now, and never reconnect it. ioredis's own `disconnect()` waits for the socket
 * to close behind a 2 s timer that a socket closed already never clears (holding the process open),
 * so it is called only on a live socket, which is then destroyed at once.
 */
function hangUp(client: RedisLike): void {
  const stream = client.stream as Socket | undefined;
  if (stream?.destroyed) return;
  client.disconnect?.();
  stream?.destroy();
}

/** The code of a connection error (`ECONNREFUSED`, ...), never its text (it may hold the URL). */
function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : toEnvmuxError(error).code;
}

/**
 * Two keys from the configured one (HKDF-SHA-256, distinct labels): one encrypts entries, the other
 * keys the HMACs that name them, so a name's Redis key cannot be recomputed without the secret key.
 */
function deriveKeys(master: Buffer): {
  entries: Buffer;
  mac(label: string, text: string): string;
} {
  const crypto = nodeCrypto();
  const derive = (info: string) =>
    Buffer.from(crypto.hkdfSync('sha256', master, Buffer.alloc(0), info, 32));
  const names = derive('envmux redis names');
  return {
    entries: derive('envmux redis entries'),
    mac: (label, text) =>
      crypto.createHmac('sha256', names).update(`${label}\0${text}`).digest('hex'),
  };
}

function decodeKey(key: string | Uint8Array | undefined): Buffer {
  const bytes =
    typeof key === 'string'
      ? /^[0-9a-f]{64}$/i.test(key)
        ? Buffer.from(key, 'hex')
        : Buffer.from(key, 'base64')
      : key
        ? Buffer.from(key)
        : undefined;
  if (bytes?.length !== 32) {
    throw new EnvmuxError('CONFIG', 'the Redis cache tier needs a 32-byte encryption key', {
      hint: 'set ENVMUX_REDIS_KEY to 32 random bytes in base64 or hex (e.g. openssl rand -base64 32)',
    });
  }
  return bytes;
}

function encrypt(key: Buffer, plaintext: string, aad: string): string {
  const iv = nodeCrypto().randomBytes(12);
  const cipher = nodeCrypto().createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

function decrypt(key: Buffer, stored: string, aad: string): string {
  const bytes = Buffer.from(stored, 'base64');
  const decipher = nodeCrypto()
    .createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12))
    .setAAD(Buffer.from(aad));
  decipher.setAuthTag(bytes.subarray(12, 28));
  return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
}
