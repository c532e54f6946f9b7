// Moving the secrets of a plain .env file into a store (`envmux migrate`): detect, upload, rewrite
// the file with references (comments, order and quoting kept), keep a backup and a manifest of what
// was created, validate by digests, roll back. Never puts a value in a report, diff or error.

import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { EnvmuxError, type ErrorCode, isEnvmuxError, toEnvmuxError } from '../errors.js';
import { writeFileAtomicSync } from '../files/atomic-write.js';
import type { Resolver } from '../resolver/client.js';
import { loadEnvironment } from '../resolver/load.js';
import { type EnvEntry, parseEnvSource } from '../resolver/parse.js';
import { type DetectOptions, type SecretReason, secretReason } from './detect-secrets.js';
import { digestOf } from './digest.js';
import { rewriteValues, valueSpans } from './rewrite-env-file.js';

/** What migrate did (or, in a dry run, would do) with one key. */
export interface MigrateItem {
  key: string;
  line: number;
  /** The secret's name in the store. */
  secret: string;
  reason: SecretReason;
  /** `create`: uploaded; `reuse`: the store already held the same value; `update`: replaced a different one. */
  action: 'create' | 'reuse' | 'update';
  status: 'planned' | 'done' | 'failed';
  error?: { code: ErrorCode; message: string };
}

export interface MigrateReport {
  file: string;
  to: string;
  dryRun: boolean;
  ok: boolean;
  items: MigrateItem[];
  /** Changed lines, old values masked: `-  3 DB_PASSWORD=***` / `+  3 DB_PASSWORD=$<secret:DB_PASSWORD>`. */
  diff: string[];
  /** Whether the file was rewritten. */
  rewritten: boolean;
  /** The backup of the original file (holds the original values: keep it out of version control). */
  backup?: string;
  /** With `validate`: the outcome. */
  validation?: ValidationReport;
}

export interface ValidationReport {
  ok: boolean;
  /** Keys compared. */
  keys: number;
  /** Keys whose rewritten value differs from the original (names only). */
  mismatched: string[];
  /** Keys of the rewritten file that did not resolve, with the code. */
  unresolved: Array<{ key: string; code: ErrorCode }>;
}

export interface MigrateOptions extends DetectOptions {
  /** The env file to migrate (absolute, or relative to `cwd`). */
  file: string;
  cwd?: string;
  /** The resolver whose chain (or pinned types) holds the destination store. */
  resolver: Resolver;
  /** Destination provider id or type. */
  to: string;
  /** Secret names are this prefix plus the key (default none: `DB_PASSWORD`). */
  prefix?: string;
  /** The references' scheme: `secret` (default: served by the chain) or a provider id to pin. */
  scheme?: string;
  /** Replace a different value the store already holds under a secret's name (default: fail). */
  overwrite?: boolean;
  /** Plan and diff only: nothing uploaded, nothing written. */
  dryRun?: boolean;
  /** After rewriting, resolve the file and compare digests with the original values. */
  validate?: boolean;
  /** The environment `$<env:...>` references read while validating; default `process.env`. */
  processEnv?: Record<string, string | undefined>;
}

/** Where migrate keeps the original file and what it created. */
export function migrationPaths(file: string): { backup: string; manifest: string } {
  return { backup: `${file}.envmux-backup`, manifest: `${file}.envmux-migrate.json` };
}

interface Manifest {
  version: 1;
  status: 'uploading' | 'rewritten';
  to: string;
  /** SHA-256 of the original file (the backup). */
  original: string;
  /** Secret names this migration created (deleted by a rollback with deleteUploaded). */
  created: string[];
}

const NAME_SAFE = /^[^#?:<>${}\\\s]+$/;

/** Migrate an env file's secrets into a store and rewrite it with references. */
export async function migrateEnvFile(options: MigrateOptions): Promise<MigrateReport> {
  const path = resolve(options.cwd ?? process.cwd(), options.file);
  const shown = options.file;
  const { backup, manifest: manifestPath } = migrationPaths(path);
  const source = readEnvFile(path, shown);
  const entries = parseEnvSource(source, shown);
  const byKey = new Map(entries.map((e) => [e.key, e]));
  for (const key of options.keys ?? []) {
    if (!byKey.has(key)) {
      throw new EnvmuxError('CONFIG', `--keys names "${key}", which ${shown} does not set`, {
        file: shown,
        key,
      });
    }
  }
  const prefix = options.prefix ?? '';
  const scheme = options.scheme ?? 'secret';
  const chosen = entries.flatMap((entry) => {
    const reason = secretReason(entry.key, entry.value, options);
    return reason ? [{ entry, reason, secret: `${prefix}${entry.key}` }] : [];
  });
  for (const { secret } of chosen) {
    if (!NAME_SAFE.test(secret)) {
      throw new EnvmuxError('CONFIG', `"${secret}" cannot be a secret name in a reference`, {
        hint: 'a prefix may not hold # ? : < > $ { } \\ or spaces',
      });
    }
  }

  let manifest = readManifest(manifestPath);
  if (manifest?.status === 'rewritten' && chosen.length && !options.dryRun) {
    throw new EnvmuxError('CONFIG', `${shown} was migrated before and can still be rolled back`, {
      file: shown,
      hint: `roll it back (envmux migrate ${shown} --rollback), or delete ${basename(manifestPath)} and ${basename(backup)} to keep it`,
    });
  }
  if (manifest?.status === 'uploading' && manifest.original !== digestOf(source)) {
    throw new EnvmuxError('CONFIG', `${shown} changed since an interrupted migration`, {
      file: shown,
      hint: `roll the interrupted one back first (envmux migrate ${shown} --rollback --delete-uploaded)`,
    });
  }

  const items: MigrateItem[] = [];
  for (const { entry, reason, secret } of chosen) {
    const item: MigrateItem = {
      key: entry.key,
      line: entry.line,
      secret,
      reason,
      action: 'create',
      status: 'planned',
    };
    items.push(item);
    try {
      const current = await currentDigest(options.resolver, options.to, secret);
      if (current === digestOf(entry.value)) item.action = 'reuse';
      else if (current !== undefined) {
        item.action = 'update';
        if (!options.overwrite) {
          throw new EnvmuxError(
            'CONFIG',
            `"${secret}" already holds a different value in "${options.to}"`,
            {
              key: entry.key,
              hint: 'choose another --prefix, or replace it with --overwrite',
            },
          );
        }
      }
    } catch (error) {
      fail(item, error);
    }
  }

  const replacements = new Map(
    chosen.map(({ entry, secret }) => [entry.key, referenceText(entry, scheme, secret)]),
  );
  const rewritten = chosen.length ? rewriteValues(source, shown, replacements) : source;
  const report: MigrateReport = {
    file: shown,
    to: options.to,
    dryRun: !!options.dryRun,
    ok: items.every((i) => i.status !== 'failed'),
    items,
    diff: diffLines(source, replacements),
    rewritten: false,
  };
  if (options.dryRun || !report.ok || !chosen.length) {
    if (!options.dryRun && !chosen.length && manifest && options.validate) {
      report.backup = backup;
      report.validation = await validateMigration(options);
      report.ok = report.validation.ok;
    }
    return report;
  }

  // Keep the original before the store changes, so an interruption can always be rolled back.
  if (!manifest) {
    writeFileAtomicSync(backup, source, 0o600);
    manifest = {
      version: 1,
      status: 'uploading',
      to: options.to,
      original: digestOf(source),
      created: [],
    };
    writeManifest(manifestPath, manifest);
  }
  report.backup = backup;
  for (const { entry, secret } of chosen) {
    const item = items.find((i) => i.key === entry.key)!;
    if (item.action === 'reuse') {
      item.status = 'done';
      continue;
    }
    // Recorded before the write: a kill between the write and the record would leave a secret
    // this migration created that no rollback deletes. One never written is skipped then.
    const recorded = item.action === 'create' && !manifest.created.includes(secret);
    try {
      if (recorded) {
        manifest.created.push(secret);
        writeManifest(manifestPath, manifest);
      }
      await options.resolver.set(secret, entry.value, { provider: options.to });
      item.status = 'done';
    } catch (error) {
      fail(item, error);
      // A refusal (denied, invalid…) wrote nothing: a rollback must not try to delete it. Only a
      // timeout or a lost connection leaves the write's outcome unknown.
      if (recorded && !OUTCOME_UNKNOWN.has(item.error!.code)) {
        manifest.created = manifest.created.filter((name) => name !== secret);
        writeManifest(manifestPath, manifest);
      }
    }
  }
  report.ok = items.every((i) => i.status !== 'failed');
  if (!report.ok) return report;

  writeFileAtomicSync(path, rewritten, statSync(path).mode & 0o777);
  manifest.status = 'rewritten';
  writeManifest(manifestPath, manifest);
  report.rewritten = true;
  if (options.validate) {
    report.validation = await validateMigration(options);
    report.ok = report.validation.ok;
  }
  return report;
}

/**
 * Resolve the rewritten file and its backup through the resolver and compare every key's value by
 * digest. Names the keys that differ or do not resolve; never a value.
 */
export async function validateMigration(
  options: Pick<MigrateOptions, 'file' | 'cwd' | 'resolver' | 'processEnv'>,
): Promise<ValidationReport> {
  const cwd = options.cwd ?? process.cwd();
  const path = resolve(cwd, options.file);
  const { backup } = migrationPaths(path);
  if (!existsSync(backup)) {
    throw new EnvmuxError('CONFIG', `no backup of ${options.file} to validate against`, {
      file: options.file,
      hint: 'validate right after migrating (envmux migrate FILE --to STORE --validate)',
    });
  }
  const load = (file: string) =>
    loadEnvironment({
      files: [file],
      cwd,
      resolver: options.resolver,
      processEnv: options.processEnv ?? process.env,
      override: true,
    });
  const [original, migrated] = [await load(backup), await load(path)];
  const unresolved = migrated.errors.map((e) => ({
    key: (e as EnvmuxError).key ?? '',
    code: (e as EnvmuxError).code,
  }));
  const failedKeys = new Set(unresolved.map((u) => u.key));
  const mismatched: string[] = [];
  let keys = 0;
  for (const key of original.entries.keys()) {
    keys++;
    if (failedKeys.has(key)) continue;
    const a = original.values.get(key);
    const b = migrated.values.get(key);
    if (a === undefined || b === undefined || digestOf(a) !== digestOf(b)) mismatched.push(key);
  }
  return { ok: !mismatched.length && !unresolved.length, keys, mismatched, unresolved };
}

export interface RollbackOptions {
  file: string;
  cwd?: string;
  /** Needed with `deleteUploaded`. */
  resolver?: Resolver;
  /** Also delete the secrets this migration created in the store (never ones it reused or updated). */
  deleteUploaded?: boolean;
}

export interface RollbackReport {
  file: string;
  restored: boolean;
  /** Secret names deleted from the store. */
  deleted: string[];
  failed: Array<{ secret: string; code: ErrorCode; message: string }>;
  ok: boolean;
}

/** Restore the file from its backup and, with `deleteUploaded`, delete what the migration created. */
export async function rollbackMigration(options: RollbackOptions): Promise<RollbackReport> {
  const path = resolve(options.cwd ?? process.cwd(), options.file);
  const { backup, manifest: manifestPath } = migrationPaths(path);
  const manifest = readManifest(manifestPath);
  if (!manifest || !existsSync(backup)) {
    throw new EnvmuxError('CONFIG', `no migration of ${options.file} to roll back`, {
      file: options.file,
      hint: `migrate keeps ${basename(backup)} and ${basename(manifestPath)} beside the file until then`,
    });
  }
  const original = readFileSync(backup, 'utf8');
  if (digestOf(original) !== manifest.original) {
    throw new EnvmuxError('CONFIG', `${basename(backup)} does not match the migration's manifest`, {
      file: options.file,
      hint: 'restore the file by hand from the backup',
    });
  }
  const mode = existsSync(path) ? statSync(path).mode & 0o777 : 0o600;
  writeFileAtomicSync(path, original, mode);
  const report: RollbackReport = {
    file: options.file,
    restored: true,
    deleted: [],
    failed: [],
    ok: true,
  };
  if (options.deleteUploaded) {
    if (!options.resolver) throw new EnvmuxError('CONFIG', 'deleteUploaded needs a resolver');
    for (const secret of [...manifest.created]) {
      try {
        await options.resolver.delete(secret, { provider: manifest.to });
        report.deleted.push(secret);
        manifest.created = manifest.created.filter((n) => n !== secret);
      } catch (error) {
        const e = toEnvmuxError(error);
        if (e.code === 'NOT_FOUND') {
          manifest.created = manifest.created.filter((n) => n !== secret);
          continue;
        }
        report.failed.push({ secret, code: e.code, message: e.message });
      }
    }
  }
  report.ok = !report.failed.length;
  if (report.ok) {
    rmSync(manifestPath, { force: true });
    rmSync(backup, { force: true });
  } else {
    writeManifest(manifestPath, { ...manifest, status: 'rewritten' });
  }
  return report;
}

function readEnvFile(path: string, shown: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new EnvmuxError(
      'CONFIG',
      code === 'ENOENT' ? 'env file not found' : `env file cannot be read (${code})`,
      {
        file: shown,
      },
    );
  }
}

function readManifest(path: string): Manifest | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
    if (parsed.version === 1 && Array.isArray(parsed.created)) return parsed;
  } catch {}
  throw new EnvmuxError('CONFIG', `${basename(path)} is not a migration manifest`, {
    file: path,
    hint: 'restore the file from its .envmux-backup by hand and delete the manifest',
  });
}

/** Atomically (a kill mid-write leaves the previous manifest, never a torn one). */
function writeManifest(path: string, manifest: Manifest): void {
  writeFileAtomicSync(path, `${JSON.stringify(manifest, null, 2)}\n`, 0o600);
}

async function currentDigest(
  resolver: Resolver,
  provider: string,
  name: string,
): Promise<string | undefined> {
  try {
    return digestOf(await resolver.get(name, { provider, cache: false }));
  } catch (error) {
    if (isEnvmuxError(error) && error.code === 'NOT_FOUND') return undefined;
    throw error;
  }
}

/** Failures after which a write may still have been applied by the store. */
const OUTCOME_UNKNOWN: ReadonlySet<ErrorCode> = new Set(['TIMEOUT', 'UNAVAILABLE']);

function fail(item: MigrateItem, error: unknown): void {
  const e = toEnvmuxError(error);
  item.status = 'failed';
  item.error = { code: e.code, message: e.message };
}

/** The reference text for a key, quoted as the original was (single quotes become double: they are literal). */
function referenceText(entry: EnvEntry, scheme: string, secret: string): string {
  const reference = `$<${scheme}:${secret}>`;
  if (entry.quote === '`') return `\`${reference}\``;
  if (entry.quote === '"' || entry.quote === "'") return `"${reference}"`;
  return reference;
}

/** Changed assignments, the old value masked. */
function diffLines(source: string, replacements: Map<string, string>): string[] {
  const out: string[] = [];
  for (const span of valueSpans(source)) {
    const next = replacements.get(span.key);
    if (next === undefined) continue;
    out.push(
      `-${String(span.line).padStart(4)} ${span.key}=***`,
      `+${String(span.line).padStart(4)} ${span.key}=${next}`,
    );
  }
  return out;
}
