// The last-known-good copy from the packed package: a good start writes it (sealed, no plaintext);
// with the store unreachable, `node -r envmux/register` (worker), `node --import envmux/register`,
// `envmux run` and loadConfig start from it with one stderr line giving its age; with the store
// refusing access, or the copy too old, the app is not started.

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeCase, runCli, runNode } from './consumer.js';

const SECRET = 'lkg-secret-value-7731';

/** A store that is down while `down` exists and refuses access while `denied` exists. */
const config = `import { defineProvider, EnvmuxError } from 'envmux';
import { existsSync } from 'node:fs';
export default {
  retry: { attempts: 1 },
  providers: [
    defineProvider({
      id: 'remote',
      async get(name) {
        if (existsSync('down')) throw new EnvmuxError('UNAVAILABLE', 'remote is down (test)');
        if (existsSync('denied')) throw new EnvmuxError('ACCESS_DENIED', 'remote says no (test)');
        return name === 'db' ? ${JSON.stringify(SECRET)} : undefined;
      },
    }),
  ],
};
`;

const LINE =
  /^envmux: every store unreachable; using last-known-good copy from \d+s ago \(max 24h\)$/m;

function project() {
  const dir = makeCase({
    'envmux.config.mjs': config,
    '.env': 'DB_PASSWORD=$<secret:db>\n',
    'app.cjs': `console.log(process.env.DB_PASSWORD === ${JSON.stringify(SECRET)} ? 'same' : 'different');\n`,
    'app.mjs': `console.log(process.env.DB_PASSWORD === ${JSON.stringify(SECRET)} ? 'same' : 'different');\n`,
    'load.mjs': `import { loadConfig } from 'envmux';
const c = await loadConfig();
console.log(c.DB_PASSWORD === ${JSON.stringify(SECRET)} ? 'same' : 'different');
`,
  });
  const env = {
    ENVMUX_LKG_PATH: '.envmux-lkg.json',
    ENVMUX_VAULT_KEY: randomBytes(32).toString('base64'),
  };
  return { dir, env };
}

describe('last-known-good copy', () => {
  it('every entry point starts from it when the store is down, with the age on stderr', () => {
    const { dir, env } = project();
    const first = runNode(['-r', 'envmux/register', 'app.cjs'], dir, env);
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe('same\n');
    const copy = join(dir, '.envmux-lkg.json');
    expect(existsSync(copy)).toBe(true);
    expect(readFileSync(copy, 'utf8')).not.toContain(SECRET);

    writeFileSync(join(dir, 'down'), '');
    for (const args of [
      ['-r', 'envmux/register', 'app.cjs'],
      ['--import', 'envmux/register', 'app.mjs'],
      ['load.mjs'],
    ]) {
      const r = runNode(args, dir, env);
      expect(r.stdout, args.join(' ')).toBe('same\n');
      expect(r.stderr, args.join(' ')).toMatch(LINE);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const run = runCli(['run', '--', 'node', 'app.cjs'], dir, env);
    expect(run.stdout).toBe('same\n');
    expect(run.stderr).toMatch(LINE);
    expect(run.status).toBe(0);
    // Masked like any served value.
    const shown = runCli(['run', '--', 'sh', '-c', 'echo "$DB_PASSWORD"'], dir, env);
    expect(shown.stdout).toBe('***\n');
  });

  it('fails closed after an access error, and when the copy is too old', () => {
    const { dir, env } = project();
    expect(runNode(['-r', 'envmux/register', 'app.cjs'], dir, env).stdout).toBe('same\n');
    writeFileSync(join(dir, 'denied'), '');
    const denied = runNode(['-r', 'envmux/register', 'app.cjs'], dir, env);
    expect(denied.status).toBe(1);
    expect(denied.stdout).toBe('');
    expect(denied.stderr).toMatch(/ACCESS_DENIED/);
    expect(denied.stderr).not.toMatch(/last-known-good/);

    rmSync(join(dir, 'denied'));
    writeFileSync(join(dir, 'down'), '');
    const old = runCli(['run', '--', 'node', 'app.cjs'], dir, {
      ...env,
      ENVMUX_LKG_MAX_AGE: '1ms',
    });
    expect(old.status).toBe(1);
    expect(old.stdout).toBe('');
    expect(old.stderr).toMatch(/EXPIRED/);
    expect(old.stderr).not.toContain(SECRET);
  });
});
