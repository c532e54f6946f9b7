// `envmux check` from the packed package: exit codes, every problem with file:line, the --json
// shape, --no-resolve fetching nothing, schema failures named by key — and never a value.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeCase, runCli } from './consumer.js';

const SECRET = 's3cr3t-value-123';

/** A provider that records every fetch in fetches.log beside the config. */
const config = (extra = '') => `import { appendFileSync } from 'node:fs';
import { defineProvider } from 'envmux';
${extra ? "import { z } from 'zod';" : ''}
export default {
  providers: [
    defineProvider({
      id: 'store',
      async get(name) {
        appendFileSync(new URL('./fetches.log', import.meta.url), name + '\\n');
        return name === 'db' ? ${JSON.stringify(SECRET)} : name === 'port' ? 'not-a-port' : undefined;
      },
    }),
  ],
  ${extra}
};
`;

describe('envmux check', () => {
  it('exits 0 with a short summary on stderr when every reference resolves', () => {
    const dir = makeCase({
      'envmux.config.mjs': config(),
      '.env': "DB_PASSWORD=$<secret:db>\nPLAIN=x\nQUOTED='$<secret:not-a-ref>'\n",
    });
    const r = runCli(['check'], dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('envmux check: ok — 3 keys from .env, 1 reference resolved\n');
  });

  const broken = 'A=$<secret:db>\n\nD=$<secret:missing>\nE=$<nosuch:x>\nF=$<store:gone>\n';

  it('exits non-zero naming each unresolvable reference with file:line', () => {
    const dir = makeCase({ 'envmux.config.mjs': config(), '.env': broken });
    const r = runCli(['check'], dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('envmux check: 3 problems (.env)');
    expect(r.stderr).toContain('.env:3 D $<secret:missing>: NOT_FOUND');
    expect(r.stderr).toContain('.env:4 E $<nosuch:x>: INVALID_REFERENCE');
    expect(r.stderr).toContain('.env:5 F $<store:gone>: NOT_FOUND');
    expect(r.stderr).not.toContain(SECRET);
  });

  it('--json prints { ok, files, keys, problems } on stdout', () => {
    const dir = makeCase({ 'envmux.config.mjs': config(), '.env': broken });
    const r = runCli(['check', '--json'], dir);
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ ok: false, files: ['.env'], keys: 4, resolved: true });
    expect(report.problems).toEqual([
      {
        code: 'NOT_FOUND',
        key: 'D',
        file: '.env',
        line: 3,
        reference: '$<secret:missing>',
        message: expect.any(String),
        hint: expect.any(String),
      },
      expect.objectContaining({ code: 'INVALID_REFERENCE', key: 'E', line: 4 }),
      expect.objectContaining({ code: 'NOT_FOUND', key: 'F', line: 5 }),
    ]);
    expect(r.stdout).not.toContain(SECRET);

    const ok = runCli(
      ['check', '--json'],
      makeCase({ 'envmux.config.mjs': config(), '.env': 'A=$<secret:db>\n' }),
    );
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      ok: true,
      files: ['.env'],
      keys: 1,
      problems: [],
    });
    expect(ok.stdout).not.toContain(SECRET);
  });

  it('--no-resolve catches grammar errors, unknown schemes and cycles without fetching', () => {
    const dir = makeCase({
      'envmux.config.mjs': config(),
      '.env': [
        'A=$<secret:db>',
        'B=$<secret:db',
        'C=$<nosuch:x>',
        'D=$<store:db#field>',
        'E=$<env:F>',
        'F=x-$<env:E>',
        'G=$<secret:db?vers=1>',
        '',
      ].join('\n'),
    });
    const r = runCli(['check', '--no-resolve'], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('envmux check: 4 problems (.env)');
    expect(r.stderr).toContain('.env:2 B: INVALID_REFERENCE: unterminated reference');
    expect(r.stderr).toContain(
      '.env:3 C $<nosuch:x>: INVALID_REFERENCE: unknown provider "nosuch"',
    );
    expect(r.stderr).toMatch(/\.env:\d E: CYCLE: keys refer to each other: E \(\.env:5\) → F/);
    expect(r.stderr).toContain('.env:7 G: INVALID_REFERENCE: unknown option');
    expect(existsSync(join(dir, 'fetches.log'))).toBe(false);

    const good = makeCase({
      'envmux.config.mjs': config(),
      '.env': 'A=$<secret:db>\nD=$<store:missing#field>\nP=plain\n',
    });
    const ok = runCli(['check', '--no-resolve'], good);
    expect(ok.stderr).toBe(
      'envmux check: ok — 3 keys from .env, 2 references parsed, not resolved (--no-resolve)\n',
    );
    expect(ok.status).toBe(0);
    expect(existsSync(join(good, 'fetches.log'))).toBe(false);
  });

  it('reports an unknown --provider once, with exit code 2, used or not', () => {
    for (const env of ['A=$<secret:x>\nB=$<secret:y>\n', 'A=plain\n']) {
      for (const mode of [['--no-resolve'], []]) {
        const dir = makeCase({ '.env': env });
        const r = runCli(['check', ...mode, '--provider', 'no-such-store'], dir);
        expect(r.status).toBe(2);
        expect(r.stderr).toBe(
          'envmux check: 1 problem (no env files)\n  - CONFIG: unknown provider "no-such-store" in --provider (use a provider type (local, env, file, aws, ...) or the id of a provider of the config file)\n',
        );
      }
    }
  });

  it('validates the schema of the config file, naming the key, never the value', () => {
    const schema = `schema: z.object({
    PORT: z.coerce.number().int(),
    DB_PASSWORD: z.string().refine(() => false, { error: (issue) => 'rejected ' + issue.input }),
    MISSING: z.string(),
  }),`;
    const dir = makeCase({
      'envmux.config.mjs': config(schema),
      '.env': 'PORT=$<secret:port>\nDB_PASSWORD=$<secret:db>\n',
    });
    const r = runCli(['check'], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('envmux check: 3 problems');
    expect(r.stderr).toContain('.env:1 PORT: VALIDATION_FAILED');
    // A custom check's message may quote the input: it is rebuilt from the code.
    expect(r.stderr).toContain(
      '.env:2 DB_PASSWORD: VALIDATION_FAILED: failed a check of the schema',
    );
    expect(r.stderr).toContain('MISSING: VALIDATION_FAILED');
    expect(r.stderr).not.toContain(SECRET);
    expect(r.stderr).not.toContain('not-a-port');

    const json = runCli(['check', '--json'], dir);
    expect(json.stdout).not.toContain(SECRET);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, validated: true });

    const valid = makeCase({
      'envmux.config.mjs': config('schema: z.object({ DB_PASSWORD: z.string().min(8) }),'),
      '.env': 'DB_PASSWORD=$<secret:db>\n',
    });
    const ok = runCli(['check'], valid);
    expect(ok.stderr).toBe(
      'envmux check: ok — 1 key from .env, 1 reference resolved, schema valid\n',
    );
    expect(ok.status).toBe(0);
  });

  it('lints the raw file: malformed lines and unclosed quotes are errors, duplicates warnings', () => {
    const dir = makeCase({
      'envmux.config.mjs': config(),
      '.env': [
        'A=$<secret:db>',
        'BAD LINE',
        'K EY=3',
        '=novalue',
        '# a comment',
        'A=$<secret:db>',
        'API_TOKEN="$<secret:api/token>',
        '',
      ].join('\n'),
    });
    const r = runCli(['check'], dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    // Four lint errors, and the reference itself is not in the store.
    expect(r.stderr).toContain('envmux check: 5 problems, 1 warning (.env)');
    expect(r.stderr).toContain('.env:2: CONFIG: malformed line: not KEY=value (no "=")');
    expect(r.stderr).toContain('.env:3: CONFIG: malformed line: the key holds a space');
    expect(r.stderr).toContain('.env:4: CONFIG: malformed line: a value without a key');
    expect(r.stderr).toContain(
      '.env:7 API_TOKEN: CONFIG: the value of API_TOKEN opens a " quote that never closes',
    );
    expect(r.stderr).toContain(
      '  - warning: .env:6 A: CONFIG: A is set twice in this file (lines 1 and 6); the last one wins',
    );
    expect(r.stderr).not.toContain(SECRET);
    expect(r.stderr).not.toContain('novalue');

    const json = JSON.parse(runCli(['check', '--json'], dir).stdout);
    expect(json).toMatchObject({ ok: false, exitCode: 1, strict: false });
    expect(json.warnings).toEqual([expect.objectContaining({ key: 'A', line: 6 })]);
  });

  it('warnings pass unless --strict', () => {
    const dir = makeCase({
      'envmux.config.mjs': config(),
      '.env': 'A=$<secret:db>\nA=$<secret:db>\n',
    });
    const r = runCli(['check'], dir);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(
      'envmux check: ok — 1 key from .env, 1 reference resolved, 1 warning\n  - warning: .env:2 A: CONFIG: A is set twice in this file (lines 1 and 2); the last one wins (remove one of them)\n',
    );
    const strict = runCli(['check', '--strict'], dir);
    expect(strict.status).toBe(1);
    expect(strict.stderr).toContain(
      'envmux check: 0 problems, 1 warning (.env) (--strict: warnings fail)',
    );
  });

  it('fails a directory without env files', () => {
    const r = runCli(['check'], makeCase({}));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('CONFIG: no env file found: there is nothing to check');
    expect(r.stderr).toContain('looked for .env.local, .env');
  });

  it('reports a misspelled config key (error) and an unknown one (warning)', () => {
    const dir = makeCase({
      'envmux.config.json': JSON.stringify({ provders: ['env'], colour: true }),
      '.env': 'A=plain\n',
    });
    const r = runCli(['check'], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      'envmux.config.json: CONFIG: unknown config key "provders" (it is ignored) (did you mean "providers"?)',
    );
    expect(r.stderr).toContain(
      '  - warning: envmux.config.json: CONFIG: unknown config key "colour"',
    );
  });

  it('warns when --provider is given but no reference reads a provider', () => {
    const dir = makeCase({ '.env': 'A=plain\nB=$<env:HOME>\n' });
    const r = runCli(['check', '--provider', 'env'], dir);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(
      'warning: CONFIG: --provider was given, but no reference reads a provider',
    );
    expect(runCli(['check', '--strict', '--provider', 'env'], dir).status).toBe(1);
  });

  it('a usage error is exit code 2', () => {
    const r = runCli(['check', '-f'], makeCase({ '.env': 'A=x\n' }));
    expect(r.status).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--help describes the command', () => {
    const r = runCli(['check', '--help'], makeCase({}));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: envmux check [options]');
    expect(r.stdout).toContain('--no-resolve');
    expect(r.stdout).toContain('--json');
    expect(r.stdout).toContain('--strict');
    expect(r.stdout).toContain('Exit codes: 0');
    const top = runCli(['--help'], makeCase({}));
    expect(top.stdout).toMatch(/run \[options\] <command> \[args\.\.\.\]/);
    expect(top.stdout).toContain('check [options]');
  });
});
