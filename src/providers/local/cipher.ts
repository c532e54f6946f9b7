// AES-256-GCM for the local vault: seal and open one record, make and verify the key check value.
// Holds no state and never puts a key or plaintext in an error (only the vault path and a name).

import { nodeCrypto } from '../../crypto/lazy-crypto.js';
import { EnvmuxError } from '../../errors.js';
import {
  damaged,
  headerAad,
  recordAad,
  shownPath,
  type VaultHeader,
  type VaultRecord,
} from './format.js';

const CHECK_PLAINTEXT = Buffer.from('envmux-vault-check');
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** A fresh 256-bit key. */
export function generateKey(): Buffer {
  return nodeCrypto().randomBytes(32);
}

function seal(
  key: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): { nonce: Buffer; data: Buffer } {
  const nonce = nodeCrypto().randomBytes(NONCE_BYTES);
  const cipher = nodeCrypto().createCipheriv('aes-256-gcm', key, nonce, {
    authTagLength: TAG_BYTES,
  });
  cipher.setAAD(aad);
  const data = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { nonce, data };
}

/** Decrypt; `undefined` when the tag does not verify (wrong key, tampered data or AAD). */
function open(key: Uint8Array, nonce: Buffer, data: Buffer, aad: Uint8Array): Buffer | undefined {
  if (data.length < TAG_BYTES) return undefined;
  try {
    const decipher = nodeCrypto().createDecipheriv('aes-256-gcm', key, nonce, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(aad);
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(data.subarray(0, data.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    return undefined;
  }
}

/** The key check value for a header (base64 of nonce ‖ ciphertext ‖ tag). */
export function makeCheck(
  key: Uint8Array,
  header: Pick<VaultHeader, 'format' | 'id' | 'kdf'>,
): string {
  const { nonce, data } = seal(key, CHECK_PLAINTEXT, headerAad(header));
  return Buffer.concat([nonce, data]).toString('base64');
}

/** Whether `key` opens this header (and the header is as written). */
export function verifyCheck(key: Uint8Array, header: VaultHeader): boolean {
  const raw = Buffer.from(header.check, 'base64');
  const plain = open(
    key,
    raw.subarray(0, NONCE_BYTES),
    raw.subarray(NONCE_BYTES),
    headerAad(header),
  );
  return plain?.equals(CHECK_PLAINTEXT) === true;
}

/** The error for a key that does not open the vault. */
export function wrongKey(path: string, source: string, provider?: string): EnvmuxError {
  const passphrase = /passphrase/i.test(source);
  const what = !passphrase
    ? `the key from ${source}`
    : source === 'the passphrase'
      ? 'the passphrase'
      : `the passphrase from ${source}`;
  return new EnvmuxError(
    'DECRYPTION_FAILED',
    `${what} does not open vault ${shownPath(path)} (wrong ${passphrase ? 'passphrase' : 'key'}, or the vault header was modified)`,
    {
      file: path,
      provider,
      hint: 'check ENVMUX_VAULT_KEY / the key file / the passphrase; restore the vault from git if it was edited',
    },
  );
}

/** Encrypt `value` as the record described by `meta`. */
export function sealRecord(
  key: Uint8Array,
  header: Pick<VaultHeader, 'format' | 'id'>,
  meta: Omit<VaultRecord, 'nonce' | 'data'>,
  value: string,
): VaultRecord {
  const plaintext = Buffer.from(value, 'utf8');
  const { nonce, data } = seal(key, plaintext, recordAad(header, meta));
  plaintext.fill(0);
  return { ...meta, nonce: nonce.toString('base64'), data: data.toString('base64') };
}

/**
 * Decrypt a record to its bytes (the caller zeroes them when done). Throws `DECRYPTION_FAILED`
 * naming the vault and the record when its tag does not verify.
 */
export function openRecordBytes(
  key: Uint8Array,
  header: Pick<VaultHeader, 'format' | 'id'>,
  record: VaultRecord,
  path: string,
  provider?: string,
): Buffer {
  const plain = open(
    key,
    Buffer.from(record.nonce, 'base64'),
    Buffer.from(record.data, 'base64'),
    recordAad(header, record),
  );
  if (!plain)
    throw damaged(path, `${record.name} version ${record.version} does not authenticate`, provider);
  return plain;
}

/** Decrypt a record to its value. */
export function openRecord(
  key: Uint8Array,
  header: Pick<VaultHeader, 'format' | 'id'>,
  record: VaultRecord,
  path: string,
  provider?: string,
): string {
  const bytes = openRecordBytes(key, header, record, path, provider);
  const value = bytes.toString('utf8');
  bytes.fill(0);
  return value;
}
