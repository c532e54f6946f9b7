// A self-signed certificate for 127.0.0.1, made by the openssl CLI at test time, for the wire
// servers that speak HTTPS (Azure Key Vault, the Kubernetes API server, Vault with TLS).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A self-signed certificate for 127.0.0.1, or why none could be made (no openssl). */
export function makeLoopbackCertificate(): { key: string; cert: string } | { missing: string } {
  const dir = mkdtempSync(join(tmpdir(), 'envmux-loopback-tls-'));
  try {
    const r = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    if (r.error || r.status !== 0) {
      return { missing: `openssl could not make a certificate: ${r.error?.message ?? r.stderr}` };
    }
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
