// `envmux vault …`: manage the local encrypted vault (init, set, get, list, versions, rm, restore,
// rotate-key, cleanup, lock, unlock) through the `local` provider's API. Values come from stdin or a
// no-echo prompt, never from argv; `get` is the only command that prints a value. Every operation
// is recorded in the audit log (and the vault's audit file when ENVMUX_VAULT_AUDIT is set).

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { type AuditAction, processAuditLog } from '../audit/audit-log.js';
import { EnvmuxError, toEnvmuxError } from '../errors.js';
import { backupFile, backupStamp } from '../files/backup.js';
import { type DamagedRecord, parseVault, shownPath } from '../providers/local/format.js';
import { ensureGitignore, initVault } from '../providers/local/init.js';
import { checkArgon2Request, DEFAULT_ARGON2 } from '../providers/local/kdf.js';
import { parseRawKey } from '../providers/local/key-source.js';
import { configuredKeyFile, type LocalProvider, local } from '../providers/local/local.js';
import { keyFileBeside, vaultPathFrom } from '../providers/local/paths.js';
import { DEFAULT_SESSION_IDLE_MS, removeSession } from '../providers/local/session.js';
import { parseDuration } from '../resolver/durations.js';
import { reportError } from './report-error.js';
import { promptYesNo, readSecret } from './secret-input.js';

interface VaultFlags {
  vault?: string;
  keyFile?: string;
  url?: string;
}

/** The vault's flags, merged from the `vault` command and the subcommand. */
function flagsOf(command: Command): VaultFlags {
  return command.optsWithGlobals() as VaultFlags;
}

function providerFor(flags: VaultFlags): LocalProvider {
  return local({
    path: flags.vault,
    ...(flags.url ? { url: flags.url } : {}),
    ...(flags.keyFile ? { keyFile: flags.keyFile } : {}),
    audit: { source: 'cli' },
  });
}

/** Record a CLI operation in the audit log (names only). */
function audit(
  provider: LocalProvider,
  action: AuditAction,
  key: string | undefined,
  error?: EnvmuxError,
): void {
  processAuditLog().record({
    action,
    key,
    provider: provider.id,
    outcome: error ? (error.code === 'NOT_FOUND' ? 'miss' : 'error') : 'ok',
    ...(error ? { code: error.code } : {}),
    source: 'cli',
  });
}

/** Open the provider's key, prompting for a passphrase on a terminal when the vault is locked. */
async function opened(flags: VaultFlags): Promise<LocalProvider> {
  const provider = providerFor(flags);
  try {
    await provider.unlock();
  } catch (error) {
    const e = toEnvmuxError(error);
    if (e.code !== 'LOCKED' || !process.stdin.isTTY) throw e;
    const passphrase = await readSecret({ prompt: `Passphrase for ${shownPath(provider.path)}: ` });
    await provider.unlock({ passphrase });
  }
  return provider;
}

/** Wrap an action: errors are reported, never thrown as stack traces. */
function action<A extends unknown[]>(
  fn: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (error) {
      reportError(error);
    }
  };
}

const say = (line: string) => process.stderr.write(`${line}\n`);

/**
 * Destructive commands ask first (docs/architecture.md, "Writes"): `--yes` goes ahead; on a
 * terminal the summary of what will be lost is shown and confirmed; otherwise they refuse.
 */
async function confirmLoss(what: string, lost: string[], yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new EnvmuxError(
      'CONFIG',
      `${what} destroys data and needs confirmation: ${lost.join('; ')}`,
      {
        hint: 'run it on a terminal to be asked, or pass --yes (scripts)',
      },
    );
  }
  say(`${what} destroys data:`);
  for (const line of lost) say(`  - ${line}`);
  if (!(await promptYesNo('Continue?'))) {
    throw new EnvmuxError('CONFIG', 'cancelled: nothing was changed', { retryable: false });
  }
}

/** Back up the files a destructive command is about to change, and say where the copies are. */
function keepCopies(vaultPath: string, files: Array<[string, string | undefined]>): void {
  // A key's copy is as secret as the key: keep every `*.bak-*` out of git first.
  if (existsSync(dirname(vaultPath))) ensureGitignore(vaultPath, undefined);
  const stamp = backupStamp();
  for (const [what, file] of files) {
    const copy = file ? backupFile(file, stamp) : undefined;
    if (copy) say(`kept the old ${what} in ${shownPath(copy)} (0600)`);
  }
}

/** Below this many characters a new passphrase gets a warning (docs/architecture.md, "Limits"). */
export const MIN_PASSPHRASE_LENGTH = 12;

/** Warn (never refuse) when a new passphrase is short. Never prints the passphrase. */
function warnWeakPassphrase(passphrase: string): void {
  const length = [...passphrase].length;
  if (length < MIN_PASSPHRASE_LENGTH) {
    say(
      `warning: the passphrase has ${length} character(s); use at least ${MIN_PASSPHRASE_LENGTH} (a few random words): a copy of the vault can be attacked offline`,
    );
  }
}

/**
 * `vault list` of a vault with damaged records: list the readable ones (names and dates from the
 * file, not verified by the key) and name each damaged line, then fail. False when `error` is not
 * about damaged records.
 */
function listReadable(
  error: unknown,
  flags: VaultFlags,
  pattern: string | undefined,
  glob: RegExp | undefined,
): boolean {
  if (toEnvmuxError(error).code !== 'DECRYPTION_FAILED') return false;
  const path = vaultPathFrom(process.env, process.cwd(), flags.vault);
  const damagedRecords: DamagedRecord[] = [];
  let records: ReturnType<typeof parseVault>['records'];
  try {
    records = parseVault(readFileSync(path, 'utf8'), path, undefined, damagedRecords).records;
  } catch {
    return false;
  }
  if (!damagedRecords.length) return false;
  const latest = new Map<string, (typeof records)[number]>();
  for (const r of records) {
    if (glob ? glob.test(r.name) : r.name.startsWith(pattern ?? '')) latest.set(r.name, r);
  }
  const rows = [
    ['NAME', 'VERSION', 'CREATED', 'DESCRIPTION'],
    ...[...latest.values()].map((r) => [
      r.name,
      String(r.version),
      when(new Date(r.created)),
      r.description ?? '',
    ]),
  ];
  process.stdout.write(`${table(rows)}\n`);
  for (const d of damagedRecords) {
    say(
      `envmux: DECRYPTION_FAILED: vault ${shownPath(path)} ${d.line ? `line ${d.line}` : `record ${d.record}`} is damaged (${d.problem}); it was skipped`,
    );
  }
  say(
    `  hint: listed the ${latest.size} readable secret(s) without opening the vault; restore the damaged line${damagedRecords.length === 1 ? '' : 's'} from git, or delete ${damagedRecords.length === 1 ? 'it' : 'them'} and set the secret again`,
  );
  process.exitCode = 1;
  return true;
}

/** How many secrets and versions a vault file holds (read without its key), when it parses. */
function vaultContents(path: string): string {
  try {
    const { records } = parseVault(readFileSync(path, 'utf8'), path);
    const names = new Set(records.map((r) => r.name)).size;
    return `${names} secret(s), ${records.length} version(s)`;
  } catch {
    return 'its content';
  }
}

/** `name?version=N` → name and version. */
function splitVersion(spec: string, explicit?: string): { name: string; version?: string } {
  const m = /^(.*)\?version=([^&]+)$/.exec(spec);
  if (m) return { name: m[1]!, version: explicit ?? m[2] };
  return { name: spec, version: explicit };
}

/** A glob (`*` within a path segment, `**` across, `?` one character) as a regular expression. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*' && glob[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else source += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** A value shown masked: `***` and, for values of 12 characters or more, the last three. */
export function maskValue(value: string): string {
  const chars = [...value];
  return chars.length >= 12 ? `***${chars.slice(-3).join('')}` : '***';
}

function when(date: Date | undefined): string {
  return date ? `${date.toISOString().slice(0, 16).replace('T', ' ')}Z` : '-';
}

/** Left-aligned columns, two spaces apart. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? '')].length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** An option parser: the EnvmuxError it throws is reported as `envmux: CONFIG: …` (src/cli/main.ts). */
function positiveInt(what: string, hint?: string) {
  return (value: string): number => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < 1)
      throw new EnvmuxError('CONFIG', `${what} must be a positive integer, not "${value}"`, {
        hint: hint ?? `for example ${what} 1`,
      });
    return n;
  };
}

/** `--vault` and `--key-file` after the subcommand too (`envmux vault list --vault x.json`). */
function addVaultOptions(command: Command): void {
  command
    .option(
      '--vault <path>',
      'the vault file (default: ENVMUX_VAULT_PATH, else .envmux/vault.json)',
    )
    .option(
      '--key-file <path>',
      'the key file (default: ENVMUX_VAULT_KEY_FILE, else beside the vault with .key for its extension: vault.json → vault.key)',
    )
    .option(URL_FLAG, URL_HELP);
}

const URL_FLAG = '--url <postgres-url>';
const URL_HELP = 'a vault in PostgreSQL instead of a file (default: ENVMUX_VAULT_URL)';

/** The database URL a command uses: `--url`, else ENVMUX_VAULT_URL unless `--vault` names a file. */
function urlOf(flags: VaultFlags): string | undefined {
  return flags.url ?? (flags.vault ? undefined : process.env.ENVMUX_VAULT_URL || undefined);
}

export function register(program: Command): void {
  const vault = program
    .command('vault')
    .description(
      'manage the local encrypted vault (.envmux/vault.json: safe to commit; its key is not)',
    )
    .option(
      '--vault <path>',
      'the vault file (default: ENVMUX_VAULT_PATH, else .envmux/vault.json)',
    )
    .option(
      '--key-file <path>',
      'the key file (default: ENVMUX_VAULT_KEY_FILE, else beside the vault with .key for its extension: vault.json → vault.key)',
    )
    .option(URL_FLAG, URL_HELP)
    .addHelpText(
      'after',
      `
Keys, in order: ENVMUX_VAULT_KEY (base64 or hex, 32 bytes) › the key file › an unlock session
(envmux vault unlock) › ENVMUX_VAULT_PASSPHRASE › a prompt on a terminal.
Values are read from stdin when it is piped, else from a prompt that does not echo; never from
the command line, so they stay out of shell history.

Examples:
  envmux vault init
  printf %s "$PASSWORD" | envmux vault set db/password --description "primary DB"
  envmux vault set api/token --expires-in 90d          # prompts for the value
  envmux vault get db/password?version=previous
  envmux vault list 'db/*' --masked`,
    );

  vault
    .command('init')
    .description(
      'create a vault; with a generated key file (0600, git-ignored) unless --passphrase',
    )
    .option('--passphrase', 'protect it with a passphrase (Argon2id) instead of a key file')
    .option(
      '--kdf-memory <MiB>',
      'Argon2id memory in MiB',
      positiveInt('--kdf-memory'),
      DEFAULT_ARGON2.memory / 1024,
    )
    .option(
      '--kdf-iterations <n>',
      'Argon2id passes',
      positiveInt('--kdf-iterations'),
      DEFAULT_ARGON2.iterations,
    )
    .option(
      '--kdf-parallelism <n>',
      'Argon2id lanes',
      positiveInt('--kdf-parallelism'),
      DEFAULT_ARGON2.parallelism,
    )
    .option('--force', 'replace an existing vault (its secrets are lost; the old files are kept)')
    .option('-y, --yes', 'do not ask before replacing (for scripts)')
    .action(
      action(
        async (
          options: {
            passphrase?: boolean;
            kdfMemory: number;
            kdfIterations: number;
            kdfParallelism: number;
            force?: boolean;
            yes?: boolean;
          },
          command: Command,
        ) => {
          const flags = flagsOf(command);
          const url = urlOf(flags);
          if (url) {
            // A database vault: the schema is migrated, the header row written; the key comes from
            // ENVMUX_VAULT_KEY, --passphrase, or is generated into --key-file.
            if (options.force) {
              await confirmLoss(
                'vault init --force',
                [`the vault in ${providerFor(flags).path}, if any, is replaced by an empty one`],
                options.yes,
              );
            }
            const passphrase = options.passphrase
              ? process.env.ENVMUX_VAULT_PASSPHRASE ||
                (await readSecret({ prompt: 'New vault passphrase: ', confirm: true }))
              : undefined;
            const key =
              !options.passphrase && process.env.ENVMUX_VAULT_KEY && !flags.keyFile
                ? parseRawKey(process.env.ENVMUX_VAULT_KEY, 'ENVMUX_VAULT_KEY')
                : undefined;
            const result = await initVault({
              path: '',
              url,
              ...(key ? { key } : {}),
              ...(passphrase !== undefined ? { passphrase } : {}),
              kdf: {
                memory: options.kdfMemory * 1024,
                iterations: options.kdfIterations,
                parallelism: options.kdfParallelism,
              },
              ...(flags.keyFile ? { keyFile: flags.keyFile } : {}),
              force: options.force,
            });
            result.key.fill(0);
            audit(providerFor(flags), 'set', undefined);
            say(`created the vault in ${result.path} (only ciphertext is stored there)`);
            if (result.keyFile) say(`created ${shownPath(result.keyFile)} (0600): the key`);
            return;
          }
          const path = vaultPathFrom(process.env, process.cwd(), flags.vault);
          checkArgon2Request(
            {
              memory: options.kdfMemory * 1024,
              iterations: options.kdfIterations,
              parallelism: options.kdfParallelism,
            },
            `vault ${shownPath(path)}`,
          );
          const oldKeyFile = flags.keyFile
            ? configuredKeyFile({ path: flags.vault, keyFile: flags.keyFile })
            : keyFileBeside(path);
          const replacing = options.force && (existsSync(path) || existsSync(oldKeyFile));
          if (replacing) {
            await confirmLoss(
              'vault init --force',
              [
                ...(existsSync(path)
                  ? [
                      `the vault ${shownPath(path)} (${vaultContents(path)}) is replaced by an empty one`,
                    ]
                  : []),
                ...(existsSync(oldKeyFile)
                  ? [
                      `the key file ${shownPath(oldKeyFile)} is overwritten: copies of the vault in git history open only with the old key`,
                    ]
                  : []),
              ],
              options.yes,
            );
          }
          let passphrase: string | undefined;
          let key: Buffer | undefined;
          if (options.passphrase) {
            passphrase =
              process.env.ENVMUX_VAULT_PASSPHRASE ||
              (await readSecret({ prompt: 'New vault passphrase: ', confirm: true }));
            warnWeakPassphrase(passphrase);
          } else if (process.env.ENVMUX_VAULT_KEY && !flags.keyFile) {
            key = parseRawKey(process.env.ENVMUX_VAULT_KEY, 'ENVMUX_VAULT_KEY');
          }
          if (replacing) {
            keepCopies(path, [
              ['vault', path],
              ['key', oldKeyFile],
            ]);
          }
          const result = await initVault({
            path,
            ...(key ? { key } : {}),
            ...(passphrase !== undefined ? { passphrase } : {}),
            kdf: {
              memory: options.kdfMemory * 1024,
              iterations: options.kdfIterations,
              parallelism: options.kdfParallelism,
            },
            ...(flags.keyFile ? { keyFile: flags.keyFile } : {}),
            force: options.force,
          });
          result.key.fill(0);
          const provider = providerFor(flags);
          audit(provider, 'set', undefined);
          say(`created ${shownPath(result.path)} (encrypted; safe to commit)`);
          if (result.keyFile) {
            say(
              `created ${shownPath(result.keyFile)} (0600): the key — keep it out of git, share it like a password`,
            );
          } else if (key) {
            say('the vault opens with ENVMUX_VAULT_KEY (no key file written)');
          } else {
            say(
              `passphrase vault (Argon2id ${options.kdfMemory} MiB, t=${options.kdfIterations}, p=${options.kdfParallelism}); unlock with ENVMUX_VAULT_PASSPHRASE or \`envmux vault unlock\``,
            );
            if (options.kdfMemory < 64 || options.kdfIterations < 3) {
              say(
                'warning: these Argon2id parameters are below RFC 9106’s recommendation (64 MiB, t=3)',
              );
            }
          }
          if (result.gitignore)
            say(`wrote ${shownPath(result.gitignore)} (keeps the key out of git)`);
          if (result.gitattributes)
            say(
              `wrote ${shownPath(result.gitattributes)} (git merges the vault line by line: commit it)`,
            );
          say('next: envmux vault set NAME   (the value is read from stdin or a prompt)');
        },
      ),
    );

  vault
    .command('set <name>')
    .description('store a new version of a secret (value from stdin or a no-echo prompt)')
    .option(
      '-d, --description <text>',
      'what the secret is (kept from the previous version when omitted)',
    )
    .option('--expires-in <duration>', 'stop serving it after this long: 24h, 7d, 90d')
    .option('--meta <key=value>', 'metadata (repeatable; replaces the previous version’s)', collect)
    .option('--keep-newline', 'keep a trailing newline of a piped value')
    .action(
      action(
        async (
          name: string,
          options: {
            description?: string;
            expiresIn?: string;
            meta?: string[];
            keepNewline?: boolean;
          },
          command: Command,
        ) => {
          const provider = providerFor(flagsOf(command));
          let expiresAt: Date | undefined;
          if (options.expiresIn) {
            const ms = parseDuration(options.expiresIn, 0);
            if (ms <= 0)
              throw new EnvmuxError('CONFIG', '--expires-in must be a positive duration');
            expiresAt = new Date(Date.now() + ms);
          }
          let metadata: Record<string, string> | undefined;
          if (options.meta) {
            metadata = {};
            for (const pair of options.meta) {
              const eq = pair.indexOf('=');
              if (eq < 1) throw new EnvmuxError('CONFIG', `--meta "${pair}" is not key=value`);
              metadata[pair.slice(0, eq)] = pair.slice(eq + 1);
            }
          }
          const ready = await opened(flagsOf(command));
          const value = await readSecret({
            prompt: `Value for ${name}: `,
            keepNewline: options.keepNewline,
          });
          try {
            const { version } = await ready.set(name, value, {
              ...(options.description !== undefined ? { description: options.description } : {}),
              ...(expiresAt ? { expiresAt } : {}),
              ...(metadata ? { metadata } : {}),
            });
            audit(provider, 'set', name);
            say(`${name}: version ${version}${expiresAt ? `, expires ${when(expiresAt)}` : ''}`);
          } catch (error) {
            audit(provider, 'set', name, toEnvmuxError(error));
            throw error;
          }
        },
      ),
    );

  vault
    .command('get <name>')
    .description(
      'print a secret’s value (the only command that prints one); NAME?version=N works too',
    )
    .option('--version <version>', 'a version number, latest or previous')
    .option('-n, --no-newline', 'no newline after the value')
    .action(
      action(
        async (spec: string, options: { version?: string; newline: boolean }, command: Command) => {
          const { name, version } = splitVersion(spec, options.version);
          const provider = await opened(flagsOf(command));
          try {
            const value = await provider.get(name, version ? { version } : {});
            if (value === undefined) {
              throw new EnvmuxError(
                'NOT_FOUND',
                `"${name}"${version ? ` version ${version}` : ''} is not in the vault`,
                {
                  key: name,
                  hint: 'envmux vault list shows what is there',
                },
              );
            }
            audit(provider, 'get', name);
            process.stdout.write(options.newline ? `${value}\n` : value);
          } catch (error) {
            audit(provider, 'get', name, toEnvmuxError(error));
            throw error;
          }
        },
      ),
    );

  vault
    .command('list [pattern]')
    .alias('ls')
    .description(
      'list secrets (a prefix, or a glob: * within a segment, ** across) — names and metadata only',
    )
    .option(
      '--masked',
      'add a masked value column (***, plus the last 3 characters of long values)',
    )
    .option('--json', 'print JSON')
    .action(
      action(
        async (
          pattern: string | undefined,
          options: { masked?: boolean; json?: boolean },
          command: Command,
        ) => {
          const glob = pattern && /[*?]/.test(pattern) ? globToRegExp(pattern) : undefined;
          let provider: LocalProvider;
          let items: Awaited<ReturnType<LocalProvider['list']>>;
          try {
            provider = await opened(flagsOf(command));
            items = (await provider.list(glob ? '' : (pattern ?? ''))).filter(
              (i) => !glob || glob.test(i.name),
            );
          } catch (error) {
            if (!listReadable(error, flagsOf(command), pattern, glob)) throw error;
            return;
          }
          audit(provider, 'list', pattern ?? '');
          const now = Date.now();
          const masked = new Map<string, string>();
          if (options.masked) {
            for (const item of items) {
              try {
                masked.set(item.name, maskValue((await provider.get(item.name)) ?? ''));
              } catch (error) {
                masked.set(item.name, `(${toEnvmuxError(error).code})`);
              }
            }
          }
          if (options.json) {
            const out = items.map((i) => ({
              name: i.name,
              version: i.version === undefined ? null : String(i.version),
              description: i.description ?? null,
              created: i.created?.toISOString() ?? null,
              updated: i.updated?.toISOString() ?? null,
              expires: i.expires?.toISOString() ?? null,
              expired: !!i.expires && +i.expires <= now,
              metadata: i.metadata ?? {},
              ...(options.masked ? { masked: masked.get(i.name) } : {}),
            }));
            process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
            return;
          }
          if (!items.length) {
            say(
              pattern
                ? `no secrets match ${pattern}`
                : 'the vault is empty (envmux vault set NAME)',
            );
            return;
          }
          const rows = [
            [
              'NAME',
              'VERSION',
              'CREATED',
              'UPDATED',
              'EXPIRES',
              ...(options.masked ? ['VALUE'] : []),
              'DESCRIPTION',
            ],
            ...items.map((i) => [
              i.name,
              i.version ?? '',
              when(i.created),
              when(i.updated),
              i.expires ? `${when(i.expires)}${+i.expires <= now ? ' (expired)' : ''}` : '-',
              ...(options.masked ? [masked.get(i.name) ?? ''] : []),
              i.description ?? '',
            ]),
          ];
          process.stdout.write(`${table(rows)}\n`);
        },
      ),
    );

  vault
    .command('versions <name>')
    .description('list the versions of a secret')
    .option('--json', 'print JSON')
    .action(
      action(async (name: string, options: { json?: boolean }, command: Command) => {
        const provider = await opened(flagsOf(command));
        const versions = await provider.versions(name);
        audit(provider, 'versions', name);
        if (!versions.length) {
          throw new EnvmuxError('NOT_FOUND', `"${name}" is not in the vault`, { key: name });
        }
        if (options.json) {
          // One type per field in every store: version a string, dates ISO strings or null.
          const out = versions.map((v) => ({
            version: String(v.version),
            created: v.created?.toISOString() ?? null,
            expires: v.expires?.toISOString() ?? null,
            expired: !!v.expired,
            stages: v.stages ?? [],
            description: v.description ?? null,
          }));
          process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
          return;
        }
        const rows = [
          ['VERSION', 'CREATED', 'EXPIRES', 'STAGES', 'DESCRIPTION'],
          ...versions.map((v) => [
            v.version,
            when(v.created),
            v.expires ? `${when(v.expires)}${v.expired ? ' (expired)' : ''}` : '-',
            v.stages?.join(',') || '-',
            v.description ?? '',
          ]),
        ];
        process.stdout.write(`${table(rows)}\n`);
      }),
    );

  vault
    .command('rm <name>')
    .alias('delete')
    .description('delete a secret (every version), or one version with --version')
    .option('--version <version>', 'delete only this version')
    .option('-y, --yes', 'do not ask before deleting every version (for scripts)')
    .action(
      action(
        async (name: string, options: { version?: string; yes?: boolean }, command: Command) => {
          const provider = await opened(flagsOf(command));
          try {
            if (options.version) {
              await provider.deleteVersion(name, options.version);
              say(`${name}: version ${options.version} deleted`);
            } else {
              const versions = await provider.versions(name);
              if (!versions.length) {
                throw new EnvmuxError('NOT_FOUND', `"${name}" is not in the vault`, { key: name });
              }
              await confirmLoss(
                `vault rm ${name}`,
                [`deletes ${name} and its ${versions.length} version(s)`],
                options.yes,
              );
              keepCopies(provider.path, [['vault', provider.path]]);
              await provider.delete(name);
              say(`${name}: deleted (every version)`);
            }
            audit(provider, 'delete', name);
          } catch (error) {
            audit(provider, 'delete', name, toEnvmuxError(error));
            throw error;
          }
        },
      ),
    );

  vault
    .command('restore <name> <version>')
    .description('make an older version the latest again (stored as a new version)')
    .action(
      action(async (name: string, version: string, _options: unknown, command: Command) => {
        const provider = await opened(flagsOf(command));
        const result = await provider.restore(name, version);
        say(`${name}: version ${version} restored as version ${result.version}`);
      }),
    );

  vault
    .command('rotate-key')
    .description('re-encrypt everything under a new key, in one atomic replacement of the vault')
    .option('--passphrase', 'switch to (or change) a passphrase, read from stdin or a prompt')
    .option(
      '--new-key-file <path>',
      'where to write the new raw key (default: replace the current key file)',
    )
    .option(
      '--kdf-memory <MiB>',
      'Argon2id memory in MiB',
      positiveInt('--kdf-memory'),
      DEFAULT_ARGON2.memory / 1024,
    )
    .option(
      '--kdf-iterations <n>',
      'Argon2id passes',
      positiveInt('--kdf-iterations'),
      DEFAULT_ARGON2.iterations,
    )
    .option(
      '--kdf-parallelism <n>',
      'Argon2id lanes',
      positiveInt('--kdf-parallelism'),
      DEFAULT_ARGON2.parallelism,
    )
    .option('-y, --yes', 'do not ask before re-encrypting (for scripts)')
    .action(
      action(
        async (
          options: {
            passphrase?: boolean;
            yes?: boolean;
            newKeyFile?: string;
            kdfMemory: number;
            kdfIterations: number;
            kdfParallelism: number;
          },
          command: Command,
        ) => {
          const flags = flagsOf(command);
          const provider = await opened(flags);
          const currentKeyFile = configuredKeyFile({ path: flags.vault, keyFile: flags.keyFile });
          const usesKeyFile = !process.env.ENVMUX_VAULT_KEY && existsSync(currentKeyFile);
          if (options.passphrase) {
            checkArgon2Request(
              {
                memory: options.kdfMemory * 1024,
                iterations: options.kdfIterations,
                parallelism: options.kdfParallelism,
              },
              `vault ${shownPath(provider.path)}`,
            );
          }
          await confirmLoss(
            'vault rotate-key',
            [
              `the current key stops opening the vault (${vaultContents(provider.path)}); copies of it in git history open only with the old key`,
            ],
            options.yes,
          );
          keepCopies(provider.path, [
            ['vault', provider.path],
            ['key', usesKeyFile ? currentKeyFile : undefined],
          ]);
          if (options.passphrase) {
            const passphrase = await readSecret({
              prompt: 'New vault passphrase: ',
              confirm: true,
            });
            warnWeakPassphrase(passphrase);
            const result = await provider.rotateKey({
              passphrase,
              kdf: {
                memory: options.kdfMemory * 1024,
                iterations: options.kdfIterations,
                parallelism: options.kdfParallelism,
              },
            });
            result.key.fill(0);
            // The old key file would now be tried first and fail: it opens nothing any more.
            if (usesKeyFile) rmSync(currentKeyFile, { force: true });
            say(
              `re-encrypted ${result.records} record(s) under the new passphrase${usesKeyFile ? `; removed the old key file ${shownPath(currentKeyFile)}` : ''}`,
            );
            if (process.env.ENVMUX_VAULT_PASSPHRASE)
              say('update ENVMUX_VAULT_PASSPHRASE wherever it is set');
            return;
          }
          const target = options.newKeyFile ?? (usesKeyFile ? currentKeyFile : undefined);
          if (!target && process.env.ENVMUX_VAULT_KEY) {
            throw new EnvmuxError(
              'CONFIG',
              'the current key comes from ENVMUX_VAULT_KEY: say where the new one goes',
              {
                hint: 'pass --new-key-file PATH (written 0600), then put its content in ENVMUX_VAULT_KEY',
              },
            );
          }
          const keyFile = target ?? keyFileBeside(provider.path);
          const result = await provider.rotateKey({ keyFile });
          result.key.fill(0);
          ensureGitignore(provider.path, keyFile);
          say(
            `re-encrypted ${result.records} record(s) under a new key in ${shownPath(keyFile)} (0600)`,
          );
          if (process.env.ENVMUX_VAULT_KEY) say('update ENVMUX_VAULT_KEY wherever it is set');
        },
      ),
    );

  vault
    .command('cleanup')
    .description('remove expired versions (and with --keep N, all but the newest N of each secret)')
    .option('--keep <n>', 'versions to keep per secret', positiveInt('--keep'))
    .option('--dry-run', 'only list what would be removed')
    .option('-y, --yes', 'do not ask before removing (for scripts)')
    .action(
      action(
        async (options: { keep?: number; dryRun?: boolean; yes?: boolean }, command: Command) => {
          const provider = await opened(flagsOf(command));
          if (!options.dryRun) {
            const planned = await provider.cleanup({ keep: options.keep, dryRun: true });
            if (!planned.length) {
              say('nothing to clean up');
              return;
            }
            await confirmLoss(
              'vault cleanup',
              planned.map((i) => `removes ${i.name} version ${i.version} (${i.reason})`),
              options.yes,
            );
            keepCopies(provider.path, [['vault', provider.path]]);
          }
          const removed = await provider.cleanup({ keep: options.keep, dryRun: options.dryRun });
          for (const item of removed) {
            process.stdout.write(
              `${options.dryRun ? 'would remove' : 'removed'} ${item.name} version ${item.version} (${item.reason})\n`,
            );
          }
          if (!removed.length) say('nothing to clean up');
        },
      ),
    );

  vault
    .command('unlock')
    .description(
      'open a passphrase vault for this user for a while (no passphrase or Argon2id in later processes)',
    )
    .option(
      '--idle <duration>',
      'lock again after this long unused',
      `${DEFAULT_SESSION_IDLE_MS / 60_000}m`,
    )
    .action(
      action(async (options: { idle: string }, command: Command) => {
        const flags = flagsOf(command);
        const provider = providerFor({ ...flags });
        const info = await provider.info();
        if (info.kdf.name === 'none') {
          say(
            `${shownPath(provider.path)} opens with a raw key (ENVMUX_VAULT_KEY or its key file): nothing to unlock`,
          );
          return;
        }
        removeSession(provider.path);
        const ready = process.env.ENVMUX_VAULT_PASSPHRASE
          ? await opened(flags)
          : await (async () => {
              const passphrase = await readSecret({
                prompt: `Passphrase for ${shownPath(provider.path)}: `,
              });
              await provider.unlock({ passphrase });
              return provider;
            })();
        const idle = parseDuration(options.idle, DEFAULT_SESSION_IDLE_MS);
        const file = ready.startSession(idle);
        audit(ready, 'auth', undefined);
        say(
          `unlocked ${shownPath(ready.path)} for this user until ${options.idle} unused (session ${file}); \`envmux vault lock\` ends it`,
        );
      }),
    );

  vault
    .command('lock')
    .description('end an unlock session: the passphrase is needed again')
    .action(
      action(async (_options: unknown, command: Command) => {
        const path = providerFor(flagsOf(command)).path;
        const had = removeSession(path);
        const provider = providerFor(flagsOf(command));
        audit(provider, 'auth', undefined);
        say(had ? `locked ${shownPath(path)}` : `${shownPath(path)} had no unlock session`);
      }),
    );
  for (const command of vault.commands) addVaultOptions(command);
}
