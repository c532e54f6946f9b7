// migrateEnvFile: detection, rewriting that keeps comments / order / quoting, a 200-key .env into
// the local vault with validation by digests, resumption, dry-run diffs without values, rollback.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvmuxError } from '../../src/errors.js';
import { secretReason } from '../../src/manage/detect-secrets.js';
import {
  migrateEnvFile,
  migrationPaths,
  rollbackMigration,
  validateMigration,
} from '../../src/manage/migrate-env-file.js';
import { rewriteValues } from '../../src/manage/rewrite-env-file.js';
import { memory } from '../../src/providers/memory.js';
import { createResolver } from '../../src/resolver/client.js';
import { parseEnvSource } from '../../src/resolver/parse.js';
import { makeVault } from '../providers/local/vault-fixture.js';

describe('secret detection', () => {
  it.each([
    ['DB_PASSWORD', 'hunter2', 'name'],
    ['STRIPE_SECRET_KEY', 'sk_live_x', 'name'],
    ['GITHUB_TOKEN', 'ghp_abc', 'name'],
    ['AWS_CREDENTIALS', 'x', 'name'],
    ['DATABASE_URL', 'postgres://app:pa55@db:5432/app', 'url-credentials'],
    ['SESSION', 'Zx8fQ2vL9mN4pR7tW1yB3cD6', 'entropy'],
    ['NEXT_PUBLIC_API_KEY', 'pk_abc', undefined],
    ['TOKEN_TTL', '3600', undefined],
    ['KEY_ROTATION', 'true', undefined],
    ['DATABASE_URL', 'postgres://db:5432/app', undefined],
    ['HOME_PAGE', 'https://example.com/a/b/c/d/e/f/g', undefined],
    ['PORT', '8080', undefined],
    ['GREETING', 'hello world how are you', undefined],
    ['API_KEY', '$<secret:api>', undefined],
    ['API_KEY', '', undefined],
  ])('%s=%s → %s', (key, value, reason) => {
    expect(secretReason(key, value)).toBe(reason);
  });

  it('--keys overrides the heuristics', () => {
    expect(secretReason('PORT', '8080', { keys: ['PORT'] })).toBe('keys');
    expect(secretReason('DB_PASSWORD', 'x', { keys: ['PORT'] })).toBeUndefined();
  });
});

describe('rewriting', () => {
  it('keeps comments, blank lines, export, order and quoting', () => {
    const source = [
      '# database',
      'export DB_PASSWORD="p@ss word" # inline comment',
      '',
      "SINGLE='lit$eral'",
      'BACK=`multi',
      'line`',
      'PLAIN = bare   # c',
      'EMPTY=',
      'KEEP=1',
      'DB_PASSWORD=again',
      '',
    ].join('\n');
    const out = rewriteValues(
      source,
      '.env',
      new Map([
        ['DB_PASSWORD', '"$<secret:DB_PASSWORD>"'],
        ['SINGLE', '"$<secret:SINGLE>"'],
        ['BACK', '`$<secret:BACK>`'],
        ['PLAIN', '$<secret:PLAIN>'],
        ['EMPTY', '$<secret:EMPTY>'],
      ]),
    );
    expect(out).toBe(
      [
        '# database',
        'export DB_PASSWORD="$<secret:DB_PASSWORD>" # inline comment',
        '',
        'SINGLE="$<secret:SINGLE>"',
        'BACK=`$<secret:BACK>`',
        'PLAIN = $<secret:PLAIN>   # c',
        'EMPTY=$<secret:EMPTY>',
        'KEEP=1',
        'DB_PASSWORD="$<secret:DB_PASSWORD>"',
        '',
      ].join('\n'),
    );
  });
});

/** A 200-key .env: secrets of every quoting, multi-line values, plain settings, comments. */
function bigEnv(): { text: string; secrets: Record<string, string> } {
  const lines: string[] = ['# generated fixture', ''];
  const secrets: Record<string, string> = {};
  for (let i = 0; i < 200; i++) {
    const n = String(i).padStart(3, '0');
    switch (i % 5) {
      case 0:
        lines.push(`SERVICE_${n}_PASSWORD=pw-${n}-Xk2#not-a-comment`.replace('#', ''));
        secrets[`SERVICE_${n}_PASSWORD`] = `pw-${n}-Xk2not-a-comment`;
        break;
      case 1:
        lines.push(`SERVICE_${n}_TOKEN="tok ${n} with spaces and 'quotes'"`);
        secrets[`SERVICE_${n}_TOKEN`] = `tok ${n} with spaces and 'quotes'`;
        break;
      case 2:
        lines.push(
          `# key ${n}`,
          `SERVICE_${n}_PRIVATE_KEY="-----BEGIN-----\\nline ${n}\\n-----END-----"`,
        );
        secrets[`SERVICE_${n}_PRIVATE_KEY`] = `-----BEGIN-----\nline ${n}\n-----END-----`;
        break;
      case 3:
        lines.push(`SERVICE_${n}_SECRET='single $literal ${n}'`);
        secrets[`SERVICE_${n}_SECRET`] = `single $literal ${n}`;
        break;
      default:
        lines.push(`SERVICE_${n}_PORT=${8000 + i}`);
    }
  }
  return { text: `${lines.join('\n')}\n`, secrets };
}

describe('migrate a 200-key .env into the local vault', () => {
  it('uploads, rewrites, validates, is idempotent, and rolls back', async () => {
    const vault = await makeVault();
    const store = vault.open();
    const resolver = createResolver({ providers: [store], cache: false, audit: false });
    const { text, secrets } = bigEnv();
    const file = join(vault.dir, '.env');
    writeFileSync(file, text);

    const plan = await migrateEnvFile({ file, resolver, to: 'local', dryRun: true });
    expect(plan.items).toHaveLength(160);
    expect(plan.diff).toHaveLength(320);
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect((await store.list('', {})).length).toBe(0);
    const planText = JSON.stringify(plan);
    for (const value of Object.values(secrets)) expect(planText).not.toContain(value);

    const report = await migrateEnvFile({ file, resolver, to: 'local', validate: true });
    expect(report.ok).toBe(true);
    expect(report.rewritten).toBe(true);
    expect(report.validation).toMatchObject({
      ok: true,
      keys: 200,
      mismatched: [],
      unresolved: [],
    });
    expect(report.items.every((i) => i.action === 'create' && i.status === 'done')).toBe(true);
    const rewritten = readFileSync(file, 'utf8');
    for (const value of Object.values(secrets)) expect(rewritten).not.toContain(value);
    expect(rewritten).toContain(
      '# key 002\nSERVICE_002_PRIVATE_KEY="$<secret:SERVICE_002_PRIVATE_KEY>"',
    );
    expect(rewritten).toContain('SERVICE_004_PORT=8004');
    expect(await store.get('SERVICE_002_PRIVATE_KEY', {})).toBe(secrets.SERVICE_002_PRIVATE_KEY);
    const { backup, manifest } = migrationPaths(file);
    expect(readFileSync(backup, 'utf8')).toBe(text);
    expect(JSON.stringify(JSON.parse(readFileSync(manifest, 'utf8')))).not.toContain('pw-');

    // Nothing left to migrate; validation still holds.
    const again = await migrateEnvFile({ file, resolver, to: 'local', validate: true });
    expect(again.items).toHaveLength(0);
    expect(again.validation?.ok).toBe(true);

    // A store value changed behind the file's back is caught, by name only.
    await store.set('SERVICE_000_PASSWORD', 'tampered', {});
    const broken = await validateMigration({ file, resolver });
    expect(broken).toMatchObject({ ok: false, mismatched: ['SERVICE_000_PASSWORD'] });

    const rolled = await rollbackMigration({ file, resolver, deleteUploaded: true });
    expect(rolled).toMatchObject({ ok: true, restored: true });
    expect(rolled.deleted).toHaveLength(160);
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect((await store.list('', {})).length).toBe(0);
    expect(existsSync(backup) || existsSync(manifest)).toBe(false);
  }, 60_000);
});

describe('migrate failures', () => {
  it('an upload failure leaves the file alone; a re-run resumes without re-uploading', async () => {
    const vault = await makeVault();
    const store = memory({ id: 'm' });
    const resolver = createResolver({
      providers: [store],
      cache: false,
      audit: false,
      retry: { attempts: 1 },
    });
    const file = join(vault.dir, '.env');
    const text = 'A_TOKEN=aaa\nB_TOKEN=bbb\nC_TOKEN=ccc\nPORT=1\n';
    writeFileSync(file, text);
    store.fail('B_TOKEN', 'UNAVAILABLE');
    const first = await migrateEnvFile({ file, resolver, to: 'm' });
    expect(first.ok).toBe(false);
    expect(first.rewritten).toBe(false);
    expect(first.items.find((i) => i.key === 'B_TOKEN')?.error?.code).toBe('UNAVAILABLE');
    expect(readFileSync(file, 'utf8')).toBe(text);

    store.fail('B_TOKEN', undefined);
    // The first run never wrote (B failed its pre-read), so all three upload now.
    store.resetCalls();
    const second = await migrateEnvFile({ file, resolver, to: 'm', validate: true });
    expect(second.ok).toBe(true);
    expect(store.calls.set).toBe(3);
    expect(readFileSync(file, 'utf8')).toBe(
      'A_TOKEN=$<secret:A_TOKEN>\nB_TOKEN=$<secret:B_TOKEN>\nC_TOKEN=$<secret:C_TOKEN>\nPORT=1\n',
    );
  });

  it('a secret is in the manifest before it is written: a write that landed unanswered is rolled back', async () => {
    const vault = await makeVault();
    const store = memory({ id: 'm' });
    // The store applies B_TOKEN's write and never answers (a timeout after a write that landed,
    // or a kill right after it): migrate never learns that B_TOKEN was created.
    const unanswered: typeof store = {
      ...store,
      async set(name, value, ctx) {
        const written = await store.set!(name, value, ctx);
        if (name === 'B_TOKEN') await new Promise(() => {});
        return written;
      },
    };
    const file = join(vault.dir, '.env');
    const text = 'A_TOKEN=aaa\nB_TOKEN=bbb\nC_TOKEN=ccc\n';
    writeFileSync(file, text);
    const resolver = createResolver({
      providers: [unanswered],
      cache: false,
      audit: false,
      timeout: 200,
      retry: { attempts: 1 },
    });
    const first = await migrateEnvFile({ file, resolver, to: 'm' });
    expect(first.ok).toBe(false);
    expect(first.items.find((i) => i.key === 'B_TOKEN')?.error?.code).toBe('TIMEOUT');
    const { manifest } = migrationPaths(file);
    expect(JSON.parse(readFileSync(manifest, 'utf8')).created).toEqual([
      'A_TOKEN',
      'B_TOKEN',
      'C_TOKEN',
    ]);
    // A new process rolls back: every secret this migration wrote is deleted, B_TOKEN too, and the
    // file is the original.
    const fresh = createResolver({ providers: [store], cache: false, audit: false });
    const rolled = await rollbackMigration({ file, resolver: fresh, deleteUploaded: true });
    expect(rolled.ok).toBe(true);
    expect(rolled.deleted.sort()).toEqual(['A_TOKEN', 'B_TOKEN', 'C_TOKEN']);
    expect(await fresh.list('', { provider: 'm' })).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('a refused write is taken off the manifest: read-only credentials roll back, deleting nothing', async () => {
    const vault = await makeVault();
    const store = memory({ id: 'm' });
    const denied = () => new EnvmuxError('ACCESS_DENIED', 'read-only', { provider: 'm' });
    // Credentials that may read but neither write nor delete.
    const readOnly: typeof store = {
      ...store,
      async set() {
        throw denied();
      },
      async delete() {
        throw denied();
      },
    };
    const file = join(vault.dir, '.env');
    const text = 'A_TOKEN=aaa\nB_TOKEN=bbb\n';
    writeFileSync(file, text);
    const resolver = createResolver({ providers: [readOnly], cache: false, audit: false });
    const first = await migrateEnvFile({ file, resolver, to: 'm' });
    expect(first.items.map((i) => i.error?.code)).toEqual(['ACCESS_DENIED', 'ACCESS_DENIED']);
    expect(JSON.parse(readFileSync(migrationPaths(file).manifest, 'utf8')).created).toEqual([]);
    const rolled = await rollbackMigration({ file, resolver, deleteUploaded: true });
    expect(rolled.ok).toBe(true);
    expect(rolled.deleted).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('a different value already in the store is a conflict unless overwrite; equal is reused', async () => {
    const vault = await makeVault();
    const store = memory({ id: 'm', values: { A_TOKEN: 'other', B_TOKEN: 'bbb' } });
    const resolver = createResolver({ providers: [store], cache: false, audit: false });
    const file = join(vault.dir, '.env');
    writeFileSync(file, 'A_TOKEN=aaa\nB_TOKEN=bbb\n');
    const conflict = await migrateEnvFile({ file, resolver, to: 'm' });
    expect(conflict.ok).toBe(false);
    expect(conflict.items[0]?.error?.code).toBe('CONFIG');
    expect(JSON.stringify(conflict)).not.toMatch(/aaa|other/);
    store.resetCalls();
    const ok = await migrateEnvFile({
      file,
      resolver,
      to: 'm',
      overwrite: true,
      keys: ['A_TOKEN', 'B_TOKEN'],
    });
    expect(ok.items.map((i) => i.action)).toEqual(['update', 'reuse']);
    expect(store.calls.set).toBe(1);
    // Rollback deletes only what it created: nothing here.
    const rolled = await rollbackMigration({ file, resolver, deleteUploaded: true });
    expect(rolled.deleted).toEqual([]);
    expect(await resolver.get('B_TOKEN', { provider: 'm' })).toBe('bbb');
  });

  it('--keys naming a key the file lacks, and a second migration over a live one, are CONFIG', async () => {
    const vault = await makeVault();
    const store = memory({ id: 'm' });
    const resolver = createResolver({ providers: [store], cache: false, audit: false });
    const file = join(vault.dir, '.env');
    writeFileSync(file, 'A_TOKEN=aaa\n');
    await expect(migrateEnvFile({ file, resolver, to: 'm', keys: ['NOPE'] })).rejects.toMatchObject(
      {
        code: 'CONFIG',
      },
    );
    await migrateEnvFile({ file, resolver, to: 'm' });
    writeFileSync(file, `${readFileSync(file, 'utf8')}B_TOKEN=bbb\n`);
    await expect(migrateEnvFile({ file, resolver, to: 'm' })).rejects.toMatchObject({
      code: 'CONFIG',
    });
    await expect(rollbackMigration({ file: join(vault.dir, 'none.env') })).rejects.toMatchObject({
      code: 'CONFIG',
    });
    expect(parseEnvSource(readFileSync(file, 'utf8'), '.env').map((e) => e.key)).toEqual([
      'A_TOKEN',
      'B_TOKEN',
    ]);
  });
});
