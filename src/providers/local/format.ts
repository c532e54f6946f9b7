// The vault file format (version 1): a JSON array laid out one record per line, so that `git diff`
// after a `set` shows one added line. Pure data in, data out: never decrypts, never holds a key.
//
//   [{"envmux":"vault","format":1,"id":"…","kdf":{"name":"none"},"check":"…"}
//   ,{"name":"db/password","version":1,"created":"2026-11-02T10:00:00.000Z","nonce":"…","data":"…"}
//   ,{"name":"db/password","version":2,"created":"…","expires":"…","description":"…","nonce":"…","data":"…"}
//   ]
//
// The header is always the first element and every record line starts with a comma, so adding or
// removing a record never touches a neighbouring line (no trailing-comma churn), and two branches
// that add different secrets merge cleanly. Records are sorted by name, then version.

import { relative } from 'node:path';
import { EnvmuxError } from '../../errors.js';
import { ARGON2_BOUNDS, argon2BoundsProblem } from './kdf.js';

/** The format this build writes and reads. */
export const FORMAT_VERSION = 1;

/** Argon2id parameters of a passphrase vault (memory in KiB), with its salt (base64, 16 bytes). */
export interface Argon2Params {
  name: 'argon2id';
  memory: number;
  iterations: number;
  parallelism: number;
  salt: string;
}

/** How the vault key is obtained: a raw 256-bit key (`none`), or Argon2id from a passphrase. */
export type KdfSpec = { name: 'none' } | Argon2Params;

export interface VaultHeader {
  envmux: 'vault';
  format: number;
  /** Random vault identity (base64, 16 bytes), bound into every record's associated data. */
  id: string;
  kdf: KdfSpec;
  /** Key check value: base64(nonce ‖ AES-GCM(key, "envmux-vault-check") ‖ tag), AAD = the header. */
  check: string;
}

/** One version of one secret. Every field but `nonce` and `data` is bound as associated data. */
export interface VaultRecord {
  name: string;
  version: number;
  /** ISO 8601. */
  created: string;
  /** ISO 8601; past it the version is no longer served (`EXPIRED`). */
  expires?: string;
  description?: string;
  metadata?: Record<string, string>;
  /** base64, 12 bytes, fresh for every encryption. */
  nonce: string;
  /** base64(ciphertext ‖ 16-byte GCM tag). */
  data: string;
}

export interface VaultDocument {
  header: VaultHeader;
  /** Sorted by name, then version. */
  records: VaultRecord[];
}

/** Names: letters, digits and `._/@+-`, starting with a letter or digit; at most 256 characters. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._/@+-]{0,255}$/;

/** Whether `name` may name a vault secret. */
export function isValidName(name: string): boolean {
  return NAME.test(name);
}

/** A path as messages show it: relative to cwd when inside it. */
export function shownPath(path: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return path;
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !rel.startsWith('/') ? rel : path;
}

/** The vault cannot be trusted: bad syntax, a missing or extra field, a broken value. */
export function damaged(path: string, detail: string, provider?: string): EnvmuxError {
  return new EnvmuxError(
    'DECRYPTION_FAILED',
    `vault ${shownPath(path)} is damaged or was modified (${detail}); nothing was read from it`,
    {
      file: path,
      provider,
      hint: 'restore the file from git or a backup; envmux never rewrites a damaged vault',
    },
  );
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Whether `value` is padded base64 (of exactly `bytes` bytes, when given). */
function isBase64(value: unknown, bytes?: number): value is string {
  if (typeof value !== 'string' || value.length % 4 !== 0 || !BASE64.test(value)) return false;
  return bytes === undefined || base64Length(value) === bytes;
}

/** Decoded length of padded base64, without decoding it. */
function base64Length(value: string): number {
  const padding = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
  return (value.length / 4) * 3 - padding;
}

function isIsoDate(value: unknown): value is string {
  return (
    typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value) && !Number.isNaN(Date.parse(value))
  );
}

const HEADER_KEYS = ['envmux', 'format', 'id', 'kdf', 'check'];
const RECORD_KEYS = new Set([
  'name',
  'version',
  'created',
  'expires',
  'description',
  'metadata',
  'nonce',
  'data',
]);

function checkKdf(kdf: unknown): string | undefined {
  if (!kdf || typeof kdf !== 'object') return 'kdf is not an object';
  const k = kdf as Record<string, unknown>;
  if (k.name === 'none') return Object.keys(k).length === 1 ? undefined : 'kdf has extra fields';
  if (k.name !== 'argon2id') return `unknown kdf "${String(k.name)}"`;
  const keys = Object.keys(k).sort().join(',');
  if (keys !== 'iterations,memory,name,parallelism,salt') return 'kdf fields are not argon2id’s';
  for (const field of ['memory', 'iterations', 'parallelism'])
    if (typeof k[field] !== 'number' || !Number.isInteger(k[field]))
      return `argon2id ${field} is not an integer`;
  if (!isBase64(k.salt, 16)) return 'argon2id salt is not 16 bytes of base64';
  return undefined;
}

/** A header whose Argon2id costs are outside the accepted bounds: refused before any derivation. */
function kdfOutOfBounds(path: string, problem: string, provider?: string): EnvmuxError {
  const b = ARGON2_BOUNDS;
  return new EnvmuxError(
    'CONFIG',
    `vault ${shownPath(path)} asks for ${problem}; envmux accepts at most ${b.maxMemory / 1024} MiB, ${b.maxIterations} iterations, ${b.maxParallelism} lanes and ${b.maxWork / 1024} MiB × iterations`,
    {
      file: path,
      provider,
      hint: 'the header was edited or written by another tool: restore the vault from git, or re-create it with `envmux vault rotate-key --passphrase` from a copy that opens',
    },
  );
}

function checkRecord(value: unknown): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'not an object';
  const r = value as Record<string, unknown>;
  for (const key of Object.keys(r)) if (!RECORD_KEYS.has(key)) return `unknown field "${key}"`;
  if (typeof r.name !== 'string' || !isValidName(r.name)) return 'bad name';
  if (typeof r.version !== 'number' || !Number.isSafeInteger(r.version) || r.version < 1)
    return 'bad version';
  if (!isIsoDate(r.created)) return 'bad created date';
  if (r.expires !== undefined && !isIsoDate(r.expires)) return 'bad expires date';
  if (r.description !== undefined && typeof r.description !== 'string') return 'bad description';
  if (r.metadata !== undefined) {
    if (!r.metadata || typeof r.metadata !== 'object' || Array.isArray(r.metadata))
      return 'bad metadata';
    for (const v of Object.values(r.metadata)) if (typeof v !== 'string') return 'bad metadata';
  }
  if (!isBase64(r.nonce, 12)) return 'nonce is not 12 bytes of base64';
  if (!isBase64(r.data) || base64Length(r.data) < 16) return 'bad ciphertext';
  return undefined;
}

/** Orders records by name (code points, locale-free), then version. */
export function compareRecords(a: VaultRecord, b: VaultRecord): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.version - b.version;
}

/**
 * Parse and validate a vault file's text. Throws `DECRYPTION_FAILED` for a damaged, truncated or
 * edited file and `CONFIG` for merge-conflict markers or a format version this build cannot read.
 * Validates structure only; authenticity is the cipher's job.
 */
/** A record `parseVault` skipped (when asked to collect them instead of failing). */
export interface DamagedRecord {
  /** 1-based position among the records. */
  record: number;
  /** 1-based line of the file, when the file has the canonical one-record-per-line layout. */
  line?: number;
  problem: string;
}

export function parseVault(
  text: string,
  path: string,
  provider?: string,
  /** Collect structurally damaged records here and skip them (listing only; never for reads). */
  damagedRecords?: DamagedRecord[],
): VaultDocument {
  if (/^(<{7}|>{7}|={7})( |$)/m.test(text)) {
    throw new EnvmuxError(
      'CONFIG',
      `vault ${shownPath(path)} has unresolved git merge conflict markers`,
      {
        file: path,
        provider,
        hint: 'keep both sides’ lines when they add different secrets or versions; if both sides set the same version of a secret, keep one and set the other again',
      },
    );
  }
  if (!text.trim()) throw damaged(path, 'the file is empty', provider);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw damaged(path, 'not valid JSON: truncated or edited', provider);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw damaged(path, 'not a vault', provider);
  const header = parsed[0] as Record<string, unknown>;
  if (!header || typeof header !== 'object' || header.envmux !== 'vault') {
    throw damaged(path, 'no vault header', provider);
  }
  if (header.format !== FORMAT_VERSION) {
    if (typeof header.format === 'number' && Number.isInteger(header.format)) {
      throw new EnvmuxError(
        'CONFIG',
        `vault ${shownPath(path)} has format version ${header.format}; this envmux reads version ${FORMAT_VERSION}`,
        {
          file: path,
          provider,
          hint:
            header.format > FORMAT_VERSION
              ? 'upgrade envmux to a version that knows this format'
              : 'this format is no longer supported',
        },
      );
    }
    throw damaged(path, 'bad format version', provider);
  }
  if (Object.keys(header).sort().join(',') !== [...HEADER_KEYS].sort().join(',')) {
    throw damaged(path, 'the header’s fields differ from format 1', provider);
  }
  if (!isBase64(header.id, 16)) throw damaged(path, 'bad vault id', provider);
  const kdfProblem = checkKdf(header.kdf);
  if (kdfProblem) throw damaged(path, kdfProblem, provider);
  const kdf = header.kdf as KdfSpec;
  const costProblem = kdf.name === 'argon2id' ? argon2BoundsProblem(kdf) : undefined;
  if (costProblem) throw kdfOutOfBounds(path, costProblem, provider);
  if (!isBase64(header.check, 12 + 18 + 16)) throw damaged(path, 'bad key check value', provider);
  const records: VaultRecord[] = [];
  const seen = new Set<string>();
  for (let i = 1; i < parsed.length; i++) {
    const problem = checkRecord(parsed[i]);
    if (problem && damagedRecords) {
      const canonical = text.trimEnd().split('\n').length === parsed.length + 1;
      damagedRecords.push({ record: i, ...(canonical ? { line: i + 1 } : {}), problem });
      continue;
    }
    if (problem) throw damaged(path, `record ${i}: ${problem}`, provider);
    const record = parsed[i] as VaultRecord;
    const id = `${record.name}@${record.version}`;
    if (seen.has(id)) {
      throw new EnvmuxError(
        'CONFIG',
        `vault ${shownPath(path)} holds ${id} twice (two branches set the same secret and a merge kept both)`,
        {
          file: path,
          provider,
          hint: `keep one of the two ${id} lines, then set the other value again with envmux vault set ${record.name}`,
        },
      );
    }
    seen.add(id);
    records.push(record);
  }
  records.sort(compareRecords);
  return { header: header as unknown as VaultHeader, records };
}

/** A header's fields in canonical order. */
function canonicalHeader(h: VaultHeader): VaultHeader {
  const kdf: KdfSpec =
    h.kdf.name === 'none'
      ? { name: 'none' }
      : {
          name: 'argon2id',
          memory: h.kdf.memory,
          iterations: h.kdf.iterations,
          parallelism: h.kdf.parallelism,
          salt: h.kdf.salt,
        };
  return { envmux: 'vault', format: h.format, id: h.id, kdf, check: h.check };
}

function sortedMetadata(m: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!m) return undefined;
  const out: Record<string, string> = {};
  for (const key of Object.keys(m).sort()) out[key] = m[key]!;
  return out;
}

/** A record's fields in canonical order (absent optional fields omitted). */
function canonicalRecord(r: VaultRecord): VaultRecord {
  const out: VaultRecord = { name: r.name, version: r.version, created: r.created } as VaultRecord;
  if (r.expires !== undefined) out.expires = r.expires;
  if (r.description !== undefined) out.description = r.description;
  const metadata = sortedMetadata(r.metadata);
  if (metadata && Object.keys(metadata).length) out.metadata = metadata;
  out.nonce = r.nonce;
  out.data = r.data;
  return out;
}

/** The file's text: header line, one line per record (sorted), closing bracket, newline. */
export function serializeVault(doc: VaultDocument): string {
  const lines = [`[${JSON.stringify(canonicalHeader(doc.header))}`];
  for (const record of [...doc.records].sort(compareRecords)) {
    lines.push(`,${JSON.stringify(canonicalRecord(record))}`);
  }
  lines.push(']');
  return `${lines.join('\n')}\n`;
}

/** Associated data of the key check value: every header field but the check itself. */
export function headerAad(header: Pick<VaultHeader, 'format' | 'id' | 'kdf'>): Buffer {
  const { check: _, ...rest } = canonicalHeader({ ...header, envmux: 'vault', check: '' });
  return Buffer.from(`envmux-vault-check\0${JSON.stringify(rest)}`);
}

/**
 * Associated data of a record: format version, vault id, name, version and every metadata field,
 * so a ciphertext moved to another name, version or vault (or given a new expiry) fails to decrypt.
 */
export function recordAad(
  header: Pick<VaultHeader, 'format' | 'id'>,
  record: Omit<VaultRecord, 'nonce' | 'data'>,
): Buffer {
  return Buffer.from(
    `envmux-vault-record\0${JSON.stringify([
      header.format,
      header.id,
      record.name,
      record.version,
      record.created,
      record.expires ?? null,
      record.description ?? null,
      record.metadata && Object.keys(record.metadata).length
        ? sortedMetadata(record.metadata)
        : null,
    ])}`,
  );
}
