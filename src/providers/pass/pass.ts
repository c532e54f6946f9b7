// `pass` provider: the standard Unix password store (password-store.org) through the `pass` CLI,
// spawned without a shell; values reach it on stdin only. Never logs, never puts a value in an error.

import { existsSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EnvmuxError } from '../../errors.js';
import { monotonicMs } from '../../resolver/clock.js';
import { type CliRequest, cliFailure, runCli, type StderrRule } from '../cli-process.js';
import type { HealthResult, Provider, SecretInfo } from '../provider.js';
import { answerOf, entryTextOf } from './entry.js';
import { checkEntryName, entryFile, globMatcher, walkEntries } from './store-path.js';

export interface PassProviderOptions {
  /** Chain id; default `pass`. */
  id?: string;
  /** The store; default `PASSWORD_STORE_DIR`, else `~/.password-store`. */
  dir?: string;
  /** Put before every name (`myapp/` → `$<pass:db>` reads `myapp/db`); default `ENVMUX_PASS_PREFIX`. */
  prefix?: string;
  /** The executable; default `pass` on PATH. */
  command?: string;
  /** Kill `pass` (and its gpg) after this many ms → `TIMEOUT`; default 10 s. */
  timeout?: number;
  /** Most bytes one entry may print; default 1 MiB. */
  maxOutputBytes?: number;
  /** Cache TTL for this provider's values, in ms. */
  ttl?: number;
  /** Environment of `pass` and for the defaults above (GNUPGHOME, PATH, ...); default `process.env`. */
  env?: Record<string, string | undefined>;
}

/** What pass and gpg print, and what it means (pass 1.7 `cmd_show`/`cmd_insert`, gpg 2.2). */
const RULES: StderrRule[] = [
  [/is not in the password store/, 'NOT_FOUND', 'not in the password store'],
  [
    /Inappropriate ioctl|No pinentry|Operation cancelled|problem with the agent|Bad passphrase/i,
    'LOCKED',
    'gpg could not unlock the key (no pinentry or passphrase)',
  ],
  [/No secret key|decryption failed/i, 'ACCESS_DENIED', 'gpg has no key to decrypt this entry'],
  [/You must run:.*pass init|\.gpg-id/, 'CONFIG', 'the store is not initialised (pass init)'],
  [
    /(No public key|unusable public key|encryption failed)/i,
    'CONFIG',
    'gpg cannot encrypt to the store key',
  ],
];

const INSTALL = 'install pass and gnupg (apt-get install pass gnupg, brew install pass)';

/**
 * Secrets from a password store. A name is an entry path (`web/github`); `get` answers the entry's
 * text; a reference reads its first line, `#key` a `key: value` line, `#*` all of it (see
 * ./entry.ts). Writes go through `pass insert -m -f` with the value on stdin.
 */
export function pass(options: PassProviderOptions = {}): Provider {
  const id = options.id ?? 'pass';
  const env = options.env ?? process.env;
  const dir = options.dir ?? (env.PASSWORD_STORE_DIR || join(homedir(), '.password-store'));
  const prefix = options.prefix ?? (env.ENVMUX_PASS_PREFIX || '');
  const command = options.command ?? 'pass';
  const childEnv = { ...env, PASSWORD_STORE_DIR: dir };
  if (prefix) checkEntryName(id, prefix.replace(/\/$/, ''));

  const root = (): string => {
    try {
      return realpathSync(dir);
    } catch {
      throw new EnvmuxError('CONFIG', `the password store "${dir}" does not exist`, {
        provider: id,
        hint: 'create it with pass init KEY-ID, or set PASSWORD_STORE_DIR',
      });
    }
  };

  const run = (args: string[], signal?: AbortSignal, input?: string) => {
    const request: CliRequest = {
      provider: id,
      command,
      args,
      input,
      env: childEnv,
      timeoutMs: options.timeout ?? 10_000,
      maxOutputBytes: options.maxOutputBytes ?? 1024 * 1024,
      install: INSTALL,
      signal,
    };
    return runCli(request).then((result) => ({ request, result }));
  };

  /** The store path of a name, checked. */
  const pathOf = (name: string) => {
    checkEntryName(id, name);
    const full = prefix + name;
    const base = root();
    return { full, file: entryFile(id, base, full) };
  };

  return {
    id,
    type: 'pass',
    ttl: options.ttl,
    isEntry: () => 'lines',
    async get(name, ctx) {
      if (ctx.version && ctx.version !== 'latest' && ctx.version !== 'current') return undefined;
      const { full, file } = pathOf(name);
      if (!existsSync(file)) return undefined;
      const { request, result } = await run(['show', '--', full], ctx.signal);
      if (result.code === 0) return answerOf(result.stdout);
      const error = cliFailure(request, result, RULES);
      if (error.code === 'NOT_FOUND') return undefined;
      throw error;
    },
    async set(name, value, ctx) {
      const { full } = pathOf(name);
      const { request, result } = await run(
        ['insert', '--multiline', '--force', '--', full],
        ctx.signal,
        entryTextOf(value),
      );
      if (result.code !== 0) throw cliFailure(request, result, RULES);
      return undefined;
    },
    async delete(name, ctx) {
      const { full, file } = pathOf(name);
      if (!existsSync(file)) return;
      const { request, result } = await run(['rm', '--force', '--', full], ctx.signal);
      if (result.code === 0) return;
      const error = cliFailure(request, result, RULES);
      if (error.code !== 'NOT_FOUND') throw error;
    },
    async list(pattern) {
      const names = walkEntries(root())
        .filter((n) => n.startsWith(prefix))
        .map((n) => n.slice(prefix.length));
      const match = /[*?]/.test(pattern)
        ? globMatcher(pattern)
        : (n: string) => n.startsWith(pattern);
      return names.filter(match).map((n): SecretInfo => ({ name: n }));
    },
    async health(): Promise<HealthResult> {
      const started = monotonicMs();
      const base = root();
      const ok = existsSync(join(base, '.gpg-id'));
      return {
        ok,
        latencyMs: monotonicMs() - started,
        detail: ok ? `store ${dir}` : `store ${dir} has no .gpg-id (run pass init)`,
      };
    },
  };
}
