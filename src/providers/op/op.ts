// `op` provider: 1Password through its CLI (`op read`, many references in one `op inject`), with a
// service-account token or the desktop app's session. Spawns without a shell; never logs a value.

import { toEnvmuxError } from '../../errors.js';
import { type CliRequest, cliFailure, runCli, type StderrRule } from '../cli-process.js';
import type { HealthResult, Provider } from '../provider.js';
import { injectable, injectTemplate, referenceOf } from './references.js';

export interface OpProviderOptions {
  /** Chain id; default `op`. */
  id?: string;
  /**
   * A service-account token, passed to `op` in its environment (`OP_SERVICE_ACCOUNT_TOKEN`), never
   * on its command line; default `OP_SERVICE_ACCOUNT_TOKEN` of `env`. Without one, `op` uses the
   * desktop app's session (or `OP_SESSION_*` of a manual `op signin`).
   */
  token?: string;
  /** The account (`--account`, sign-in address or ID) when several are signed in; default `OP_ACCOUNT`. */
  account?: string;
  /** The executable; default `op` on PATH. */
  command?: string;
  /** Read several references with one `op inject` process; default true. */
  inject?: boolean;
  /** Most references in one `op inject`; default 50. */
  batchSize?: number;
  /** Kill `op` after this many ms → `TIMEOUT`; default 15 s (the desktop app may ask to authorise). */
  timeout?: number;
  /** Most bytes one call may print; default 4 MiB. */
  maxOutputBytes?: number;
  /** Cache TTL for this provider's values, in ms. */
  ttl?: number;
  /** Environment of `op` and for the defaults above; default `process.env`. */
  env?: Record<string, string | undefined>;
}

/**
 * What `op` 2.x prints on stderr (`[ERROR] <date> <message>`), and what it means. Sources: 1Password
 * CLI docs "op read", "op inject", "Secret reference syntax", "Use service accounts", and the messages
 * the CLI prints (`"x" isn't an item in the "v" vault`, `You are not currently signed in`).
 */
const RULES: StderrRule[] = [
  [
    /More than one (item|vault) matches/i,
    'INVALID_REFERENCE',
    'the reference matches several items; use the item ID',
  ],
  [
    /isn't an item|isn't a vault|isn't a field|does not have a field|no item found|could not find/i,
    'NOT_FOUND',
    'no such item',
  ],
  [/not currently signed in|session expired|not signed in/i, 'AUTH_FAILED', 'not signed in'],
  [
    /invalid (service account )?token|token is invalid|authentication failed|unauthorized/i,
    'AUTH_FAILED',
    'the service-account token was refused',
  ],
  [/authori[sz]ation prompt dismissed|app is locked|locked/i, 'LOCKED', '1Password is locked'],
  [/too many requests|rate limit/i, 'THROTTLED', 'rate limited'],
  [
    /forbidden|doesn't have permission|not authorized|access denied/i,
    'ACCESS_DENIED',
    'access to the vault or item was refused',
  ],
];

const INSTALL =
  'install the 1Password CLI: https://developer.1password.com/docs/cli/get-started (brew install 1password-cli)';

/**
 * Secrets from 1Password. A name is a secret reference without its scheme (`vault/item/field`,
 * `vault/item/section/field`) or with it (`op://vault/item/field`); `get` answers `op read`.
 */
export function op(options: OpProviderOptions = {}): Provider {
  const id = options.id ?? 'op';
  const env = options.env ?? process.env;
  const command = options.command ?? 'op';
  const token = options.token ?? (env.OP_SERVICE_ACCOUNT_TOKEN || undefined);
  const account = options.account ?? (env.OP_ACCOUNT || undefined);
  const childEnv = { ...env, OP_SERVICE_ACCOUNT_TOKEN: token };
  const batchSize = options.batchSize ?? 50;

  const run = async (args: string[], signal?: AbortSignal, input?: string) => {
    const request: CliRequest = {
      provider: id,
      command,
      args: account ? ['--account', account, ...args] : args,
      input,
      env: childEnv,
      timeoutMs: options.timeout ?? 15_000,
      maxOutputBytes: options.maxOutputBytes ?? 4 * 1024 * 1024,
      install: INSTALL,
      signal,
    };
    return { request, result: await runCli(request) };
  };

  const read = async (name: string, signal?: AbortSignal): Promise<string | undefined> => {
    const reference = referenceOf(id, name);
    const { request, result } = await run(['read', '--no-newline', '--', reference], signal);
    if (result.code === 0) return result.stdout;
    const error = cliFailure(request, result, RULES);
    if (error.code === 'NOT_FOUND') return undefined;
    throw error;
  };

  const provider: Provider = {
    id,
    type: 'op',
    ttl: options.ttl,
    batchSize: options.inject === false ? undefined : batchSize,
    async get(name, ctx) {
      if (ctx.version && ctx.version !== 'latest' && ctx.version !== 'current') return undefined;
      return read(name, ctx.signal);
    },
    async health({ signal }): Promise<HealthResult> {
      const started = performance.now();
      const { request, result } = await run(['whoami'], signal);
      if (result.code === 0) return { ok: true, latencyMs: performance.now() - started };
      return { ok: false, detail: cliFailure(request, result, RULES).message };
    },
  };
  if (options.inject === false) return provider;

  /**
   * One `op inject` for the names it can take; when it fails (a name missing makes the whole
   * template fail), or for names it cannot take, one `op read` each, so each name gets its answer.
   */
  provider.getMany = async (names, ctx) => {
    const out = new Map<string, string | Error>();
    const single: string[] = [];
    const batch: Array<{ name: string; reference: string }> = [];
    for (const name of names) {
      let reference: string;
      try {
        reference = referenceOf(id, name);
      } catch (error) {
        out.set(name, toEnvmuxError(error));
        continue;
      }
      if (injectable(reference)) batch.push({ name, reference });
      else single.push(name);
    }
    if (batch.length > 1) {
      const template = injectTemplate(batch.map((b) => b.reference));
      const { request, result } = await run(['inject'], ctx.signal, template.text);
      const values = result.code === 0 ? template.parse(result.stdout) : undefined;
      if (values) {
        for (const [i, b] of batch.entries()) out.set(b.name, values[i]!);
      } else {
        const error = result.code === 0 ? undefined : cliFailure(request, result, RULES);
        // Locked, signed out, throttled: every read would fail the same way.
        if (error && error.code !== 'NOT_FOUND' && error.code !== 'INVALID_REFERENCE') throw error;
        single.push(...batch.map((b) => b.name));
      }
    } else single.push(...batch.map((b) => b.name));
    // A few `op read` at a time: one process each, without flooding the desktop app.
    const queue = [...single];
    const worker = async () => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        try {
          const value = await read(name, ctx.signal);
          if (value !== undefined) out.set(name, value);
        } catch (error) {
          const e = toEnvmuxError(error, { provider: id });
          if (e.code !== 'INVALID_REFERENCE') throw e;
          out.set(name, e);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, queue.length) }, worker));
    return out;
  };
  return provider;
}
