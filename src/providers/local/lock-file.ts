// The writers' lock of a vault: a small pid file beside it, so that writers in several processes
// take turns (read, change, replace) and none loses another's update. Stale-lock recovery: a
// holder that died (same host, pid gone) or a lock older than `staleMs` is broken, under a second
// "breaker" lock so two waiters never both break it. Never waits without a deadline.

import { linkSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { nodeCrypto } from '../../crypto/lazy-crypto.js';
import { EnvmuxError } from '../../errors.js';

interface LockBody {
  pid: number;
  host: string;
  token: string;
}

export interface LockOptions {
  /**
   * Give up after this many ms with `LOCKED`. Default 4 s: below the resolver's 5 s call timeout,
   * so a write that waited too long fails as itself rather than being abandoned and retried.
   */
  timeout?: number;
  /** Stop waiting (and take nothing) when this aborts. */
  signal?: AbortSignal;
  /** A lock older than this is broken whatever its pid says (pid reuse). Default 60 s. */
  staleMs?: number;
  /** What the error names as locked. */
  what?: string;
}

export interface HeldLock {
  /** Release it (only if still ours). */
  release(): void;
}

/**
 * Create `path` holding our pid atomically: write a private temp file, then hard-link it into
 * place (link fails if the lock exists), so a lock file is never seen empty.
 */
function tryCreate(path: string, body: LockBody): boolean {
  const temp = `${path}.${process.pid}.${body.token}.tmp`;
  writeFileSync(temp, JSON.stringify(body), { mode: 0o600 });
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(temp, { force: true });
  }
}

function readBody(path: string): { body?: LockBody; age: number } | undefined {
  try {
    const age = Date.now() - statSync(path).mtimeMs;
    try {
      return { body: JSON.parse(readFileSync(path, 'utf8')) as LockBody, age };
    } catch {
      return { age };
    }
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isStale(found: { body?: LockBody; age: number }, staleMs: number): boolean {
  if (found.age > staleMs) return true;
  const body = found.body;
  if (!body) return false;
  return body.host === hostname() && !alive(body.pid);
}

/** Break `path` if it is (still) the stale lock `token`, holding the breaker lock meanwhile. */
function breakStale(path: string, token: string | undefined, staleMs: number): void {
  const breaker = `${path}.break`;
  const me: LockBody = {
    pid: process.pid,
    host: hostname(),
    token: nodeCrypto().randomBytes(8).toString('hex'),
  };
  if (!tryCreate(breaker, me)) {
    const other = readBody(breaker);
    if (other && isStale(other, staleMs)) rmSync(breaker, { force: true });
    return;
  }
  try {
    const again = readBody(path);
    if (again && again.body?.token === token && isStale(again, staleMs))
      rmSync(path, { force: true });
  } finally {
    rmSync(breaker, { force: true });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Take the lock at `path`, waiting (with jitter) up to `timeout`; `LOCKED` after that. */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<HeldLock> {
  const timeout = options.timeout ?? 4000;
  const staleMs = options.staleMs ?? 60_000;
  const me: LockBody = {
    pid: process.pid,
    host: hostname(),
    token: nodeCrypto().randomBytes(8).toString('hex'),
  };
  const deadline = Date.now() + timeout;
  let holder: LockBody | undefined;
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    if (tryCreate(path, me)) break;
    const found = readBody(path);
    holder = found?.body;
    if (found && isStale(found, staleMs)) {
      breakStale(path, found.body?.token, staleMs);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new EnvmuxError(
        'LOCKED',
        `${options.what ?? path} is being written by another process${holder ? ` (pid ${holder.pid})` : ''}; waited ${timeout} ms`,
        // Not retryable: the writer already waited its whole budget.
        { hint: `if no envmux process is running, remove ${path}`, retryable: false },
      );
    }
    await sleep(Math.min(50, 2 + attempt * 2) * (0.5 + Math.random()));
  }
  return {
    release() {
      const found = readBody(path);
      if (found?.body?.token === me.token) rmSync(path, { force: true });
    },
  };
}
