// `bw` provider: Bitwarden (and Vaultwarden) through the Bitwarden CLI, unlocked by `BW_SESSION`.
// Spawns without a shell and without prompts (--nointeraction); never logs a value or the session.

import { EnvmuxError } from '../../errors.js';
import { monotonicMs } from '../../resolver/clock.js';
import { parseBoolean } from '../../resolver/env-flags.js';
import { type CliRequest, cliFailure, runCli, type StderrRule } from '../cli-process.js';
import type { HealthResult, Provider } from '../provider.js';
import { answerOfItem, type BwItem, newNote, withValue } from './item.js';

export interface BwProviderOptions {
  /** Chain id; default `bw`. */
  id?: string;
  /**
   * The session key of `bw unlock --raw`, passed to `bw` in its environment (`BW_SESSION`), never on
   * its command line; default `BW_SESSION` of `env`.
   */
  session?: string;
  /** Run `bw sync` once before the first read (pull changes made elsewhere); default `ENVMUX_BW_SYNC`, else off. */
  sync?: boolean;
  /**
   * The server the CLI must be configured for (self-hosted Bitwarden, Vaultwarden); default `BW_SERVER`.
   * The CLI keeps its server in its own config (`bw config server URL`, run once by the user; there
   * is no environment variable for it), so envmux checks it and fails with `CONFIG` on a mismatch
   * rather than change the user's config.
   */
  server?: string;
  /** A separate CLI data directory (`BITWARDENCLI_APPDATA_DIR`), e.g. one per server; default the CLI's. */
  appDataDir?: string;
  /** The executable; default `bw` on PATH. */
  command?: string;
  /** Kill `bw` after this many ms → `TIMEOUT`; default 20 s (`bw` is a Node program; sync is slow). */
  timeout?: number;
  /** Most bytes one call may print; default 4 MiB. */
  maxOutputBytes?: number;
  /** Cache TTL for this provider's values, in ms. */
  ttl?: number;
  /** Environment of `bw` and for the defaults above; default `process.env`. */
  env?: Record<string, string | undefined>;
}

/**
 * What `bw` prints on stderr with exit code 1 (Bitwarden CLI `Response.error` messages, see
 * https://bitwarden.com/help/cli/ and the CLI's source): `Not found.`, `More than one result was
 * found.`, `Vault is locked.`, `You are not logged in.`.
 */
const RULES: StderrRule[] = [
  [/^Not found\./m, 'NOT_FOUND', 'no such item'],
  [/More than one result was found/, 'INVALID_REFERENCE', 'several items match; use the item id'],
  [/Vault is locked|Session key is invalid/i, 'LOCKED', 'the vault is locked (set BW_SESSION)'],
  [
    /You are not logged in|Invalid master password|Username or password is incorrect/i,
    'AUTH_FAILED',
    'not logged in (bw login)',
  ],
  [/too many requests|rate limit|\b429\b/i, 'THROTTLED', 'rate limited by the server'],
  [/forbidden|\b403\b|access denied/i, 'ACCESS_DENIED', 'the server refused access'],
];

const INSTALL =
  'install the Bitwarden CLI: npm install -g @bitwarden/cli (or brew install bitwarden-cli)';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Secrets from a Bitwarden vault. A name is an item's name or id; `get` answers the item's fields as
 * a map (`#password`, `#username`, `#notes`, `#<custom field>`), or a secure note's text (see ./item.ts).
 */
export function bw(options: BwProviderOptions = {}): Provider {
  const id = options.id ?? 'bw';
  const env = options.env ?? process.env;
  const command = options.command ?? 'bw';
  const session = options.session ?? (env.BW_SESSION || undefined);
  const server = options.server ?? (env.BW_SERVER || undefined);
  const sync = options.sync ?? parseBoolean(env, 'ENVMUX_BW_SYNC', false);
  const childEnv = {
    ...env,
    BW_SESSION: session,
    BITWARDENCLI_APPDATA_DIR: options.appDataDir ?? env.BITWARDENCLI_APPDATA_DIR,
    BW_NOINTERACTION: 'true',
  };

  const run = async (args: string[], signal?: AbortSignal, input?: string) => {
    const request: CliRequest = {
      provider: id,
      command,
      args: [...args, '--nointeraction'],
      input,
      env: childEnv,
      timeoutMs: options.timeout ?? 20_000,
      maxOutputBytes: options.maxOutputBytes ?? 4 * 1024 * 1024,
      install: INSTALL,
      signal,
    };
    return { request, result: await runCli(request) };
  };

  /** Once per provider: the server check and the requested sync; a failure is tried again next time. */
  let ready: Promise<void> | undefined;
  const prepare = (signal?: AbortSignal) => {
    ready ??= (async () => {
      if (server) {
        const { request, result } = await run(['config', 'server'], signal);
        if (result.code !== 0) throw cliFailure(request, result, RULES);
        const configured = result.stdout.trim().replace(/\/+$/, '');
        if (configured !== server.replace(/\/+$/, '')) {
          throw new EnvmuxError('CONFIG', `bw is configured for another server than ${server}`, {
            provider: id,
            hint: `bw logout; bw config server ${server}; bw login (or use a separate BITWARDENCLI_APPDATA_DIR)`,
          });
        }
      }
      if (sync) {
        const { request, result } = await run(['sync'], signal);
        if (result.code !== 0) throw cliFailure(request, result, RULES);
      }
    })();
    ready.catch(() => {
      ready = undefined;
    });
    return ready;
  };

  const parse = (stdout: string): unknown => {
    try {
      return JSON.parse(stdout);
    } catch {
      throw new EnvmuxError('UNAVAILABLE', `bw printed something that is not JSON`, {
        provider: id,
        hint: 'check the installed Bitwarden CLI version (bw --version)',
      });
    }
  };

  /** Several items matched a name: the one whose name is exactly it, if there is one. */
  const exactMatch = async (name: string, signal?: AbortSignal): Promise<BwItem> => {
    const { request, result } = await run(['list', 'items', '--search', name], signal);
    if (result.code !== 0) throw cliFailure(request, result, RULES);
    const items = (parse(result.stdout) as BwItem[]).filter((i) => i?.name === name);
    if (items.length === 1) return items[0]!;
    throw new EnvmuxError(
      'INVALID_REFERENCE',
      `${items.length} Bitwarden items are named "${name}": name one by its id`,
      { provider: id, hint: 'bw list items --search NAME shows the ids' },
    );
  };

  const checkName = (name: string) => {
    if (name.trim() === '' || name.startsWith('-') || /[\u0000-\u001f]/.test(name)) {
      throw new EnvmuxError('INVALID_REFERENCE', `"${name}" is not a Bitwarden item name or id`, {
        provider: id,
        hint: 'the item name as bw list items shows it, or its id',
      });
    }
  };

  /** Items not in the trash whose name starts with `prefix` (bw's search, then exact filtering). */
  const listItems = async (prefix: string, signal?: AbortSignal): Promise<BwItem[]> => {
    const args = prefix ? ['list', 'items', '--search', prefix] : ['list', 'items'];
    const { request, result } = await run(args, signal);
    if (result.code !== 0) throw cliFailure(request, result, RULES);
    const items = parse(result.stdout);
    if (!Array.isArray(items)) throw cliFailure(request, { ...result, code: 1 }, []);
    return (items as BwItem[]).filter(
      (i) => typeof i?.name === 'string' && i.name.startsWith(prefix) && !i.deletedDate,
    );
  };

  /** The one item a write names: by id, else the item of exactly that name; `undefined` if none. */
  const itemToWrite = async (name: string, signal?: AbortSignal): Promise<BwItem | undefined> => {
    checkName(name);
    await prepare(signal);
    const items = GUID.test(name)
      ? (await listItems('', signal)).filter((i) => i.id === name)
      : (await listItems(name, signal)).filter((i) => i.name === name);
    if (items.length > 1) {
      throw new EnvmuxError(
        'INVALID_REFERENCE',
        `${items.length} Bitwarden items are named "${name}": name one by its id`,
        { provider: id, hint: 'bw list items --search NAME shows the ids' },
      );
    }
    return items[0];
  };

  /** `bw create item` / `bw edit item <id>` with the item JSON, base64-encoded, on stdin. */
  const save = async (args: string[], item: BwItem, signal?: AbortSignal) => {
    const encoded = Buffer.from(JSON.stringify(item), 'utf8').toString('base64');
    const { request, result } = await run(args, signal, encoded);
    if (result.code !== 0) throw cliFailure(request, result, RULES);
  };

  return {
    id,
    type: 'bw',
    ttl: options.ttl,
    isEntry: () => true,
    async get(name, ctx) {
      if (ctx.version && ctx.version !== 'latest' && ctx.version !== 'current') return undefined;
      checkName(name);
      await prepare(ctx.signal);
      const { request, result } = await run(['get', 'item', name], ctx.signal);
      let item: BwItem;
      if (result.code === 0) item = parse(result.stdout) as BwItem;
      else {
        const error = cliFailure(request, result, RULES);
        if (error.code === 'NOT_FOUND') return undefined;
        if (error.code !== 'INVALID_REFERENCE' || GUID.test(name)) throw error;
        item = await exactMatch(name, ctx.signal);
      }
      // An id still finds an item in the trash; a deleted item is not there.
      if (item?.deletedDate) return undefined;
      return answerOfItem(item);
    },
    /**
     * A new name becomes a secure note holding the value; an existing secure note gets it as its
     * notes, a login as its password. The item JSON reaches `bw` base64-encoded on stdin, never argv.
     */
    async set(name, value, ctx) {
      const existing = await itemToWrite(name, ctx.signal);
      if (!existing) {
        await save(['create', 'item'], newNote(name, value), ctx.signal);
        return undefined;
      }
      await save(['edit', 'item', existing.id!], withValue(id, existing, value), ctx.signal);
      return undefined;
    },
    /** To the trash (Bitwarden keeps it 30 days); `force` deletes it for good (`--permanent`). */
    async delete(name, ctx) {
      const existing = await itemToWrite(name, ctx.signal);
      if (!existing) return;
      const args = ['delete', 'item', existing.id!];
      if (ctx.force) args.push('--permanent');
      const { request, result } = await run(args, ctx.signal);
      if (result.code === 0) return;
      const error = cliFailure(request, result, RULES);
      if (error.code !== 'NOT_FOUND') throw error;
    },
    /** Item names starting with `prefix` (one `bw list items`), never a value. */
    async list(prefix, ctx) {
      await prepare(ctx.signal);
      const names = new Set((await listItems(prefix, ctx.signal)).map((i) => i.name!));
      return [...names].sort().map((n) => ({ name: n }));
    },
    async health({ signal }): Promise<HealthResult> {
      const started = monotonicMs();
      const { result } = await run(['status'], signal);
      const status =
        result.code === 0 ? (parse(result.stdout) as { status?: string }).status : undefined;
      return {
        ok: status === 'unlocked',
        latencyMs: monotonicMs() - started,
        detail: `bw status: ${status ?? 'unknown'}`,
      };
    },
  };
}
