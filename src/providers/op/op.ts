// `op` provider: 1Password through its CLI (`op read`, many references in one `op inject`, writes as
// item JSON on stdin), with a service-account token or the desktop app's session. Spawns without a
// shell; never logs a value.

import { EnvmuxError, toEnvmuxError } from '../../errors.js';
import { monotonicMs } from '../../resolver/clock.js';
import { type CliRequest, cliFailure, runCli, type StderrRule } from '../cli-process.js';
import type { HealthResult, Provider } from '../provider.js';
import {
  fieldNames,
  hasField,
  newItem,
  type OpItem,
  type OpTarget,
  targetOf,
  withField,
  withoutField,
} from './item.js';
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

  /** The item a target names (`op item get --format json`); `undefined` when the vault has none. */
  const getItem = async (target: OpTarget, signal?: AbortSignal): Promise<OpItem | undefined> => {
    const { request, result } = await run(
      ['item', 'get', target.item, '--vault', target.vault, '--format', 'json'],
      signal,
    );
    if (result.code === 0) return parseJson(result.stdout) as OpItem;
    if (/isn't a vault/i.test(result.stderr)) {
      throw new EnvmuxError('NOT_FOUND', `op: there is no vault "${target.vault}"`, {
        provider: id,
        hint: 'create the vault in 1Password first (envmux writes items, not vaults)',
      });
    }
    const error = cliFailure(request, result, RULES);
    if (error.code === 'NOT_FOUND') return undefined;
    throw error;
  };

  /** `op item create` / `op item edit` with the item JSON on stdin (never a field value in argv). */
  const save = async (args: string[], item: OpItem, signal?: AbortSignal) => {
    const { request, result } = await run(args, signal, JSON.stringify(item));
    if (result.code !== 0) throw cliFailure(request, result, RULES);
  };

  const parseJson = (stdout: string): unknown => {
    try {
      return JSON.parse(stdout);
    } catch {
      throw new EnvmuxError('UNAVAILABLE', 'op printed something that is not JSON', {
        provider: id,
        hint: 'check the installed 1Password CLI version (op --version; 2.23 or later)',
      });
    }
  };

  /** `op ... list --format json` as an array (`[]` when the CLI says there is nothing). */
  const listJson = async (args: string[], signal?: AbortSignal): Promise<OpItem[]> => {
    const { request, result } = await run([...args, '--format', 'json'], signal);
    if (result.code !== 0) {
      const error = cliFailure(request, result, RULES);
      if (error.code === 'NOT_FOUND') return [];
      throw error;
    }
    const parsed = parseJson(result.stdout || '[]');
    return Array.isArray(parsed) ? (parsed as OpItem[]) : [];
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
    /**
     * Set one field: the item's JSON from `op item get`, changed, back through `op item edit` on
     * stdin; a new item (a Password item) through `op item create -` on stdin.
     */
    async set(name, value, ctx) {
      const target = targetOf(id, name);
      const found = await getItem(target, ctx.signal);
      if (!found) {
        const args = ['item', 'create', '--vault', target.vault, '--format', 'json', '-'];
        await save(args, newItem(target, value), ctx.signal);
      } else {
        const args = ['item', 'edit', found.id ?? target.item, '--vault', target.vault];
        await save([...args, '--format', 'json'], withField(found, target, value), ctx.signal);
      }
      return undefined;
    },
    /**
     * Remove one field (`op item edit`); the item itself when no field is left holding a value
     * (`op item delete --archive`, recoverable; `force` deletes it for good).
     */
    async delete(name, ctx) {
      const target = targetOf(id, name);
      let found: OpItem | undefined;
      try {
        found = await getItem(target, ctx.signal);
      } catch (error) {
        if (toEnvmuxError(error).code === 'NOT_FOUND') return;
        throw error;
      }
      if (!found || !hasField(found, target)) return;
      const { item, empty } = withoutField(found, target);
      const ref = found.id ?? target.item;
      if (!empty) {
        await save(
          ['item', 'edit', ref, '--vault', target.vault, '--format', 'json'],
          item,
          ctx.signal,
        );
        return;
      }
      const args = ['item', 'delete', ref, '--vault', target.vault];
      if (!ctx.force) args.push('--archive');
      const { request, result } = await run(args, ctx.signal);
      if (result.code === 0) return;
      const error = cliFailure(request, result, RULES);
      if (error.code !== 'NOT_FOUND') throw error;
    },
    /**
     * Field names under `prefix` (`vault/item/[section/]field`): the vaults (`op vault list`) or the
     * prefix's vault, its items (`op item list`), then one `op item get` per item the prefix can
     * match. Names only, never a value.
     */
    async list(prefix, ctx) {
      const slash = prefix.indexOf('/');
      const vaults =
        slash < 0
          ? (await listJson(['vault', 'list'], ctx.signal))
              .map((v) => (v as { name?: string }).name ?? '')
              .filter((n) => n !== '' && n.startsWith(prefix))
          : [prefix.slice(0, slash)];
      const names: string[] = [];
      for (const vault of vaults) {
        const rest = slash < 0 ? '' : prefix.slice(slash + 1);
        const itemPart = rest.split('/')[0]!;
        const exact = rest.includes('/');
        const items = (await listJson(['item', 'list', '--vault', vault], ctx.signal)).filter(
          (i) =>
            typeof i.title === 'string' &&
            (exact ? i.title === itemPart : i.title.startsWith(itemPart)),
        );
        for (const listed of items) {
          const item = await getItem(
            { vault, item: listed.id ?? listed.title!, field: '' },
            ctx.signal,
          );
          if (item) names.push(...fieldNames(vault, { ...item, title: listed.title }));
        }
      }
      return [...new Set(names)]
        .filter((n) => n.startsWith(prefix))
        .sort()
        .map((n) => ({ name: n }));
    },
    async health({ signal }): Promise<HealthResult> {
      const started = monotonicMs();
      const { request, result } = await run(['whoami'], signal);
      if (result.code === 0) return { ok: true, latencyMs: monotonicMs() - started };
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
