// Vault dynamic database credentials through node-vault against the wire server:
// `$<vault:database/creds/ROLE#username>` and `#password` in one load come from one lease (one read);
// a long-lived provider renews the lease before it expires (PUT sys/leases/renew), reads new
// credentials when renewal is capped by the max TTL or refused (revoked), and close() stops it all.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toEnvmuxError } from '../../../src/errors.js';
import { loadConfig } from '../../../src/index.js';
import { vault } from '../../../src/providers/vault/kv.js';
import { VaultWire } from './wire-server.js';

let wire: VaultWire;
beforeAll(async () => {
  wire = await VaultWire.start();
});
afterAll(async () => {
  await wire.close();
});

const make = () => vault({ address: wire.url, token: wire.rootToken, env: {} });

/** Run `check` with a new provider, closed after it whatever happens (its renewals would go on). */
async function withProvider(check: (p: ReturnType<typeof vault>) => Promise<void>): Promise<void> {
  const p = make();
  try {
    await check(p);
  } finally {
    await p.close?.();
  }
}

async function until(check: () => boolean, ms = 15_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const credsOf = async (p: ReturnType<typeof vault>, role: string) =>
  JSON.parse((await p.get(`database/creds/${role}`, {}))!) as {
    username: string;
    password: string;
  };

describe('vault: dynamic database credentials', () => {
  it('one load: username and password come from the same lease, in one read', async () => {
    wire.databaseRole('app', { ttl: 3600 });
    const before = wire.counts.creds;
    const cwd = mkdtempSync(join(tmpdir(), 'envmux-dyn-'));
    writeFileSync(
      join(cwd, '.env'),
      'DB_USER=$<vault:database/creds/app#username>\nDB_PASS=$<vault:database/creds/app#password>\n',
    );
    const p = make();
    const config = await loadConfig({ cwd, configFile: false, providers: [p], audit: false });
    expect(wire.counts.creds - before).toBe(1);
    const issued = [...wire.leases.values()].at(-1)!;
    expect(config.DB_USER).toBe(issued.username);
    expect(String(config.DB_PASS)).toMatch(/^A1a-/);
    await p.close?.();
  });

  it('renews the lease before it expires, keeping the same credentials', async () => {
    // 5 s: a renewal at 2/3 of it leaves the lease over 1 s of life (what get() asks of it) for
    // seconds after, time enough for the read below on a loaded machine.
    wire.databaseRole('renewed', { ttl: 5, maxTtl: 3600 });
    await withProvider(async (p) => {
      const first = await credsOf(p, 'renewed');
      const renewals = wire.counts.leaseRenewals;
      const reads = wire.counts.creds;
      await until(() => wire.counts.leaseRenewals >= renewals + 2);
      expect(wire.counts.creds).toBe(reads); // renewed, not re-read
      expect(await credsOf(p, 'renewed')).toEqual(first);
    });
  });

  it('reads new credentials before the old ones end when the max TTL caps renewal', async () => {
    wire.databaseRole('capped', { ttl: 2, maxTtl: 3 });
    await withProvider(async (p) => {
      const first = await credsOf(p, 'capped');
      const reads = wire.counts.creds;
      await until(() => wire.counts.creds > reads);
      const second = await credsOf(p, 'capped');
      expect(second.username).not.toBe(first.username);
      expect(second.password).not.toBe(first.password);
    });
  });

  it('reads new credentials when the lease is revoked (renewal refused: "lease not found")', async () => {
    wire.databaseRole('revoked', { ttl: 2, maxTtl: 3600 });
    await withProvider(async (p) => {
      const first = await credsOf(p, 'revoked');
      const reads = wire.counts.creds;
      const leaseId = [...wire.leases].find(([, l]) => l.username === first.username)![0];
      wire.leases.delete(leaseId); // `vault lease revoke`
      await until(() => wire.counts.creds > reads);
      expect((await credsOf(p, 'revoked')).username).not.toBe(first.username);
    });
  });

  it('close() stops renewing; an unknown role is an error without a value', async () => {
    wire.databaseRole('closing', { ttl: 2 });
    const p = make();
    await credsOf(p, 'closing');
    await p.close?.();
    const renewals = wire.counts.leaseRenewals;
    await new Promise((r) => setTimeout(r, 2000));
    expect(wire.counts.leaseRenewals).toBe(renewals);
    const q = make();
    const error = await q.get('database/creds/nope', {}).then(
      () => undefined,
      (e: unknown) => toEnvmuxError(e),
    );
    expect(error?.message).toMatch(/unknown role/);
    await q.close?.();
  });
});
