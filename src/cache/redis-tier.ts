// The optional second cache tier: Redis, cache-aside, shared by processes and restarts (USERS.md #4).
// Entries are AES-256-GCM encrypted and keyed by hashes, so neither a value nor a secret's name is
// readable in Redis. A Redis failure is a cache miss — never an error, never a wait.

import { nodeCrypto } from '../crypto/lazy-crypto.js';
import { EnvmuxError } from '../errors.js';
import { importLib } from '../providers/import-lib.js';
import type { CachedSecret } from './secret-cache.js';

export interface RedisTierOptions {
  /** `redis://...`; default `ENVMUX_REDIS_URL`. */
  url?: string;
  /** 32-byte key (base64 or hex) that encrypts entries; default `ENVMUX_REDIS_KEY`. Required. */
  key?: string | Uint8Array;
  /** Prefix of every Redis key; default `envmux:`. */
  prefix?: string;
  /** Longest wait for one Redis command before it counts as a miss, ms; default 250. */
  commandTimeout?: number;
  /** An ioredis client to use instead of connecting (its options are then the caller's). */
  client?: RedisLike;
  /** The `ioredis` module, for bundlers (see importLib). */
  lib?: unknown;
}

/** The few ioredis commands the tier uses. */
export interface RedisLike {
  hget(key: string, field: string): Promise<string | null>;
  hset(key: string, field: string, value: string): Promise<unknown>;
  pexpire(key: string, ms: number): Promise<unknown>;
  del(key: string): Promise<unknown>;
  quit(): Promise<unknown>;
  on?(event: string, listener: (...args: unknown[]) => void): unknown;
  once?(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** What the resolver needs of a second tier. */
export interface SecondTier {
  get(cacheKey: string, name: string): Promise<CachedSecret | undefined>;
  set(cacheKey: string, name: string, value: CachedSecret, ttl: number): Promise<void>;
  invalidate(name: string): Promise<void>;
  close(): Promise<void>;
}

/** Whether a Redis tier is configured by options or environment. */
export function wantsRedisTier(
  options: RedisTierOptions | undefined,
  env: Record<string, string | undefined>,
): boolean {
  return !!(options?.client || options?.url || env.ENVMUX_REDIS_URL);
}

/** Connect the Redis tier (ioredis, loaded only now). */
export async function redisTier(
  options: RedisTierOptions = {},
  env: Record<string, string | undefined> = process.env,
): Promise<SecondTier> {
  const key = decodeKey(options.key ?? env.ENVMUX_REDIS_KEY);
  const prefix = options.prefix ?? 'envmux:';
  const timeout = options.commandTimeout ?? 250;
  let client = options.client;
  if (!client) {
    const mod = await importLib(
      'redis-cache',
      'ioredis',
      options.lib as never,
      () => import('ioredis'),
    );
    const Redis = ((mod as { default?: unknown }).default ?? mod) as new (
      url: string,
      opts: object,
    ) => RedisLike;
    client = new Redis(options.url ?? env.ENVMUX_REDIS_URL ?? '', {
      // Fail fast instead of queueing while Redis is away: a miss costs less than a wait.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: timeout,
      connectTimeout: 1000,
      retryStrategy: (times: number) => Math.min(times * 200, 2000),
    });
    // ioredis emits 'error' while reconnecting; unhandled it would crash the process.
    client.on?.('error', () => {});
    // Without an offline queue, commands sent before the connection is up fail: wait for it
    // (bounded — an unreachable Redis means a tier that misses, not a stalled start).
    const connecting = client;
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      connecting.once?.('ready', done);
      connecting.once?.('end', done);
      setTimeout(done, timeout * 4).unref();
    });
  }
  const redis = client;
  const hashKey = (name: string) => prefix + sha256(name);
  const bounded = <T>(promise: Promise<T>): Promise<T | undefined> =>
    Promise.race([
      promise.catch(() => undefined),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeout).unref()),
    ]);

  return {
    async get(cacheKey, name) {
      const field = sha256(cacheKey);
      const stored = await bounded(redis.hget(hashKey(name), field));
      if (!stored) return undefined;
      try {
        return JSON.parse(decrypt(key, stored, `${hashKey(name)}:${field}`)) as CachedSecret;
      } catch {
        return undefined; // tampered, or written under another key: a miss
      }
    },
    async set(cacheKey, name, value, ttl) {
      const k = hashKey(name);
      const field = sha256(cacheKey);
      await bounded(
        redis
          .hset(k, field, encrypt(key, JSON.stringify(value), `${k}:${field}`))
          .then(() => redis.pexpire(k, Math.max(1, Math.round(ttl)))),
      );
    },
    async invalidate(name) {
      await bounded(redis.del(hashKey(name)));
    },
    async close() {
      if (!options.client) await bounded(redis.quit());
    },
  };
}

function sha256(text: string): string {
  return nodeCrypto().createHash('sha256').update(text).digest('hex');
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
