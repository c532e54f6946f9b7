// The local vault's envelope on PostgreSQL: one row per sealed version, the header in a one-row
// table, the audit trail in a table. Writers take turns by advisory locks inside a transaction
// (per name; the whole vault for cleanup and key rotation); a load is one query. `pg` is an
// optional peer, imported on first use. Never sees a key or a plaintext value; never logs the URL's password.

import type { AuditEntry } from '../../audit/audit-log.js';
import { EnvmuxError, type ErrorCode, isEnvmuxError } from '../../errors.js';
import { importLibOnce } from '../import-lib.js';
import { tlsFailureCode } from '../tls-failure.js';
import {
  compareRecords,
  isValidName,
  type KdfSpec,
  type VaultDocument,
  type VaultHeader,
  type VaultRecord,
} from './format.js';
import type { VaultScope, VaultStorage, VaultUpdateOptions } from './storage.js';
import { type LoadedVault, missingVault, type VaultChange } from './vault-file.js';

/** The parts of `pg` this storage uses. */
interface PgQueryResult {
  rows: Record<string, unknown>[];
}
/** A statement: text, or a named prepared statement (parsed and planned once per connection). */
type PgStatement = string | { name: string; text: string; values?: unknown[] };
interface PgQueryable {
  query(statement: PgStatement, values?: unknown[]): Promise<PgQueryResult>;
}
interface PgClient extends PgQueryable {
  release(error?: Error | boolean): void;
}
interface PgPool extends PgQueryable {
  connect(): Promise<PgClient>;
  end(): Promise<void>;
  /** pg-pool's connections (connecting, busy or idle); `close()` hangs up those a frozen server holds. */
  _clients?: Array<{ connection?: { stream?: { destroy(): void } } }>;
  on?(event: 'error', listener: (error: Error) => void): void;
}
interface PgModule {
  Pool: new (config: Record<string, unknown>) => PgPool;
}

export interface PostgresStorageOptions {
  provider?: string;
  /** The `pg` module (default: imported on first use). */
  lib?: unknown;
  /** Passed to `pg` as `ssl`. */
  ssl?: unknown;
  /** Most pooled connections; default 1. */
  poolSize?: number;
  /** How long a statement waits for a lock (ms) before the server cancels it; default 4000. */
  lockTimeout?: number;
}

/** How long a connection attempt may take (TCP, TLS, the server's startup answer). */
const CONNECT_TIMEOUT = 5_000;
/** A statement's client-side bound beyond `lockTimeout` (the server's own cancel comes first). */
const STATEMENT_SLACK = 5_000;
/** How long `close()` waits for the audit flush and a clean hang-up before cutting connections. */
const CLOSE_WAIT = 1_000;

/** Advisory lock keys: (class, object) pairs in envmux's own class numbers. */
const VAULT_LOCK = 0x656e7600; // the whole vault: shared by name writers, exclusive for rotation
const NAME_LOCK = 0x656e7601; // one name: hashtext(name)
const SCHEMA_LOCK = 0x656e7602; // migrations

/**
 * The schema, as numbered migrations applied in order, each once (`envmux_schema_version`). Add a
 * migration by appending; never edit one that shipped.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE envmux_vault (
     singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
     format integer NOT NULL,
     id text NOT NULL,
     kdf jsonb NOT NULL,
     "check" text NOT NULL
   );
   CREATE TABLE envmux_secrets (
     name text NOT NULL,
     version integer NOT NULL CHECK (version >= 1),
     created text NOT NULL,
     expires text,
     description text,
     metadata jsonb,
     nonce bytea NOT NULL,
     data bytea NOT NULL,
     PRIMARY KEY (name, version)
   );
   CREATE TABLE envmux_audit (
     id bigserial PRIMARY KEY,
     time timestamptz NOT NULL,
     actor text NOT NULL,
     source text NOT NULL,
     action text NOT NULL,
     name text,
     outcome text NOT NULL,
     code text
   );`,
];

/** The URL as messages show it: without its password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '';
    return parsed.toString();
  } catch {
    throw new EnvmuxError('CONFIG', 'the vault URL is not a valid URL', {
      hint: 'postgres://user:password@host:5432/database?sslmode=require',
    });
  }
}

const PG_CODES: Record<string, [ErrorCode, string]> = {
  '28P01': ['AUTH_FAILED', 'the database refused the password'],
  '28000': ['AUTH_FAILED', 'the database refused the connection'],
  '42501': ['ACCESS_DENIED', 'permission denied on the vault tables'],
  '55P03': ['LOCKED', 'another writer holds the vault; waited the lock timeout'],
  '57014': ['TIMEOUT', 'the statement was cancelled'],
  '3D000': ['CONFIG', 'the database does not exist'],
  '53300': ['THROTTLED', 'the server has too many connections'],
  '40001': ['UNAVAILABLE', 'a serialisation failure'],
  '40P01': ['UNAVAILABLE', 'a deadlock was detected'],
};

/** A `pg` or network error as a coded error naming the vault (never the password, never a value). */
function pgProblem(error: unknown, location: string, provider?: string): EnvmuxError {
  if (isEnvmuxError(error)) return error;
  const e = error as { code?: string; message?: string };
  const code = String(e?.code ?? '');
  const tls = tlsFailureCode(error);
  if (tls || /server does not support SSL/i.test(String(e?.message))) {
    return new EnvmuxError(
      'CONFIG',
      tls
        ? `vault ${location}: the server's TLS certificate was not trusted (${tls})`
        : `vault ${location}: the server does not accept TLS, and the URL asks for it`,
      {
        provider,
        hint: tls
          ? "give the CA that signed the server's certificate: ?sslmode=verify-full&sslrootcert=/path/ca.pem in the URL, or local({ url, ssl: { ca } })"
          : 'turn ssl on in the server (ssl_cert_file, ssl_key_file), or drop sslmode from the URL on a trusted network only',
        cause: error,
        retryable: false,
      },
    );
  }
  const known = PG_CODES[code];
  if (known) {
    return new EnvmuxError(known[0], `vault ${location}: ${known[1]}`, {
      provider,
      hint:
        known[0] === 'LOCKED'
          ? 'try again; raise lockTimeout if writers queue for long'
          : 'check the URL, the role and its grants',
      cause: error,
      retryable: known[0] === 'UNAVAILABLE' || known[0] === 'THROTTLED',
    });
  }
  if (code === '42P01') return missingVault(location, provider);
  const network = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EPIPE|EHOSTUNREACH)$/;
  if (network.test(code) || /Connection terminated|timeout/i.test(String(e?.message))) {
    return new EnvmuxError('UNAVAILABLE', `vault ${location}: the database is unreachable`, {
      provider,
      hint: 'check that PostgreSQL runs and the URL names it',
      cause: error,
      retryable: true,
    });
  }
  return new EnvmuxError('UNAVAILABLE', `vault ${location}: the database query failed`, {
    provider,
    cause: error,
    retryable: false,
  });
}

/**
 * `pg`'s connection settings for `url`. Explicit TLS options (`ssl`) replace the URL's `ssl*`
 * parameters (`pg` lets a URL's `sslmode` drop explicit options, e.g. a `ca`); they verify the
 * server's certificate and name unless they say otherwise (Node's defaults).
 */
function connectionConfig(url: string, ssl: unknown): Record<string, unknown> {
  if (ssl === undefined) return { connectionString: url };
  const parsed = new URL(url);
  for (const key of [...parsed.searchParams.keys()])
    if (/^ssl/i.test(key)) parsed.searchParams.delete(key);
  return { connectionString: parsed.toString(), ssl };
}

const COLUMNS = 'name, version, created, expires, description, metadata, nonce, data';
/** The same columns without the sealed value: what list and versions need. */
const META_COLUMNS =
  'name, version, created, expires, description, metadata, NULL::bytea AS nonce, NULL::bytea AS data';
/** The header row: its own columns, the records' as NULL (typed, for the UNION). */
const HEADER_ROW = `SELECT format, id, kdf::text AS kdf, "check", NULL::text AS name, NULL::int AS version,
  NULL::text AS created, NULL::text AS expires, NULL::text AS description, NULL::jsonb AS metadata,
  NULL::bytea AS nonce, NULL::bytea AS data FROM envmux_vault`;

/**
 * The one query of a load: the header row and the records in scope (the header once, not once per
 * record), as a named prepared statement (parsed and planned once per connection).
 */
function loadQuery(scope: VaultScope | undefined): {
  name: string;
  text: string;
  values: unknown[];
} {
  const names = scope?.names;
  const meta = scope?.values === false;
  const columns = meta ? META_COLUMNS : COLUMNS;
  const where = names ? ' WHERE name = ANY($1::text[])' : '';
  const inner = scope?.latest
    ? `SELECT DISTINCT ON (name) ${columns} FROM envmux_secrets${where} ORDER BY name, version DESC`
    : `SELECT ${columns} FROM envmux_secrets${where}`;
  return {
    name: `envmux_load_${names ? 'names' : 'all'}${scope?.latest ? '_latest' : ''}${meta ? '_meta' : ''}`,
    text: `${HEADER_ROW} UNION ALL SELECT NULL, NULL, NULL, NULL, s.* FROM (${inner}) s`,
    values: names ? [names] : [],
  };
}

function damagedRow(location: string, detail: string, provider?: string): EnvmuxError {
  return new EnvmuxError(
    'DECRYPTION_FAILED',
    `vault ${location} holds a damaged row (${detail}); nothing was read from it`,
    { provider, hint: 'restore the vault from a backup (pg_dump)' },
  );
}

/** Rows of {@link loadQuery} as a vault (header + records sorted by name, version). */
function toLoaded(
  rows: Record<string, unknown>[],
  location: string,
  provider?: string,
  valuesOmitted = false,
): LoadedVault {
  const first = rows.find((row) => row.format !== null && row.format !== undefined);
  if (!first) throw missingVault(location, provider);
  const header: VaultHeader = {
    envmux: 'vault',
    format: Number(first.format),
    id: String(first.id),
    kdf: (typeof first.kdf === 'string' ? JSON.parse(first.kdf) : first.kdf) as KdfSpec,
    check: String(first.check),
  };
  const records: VaultRecord[] = [];
  for (const row of rows) {
    if (row.name === null || row.name === undefined) continue;
    const name = String(row.name);
    const nonce = row.nonce as Buffer | null;
    if (!isValidName(name) || (!valuesOmitted && (!Buffer.isBuffer(nonce) || nonce.length !== 12)))
      throw damagedRow(location, `${name} version ${String(row.version)}`, provider);
    const record: VaultRecord = {
      name,
      version: Number(row.version),
      created: String(row.created),
    } as VaultRecord;
    if (row.expires !== null) record.expires = String(row.expires);
    if (row.description !== null) record.description = String(row.description);
    if (row.metadata !== null) record.metadata = row.metadata as Record<string, string>;
    record.nonce = nonce ? nonce.toString('base64') : '';
    record.data = row.data ? (row.data as Buffer).toString('base64') : '';
    records.push(record);
  }
  records.sort(compareRecords);
  const doc: VaultDocument = { header, records };
  const byName = new Map<string, VaultRecord[]>();
  for (const record of records) {
    const list = byName.get(record.name);
    if (list) list.push(record);
    else byName.set(record.name, [record]);
  }
  return { doc, byName, signature: '', ...(valuesOmitted ? { valuesOmitted } : {}) };
}

/** What `append` returns for a change that is more than one new version: the transaction does it. */
const NOT_APPENDABLE = Symbol('not appendable');

const idOf = (r: Pick<VaultRecord, 'name' | 'version'>) => `${r.name}\0${r.version}`;

/** Columns of many records as arrays, for one `unnest` statement. */
function columns(records: VaultRecord[]): unknown[] {
  return [
    records.map((r) => r.name),
    records.map((r) => r.version),
    records.map((r) => r.created),
    records.map((r) => r.expires ?? null),
    records.map((r) => r.description ?? null),
    records.map((r) => (r.metadata ? JSON.stringify(r.metadata) : null)),
    records.map((r) => Buffer.from(r.nonce, 'base64')),
    records.map((r) => Buffer.from(r.data, 'base64')),
  ];
}

const UNNEST =
  'unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::bytea[], $8::bytea[])';

/** Sends one statement: one round trip. */
type Send = (statement: PgStatement, values?: unknown[]) => Promise<PgQueryResult>;

/** What `next` changes against `current` (same scope). */
function diff(current: VaultDocument, next: VaultDocument) {
  const before = new Map(current.records.map((r) => [idOf(r), r]));
  const after = new Set(next.records.map(idOf));
  const inserts: VaultRecord[] = [];
  const updates: VaultRecord[] = [];
  for (const record of next.records) {
    const old = before.get(idOf(record));
    if (!old) inserts.push(record);
    else if (old !== record) updates.push(record);
  }
  const deletes = current.records.filter((r) => !after.has(idOf(r)));
  const h = next.header;
  const header = h.check !== current.header.check || h.id !== current.header.id;
  return { inserts, updates, deletes, header };
}

/** Write what `next` changes against `current` (same scope): inserts, re-seals, deletions, header. */
async function applyChange(send: Send, current: VaultDocument, next: VaultDocument): Promise<void> {
  const { inserts, updates, deletes, header } = diff(current, next);
  const h = next.header;
  if (header) {
    await send('UPDATE envmux_vault SET format = $1, id = $2, kdf = $3::jsonb, "check" = $4', [
      h.format,
      h.id,
      JSON.stringify(h.kdf),
      h.check,
    ]);
  }
  if (deletes.length) {
    await send(
      'DELETE FROM envmux_secrets s USING unnest($1::text[], $2::int[]) d(name, version) WHERE s.name = d.name AND s.version = d.version',
      [deletes.map((r) => r.name), deletes.map((r) => r.version)],
    );
  }
  if (updates.length) {
    await send(
      `UPDATE envmux_secrets s SET created = u.created, expires = u.expires, description = u.description,
         metadata = u.metadata, nonce = u.nonce, data = u.data
       FROM ${UNNEST} u(name, version, created, expires, description, metadata, nonce, data)
       WHERE s.name = u.name AND s.version = u.version`,
      columns(updates),
    );
  }
  if (inserts.length) {
    // A primary-key conflict here would be a lost write: it fails the transaction instead.
    await send(`INSERT INTO envmux_secrets (${COLUMNS}) SELECT * FROM ${UNNEST}`, columns(inserts));
  }
}

/**
 * A set's write in one statement (its own transaction): bound its lock waits (`lock_timeout`, local
 * to the statement), take the vault's shared lock and the name's lock, then the header row FOR SHARE — re-read at its newest version, so a key rotation that
 * committed meanwhile makes the check differ and nothing is inserted — then insert the version
 * unless another writer already holds it. Returns a row when the version was written.
 */
const APPEND: { name: string; text: string } = {
  name: 'envmux_append',
  text: `INSERT INTO envmux_secrets (${COLUMNS})
    SELECT $1, $2::int, $3, $4, $5, $6::jsonb, $7::bytea, $8::bytea FROM (
      SELECT 1 FROM envmux_vault h,
        (SELECT set_config('lock_timeout', $12, true),
                pg_advisory_xact_lock_shared($9, 0), pg_advisory_xact_lock($10, hashtext($1))) l
      WHERE h."check" = $11 FOR SHARE OF h) ok
    ON CONFLICT (name, version) DO NOTHING
    RETURNING version`,
};

/** A vault in a PostgreSQL database. Connects on first use. */
export function postgresStorage(
  url: string,
  options: PostgresStorageOptions = {},
): VaultStorage & {
  /** Create the schema (migrations) and, when absent, the vault's header row; false if it existed. */
  create(header: VaultHeader, force?: boolean): Promise<boolean>;
  /** Round trips so far: every statement sent to the server (for tests and the benchmark). */
  readonly queries: number;
} {
  const location = redactUrl(url);
  const provider = options.provider;
  const loadPg = importLibOnce<PgModule>(
    provider ?? 'local',
    'pg',
    options.lib as PgModule | undefined,
    async () => {
      // @ts-expect-error pg is an optional peer and ships no types of its own
      const mod = (await import('pg')) as unknown as { default?: PgModule } & PgModule;
      return mod.Pool ? mod : (mod.default as PgModule);
    },
  );
  const lockTimeout = Math.max(1, Math.round(options.lockTimeout ?? 4000));
  let pool: PgPool | undefined;
  let pooling: Promise<PgPool> | undefined;
  let queries = 0;
  let migrated = false;
  const getPool = () => {
    pooling ??= loadPg().then((pg) => {
      pool = new pg.Pool({
        ...connectionConfig(url, options.ssl),
        max: options.poolSize ?? 1,
        idleTimeoutMillis: 5_000,
        connectionTimeoutMillis: CONNECT_TIMEOUT,
        // A server that stops answering (frozen, half-dead link) fails the statement instead of
        // holding it for ever: past the longest lock wait a statement may legitimately have.
        query_timeout: lockTimeout + STATEMENT_SLACK,
        // A preload's or CLI's process exits when its work is done, not when the pool times out.
        allowExitOnIdle: true,
      });
      // An idle connection the server dropped: the next query reconnects.
      pool.on?.('error', () => {});
      return pool;
    });
    return pooling;
  };
  /** Every statement goes through here: one round trip each. */
  const via =
    (target: PgQueryable): Send =>
    (statement, values) => {
      queries++;
      return target.query(statement, values);
    };
  const send: Send = async (statement, values) => via(await getPool())(statement, values);

  const transaction = async <T>(
    fn: (send: Send) => Promise<T>,
    timeout = lockTimeout,
  ): Promise<T> => {
    const client = await (await getPool()).connect();
    const sendIn = via(client);
    let failed: unknown;
    try {
      await sendIn(`BEGIN; SET LOCAL lock_timeout = ${Math.max(1, Math.round(timeout))}`);
      const out = await fn(sendIn);
      await sendIn('COMMIT');
      return out;
    } catch (error) {
      failed = error;
      await sendIn('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release(failed instanceof Error && !isEnvmuxError(failed) ? failed : undefined);
    }
  };

  /** Apply the migrations this database lacks, one starter at a time (advisory lock). */
  const migrate = async () => {
    if (migrated) return;
    // Up to date (the usual case): no lock and no DDL, so a role without CREATE can write.
    try {
      const { rows } = await send(
        'SELECT coalesce(max(version), 0) AS v FROM envmux_schema_version',
      );
      if (Number(rows[0]?.v) === MIGRATIONS.length) {
        migrated = true;
        return;
      }
    } catch (error) {
      if ((error as { code?: string }).code !== '42P01') throw error;
    }
    await transaction(async (sendIn) => {
      await sendIn('SELECT pg_advisory_xact_lock($1, 0)', [SCHEMA_LOCK]);
      await sendIn(
        'CREATE TABLE IF NOT EXISTS envmux_schema_version (version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())',
      );
      const { rows } = await sendIn(
        'SELECT coalesce(max(version), 0) AS v FROM envmux_schema_version',
      );
      const have = Number(rows[0]?.v ?? 0);
      if (have > MIGRATIONS.length) {
        throw new EnvmuxError(
          'CONFIG',
          `vault ${location} has schema version ${have}; this envmux knows ${MIGRATIONS.length}`,
          { provider, hint: 'upgrade envmux to the version that migrated this database' },
        );
      }
      for (let v = have + 1; v <= MIGRATIONS.length; v++) {
        await sendIn(MIGRATIONS[v - 1]!);
        await sendIn('INSERT INTO envmux_schema_version (version) VALUES ($1)', [v]);
      }
    });
    migrated = true;
  };

  /** The last statement found the server unreachable (refused, frozen): the audit insert waits. */
  let unreachable = false;
  /** Settles when the latest operation does: the audit insert waits for it to know `unreachable`. */
  let lastOperation: Promise<unknown> = Promise.resolve();
  const guarded = <T>(fn: () => Promise<T>): Promise<T> => {
    // `unreachable` is known before `lastOperation` settles (an audit flush waiting on it reads it).
    const running = fn().then(
      (out) => {
        unreachable = false;
        return out;
      },
      (error: unknown) => {
        const problem = pgProblem(error, location, provider);
        if (problem.code === 'UNAVAILABLE' && problem.retryable) unreachable = true;
        throw problem;
      },
    );
    lastOperation = running.catch(() => {});
    return running;
  };

  const load = async (sender: Send, scope: VaultScope | undefined) => {
    const { rows } = await sender(loadQuery(scope));
    return toLoaded(rows, location, provider, scope?.values === false);
  };

  /**
   * A set: one read of the name's latest version, then one statement (see APPEND). When another
   * writer took the version first, or the key was rotated, read again and redo the change.
   */
  const append = async <T>(
    change: (current: LoadedVault) => Promise<VaultChange<T>> | VaultChange<T>,
    names: string[],
    opts: VaultUpdateOptions,
  ): Promise<T | typeof NOT_APPENDABLE> => {
    const deadline = Date.now() + (opts.timeout ?? lockTimeout);
    for (;;) {
      const current = await load(send, { names, latest: true });
      const out = await change(current);
      opts.signal?.throwIfAborted();
      if (!out.doc) return out.result;
      const { inserts, updates, deletes, header } = diff(current.doc, out.doc);
      const record = inserts[0];
      if (!record || inserts.length !== 1 || updates.length || deletes.length || header)
        return NOT_APPENDABLE;
      const { rows } = await send(APPEND, [
        ...columns([record]).map((column) => (column as unknown[])[0]),
        VAULT_LOCK,
        NAME_LOCK,
        current.doc.header.check,
        // Its locks wait at most the rest of the deadline (no startup parameter: poolers refuse them).
        String(Math.max(1, deadline - Date.now())),
      ]);
      if (rows.length) {
        out.after?.();
        return out.result;
      }
      if (Date.now() >= deadline) {
        throw new EnvmuxError(
          'LOCKED',
          `vault ${location}: other writers kept "${record.name}" busy`,
          {
            provider,
            hint: 'try again; raise lockTimeout if writers queue for long',
            retryable: true,
          },
        );
      }
    }
  };

  let pendingAudit: AuditEntry[] = [];
  let flushing: Promise<void> | undefined;
  const flushAudit = async () => {
    const batch = pendingAudit;
    pendingAudit = [];
    await lastOperation;
    // A server just found unreachable would cost another connection timeout for a best-effort row
    // (and keep a CLI alive that long); the process audit log still has the entries.
    if (!batch.length || unreachable) return;
    try {
      await send(
        `INSERT INTO envmux_audit (time, actor, source, action, name, outcome, code)
         SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`,
        [
          batch.map((e) => new Date(e.time)),
          batch.map((e) => e.actor),
          batch.map((e) => e.source),
          batch.map((e) => e.action),
          batch.map((e) => e.key ?? null),
          batch.map((e) => e.outcome),
          batch.map((e) => e.code ?? null),
        ],
      );
    } catch {
      // The audit trail is best effort here; the process audit log still has the entries.
    }
  };

  return {
    kind: 'postgres',
    location,
    get queries() {
      return queries;
    },
    exists: () =>
      guarded(async () => {
        try {
          const { rows } = await send('SELECT 1 FROM envmux_vault');
          return rows.length > 0;
        } catch (error) {
          if ((error as { code?: string }).code === '42P01') return false;
          throw error;
        }
      }),
    load: (scope) => guarded(() => load(send, scope)),
    update: <T>(
      change: (current: LoadedVault) => Promise<VaultChange<T>> | VaultChange<T>,
      opts: VaultUpdateOptions = {},
    ) =>
      guarded(async () => {
        await migrate();
        const names = opts.names ? [...new Set(opts.names)].sort() : undefined;
        if (names && opts.append) {
          const appended = await append(change, names, opts);
          if (appended !== NOT_APPENDABLE) return appended;
        }
        const timeout = Math.max(1, Math.round(opts.timeout ?? lockTimeout));
        const { result, after } = await transaction(async (sendIn) => {
          if (names) {
            // Name writers share the vault (a rotation excludes them all), then queue per name
            // (names sorted, so two multi-name writers never wait on each other in a cycle).
            await sendIn(
              'SELECT pg_advisory_xact_lock_shared($1, 0), (SELECT count(pg_advisory_xact_lock($2, hashtext(n))) FROM (SELECT unnest($3::text[]) AS n ORDER BY 1) o)',
              [VAULT_LOCK, NAME_LOCK, names],
            );
          } else {
            await sendIn('SELECT pg_advisory_xact_lock($1, 0)', [VAULT_LOCK]);
          }
          const current = await load(sendIn, names ? { names, latest: opts.latest } : undefined);
          const out = await change(current);
          // A caller that gave up (timeout, deadline) must not have its write land afterwards.
          opts.signal?.throwIfAborted();
          if (out.doc) await applyChange(sendIn, current.doc, out.doc);
          return out;
        }, timeout);
        after?.();
        return result;
      }),
    audit(entry) {
      pendingAudit.push(entry);
      if (pendingAudit.length === 1) {
        const run = new Promise<void>((resolve) => setImmediate(resolve)).then(flushAudit);
        flushing = (flushing ?? Promise.resolve()).then(() => run);
      }
    },
    create: (header, force = false) =>
      guarded(async () => {
        await migrate();
        return transaction(async (sendIn) => {
          await sendIn('SELECT pg_advisory_xact_lock($1, 0)', [VAULT_LOCK]);
          const { rows } = await sendIn('SELECT 1 FROM envmux_vault');
          if (rows.length && !force) return false;
          if (rows.length) {
            await sendIn('DELETE FROM envmux_secrets');
            await sendIn('DELETE FROM envmux_vault');
          }
          await sendIn(
            'INSERT INTO envmux_vault (format, id, kdf, "check") VALUES ($1, $2, $3::jsonb, $4)',
            [header.format, header.id, JSON.stringify(header.kdf), header.check],
          );
          return true;
        });
      }),
    async close() {
      const p = pool;
      // Best effort, bounded: a server that stops answering must not keep the process alive.
      const bounded = (work: Promise<unknown>) => {
        let timer: NodeJS.Timeout | undefined;
        const waited = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, CLOSE_WAIT);
        });
        return Promise.race([work.catch(() => {}), waited]).finally(() => clearTimeout(timer));
      };
      await bounded((flushing ?? Promise.resolve()).then(flushAudit));
      pool = undefined;
      pooling = undefined;
      if (!p) return;
      await bounded(p.end());
      // Still connected (a frozen server never answers the goodbye): hang up.
      for (const client of p._clients ?? []) client.connection?.stream?.destroy();
    },
  };
}
