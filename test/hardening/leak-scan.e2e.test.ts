// Leak scan: every entry point, CLI command and error path runs with distinctive secret values,
// and everything they emit — stdout, stderr, thrown errors (message, stack, cause, properties,
// util.inspect), audit entries and audit files, debug output, validation output — is searched for
// those values in raw, base64, base64url and URL-encoded form. Zero hits is the bar.

import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeCase, runCli, runNode } from '../e2e/consumer.js';
import { expectNoLeak } from './leak-forms.js';

const SECRETS = {
  db: 'LeakCanary-DB-9f8e7d6c5b4a',
  token: 'LeakCanary/Token+With=Symbols&?',
  json: JSON.stringify({ password: 'LeakCanary-JSON-field-1234', port: 'not-a-number-LeakCanary' }),
  pem: '-----BEGIN KEY-----\nLeakCanaryPemLine1\nLeakCanaryPemLine2\n-----END KEY-----',
};
const VALUES = [
  SECRETS.db,
  SECRETS.token,
  'LeakCanary-JSON-field-1234',
  'not-a-number-LeakCanary',
  'LeakCanaryPemLine1',
  'LeakCanaryPemLine2',
];

function expectClean(label: string, text: string, values: string[] = VALUES): void {
  expectNoLeak(label, text, values);
}

const config = (extra = '') => `import { defineProvider } from 'envmux';
import { z } from 'zod';
const values = ${JSON.stringify({ db: SECRETS.db, token: SECRETS.token, json: SECRETS.json, pem: SECRETS.pem })};
export default {
  providers: [
    defineProvider({ id: 'store', async get(name) { await new Promise((r) => setTimeout(r, 5)); return values[name]; } }),
  ],
  ${extra}
};
`;
const schema =
  'schema: z.object({ PORT: z.coerce.number(), DB: z.string().max(3), TOKEN: z.email(), PEM: z.string().regex(/^x$/) }),';
const goodEnv =
  'DB=$<secret:db>\nTOKEN=$<secret:token>\nPORT=$<secret:json#port>\nPW=$<secret:json#password>\nPEM=$<secret:pem>\n';
const badEnv = `${goodEnv}MISSING=$<secret:nope>\nBROKEN=$<secret:db\nNOTJSON=$<secret:db#field>\n`;

describe('leak scan: no secret value in any output', () => {
  it('register preload: success, failure, debug, strict=false', () => {
    const app = 'process.stdout.write("ran\\n");';
    for (const [env, extra] of [
      [goodEnv, {}],
      [goodEnv, { ENVMUX_DEBUG: '1' }],
      [badEnv, {}],
      [badEnv, { ENVMUX_DEBUG: '1' }],
      [badEnv, { ENVMUX_STRICT: 'false' }],
    ] as const) {
      const dir = makeCase({ 'envmux.config.mjs': config(), '.env': env, 'app.cjs': app });
      const r = runNode(['-r', 'envmux/register', 'app.cjs'], dir, extra);
      expectClean(`register ${JSON.stringify(extra)} stdout`, r.stdout);
      expectClean(`register ${JSON.stringify(extra)} stderr`, r.stderr);
    }
  });

  it('loadConfig errors (resolution and validation): message, stack, cause, properties, inspect, audit', () => {
    const script = `import { loadConfig, createResolver } from 'envmux';
import { inspect } from 'node:util';
import options from './envmux.config.mjs';
const dump = (e) => [e.message, e.stack, String(e.cause), JSON.stringify(e), inspect(e, { depth: 20, showHidden: true }),
  ...(e.errors ?? []).map((x) => inspect(x, { depth: 20, showHidden: true }) + JSON.stringify(x) + String(x.cause?.stack))].join('\\n');
const out = [];
for (const files of [['bad.env'], ['good.env']]) {
  try { await loadConfig({ files, configFile: false, ...options, audit: { file: 'audit.jsonl' } }); out.push('no error'); }
  catch (e) { out.push(dump(e)); }
}
const r = createResolver({ providers: options.providers });
for (const call of [() => r.get('nope'), () => r.get('db', { field: 'x' }), () => r.getMany(['db', 'nope'])]) {
  try { await call(); } catch (e) { out.push(dump(e)); }
}
out.push(JSON.stringify(r.audit()));
console.log(out.join('\\n'));
`;
    const dir = makeCase({
      'envmux.config.mjs': config(schema),
      'good.env': goodEnv,
      'bad.env': badEnv,
      'scan.mjs': script,
    });
    const r = runNode(['scan.mjs'], dir);
    expect(r.stdout).toContain('VALIDATION_FAILED');
    expect(r.stdout).toContain('NOT_FOUND');
    expectClean('loadConfig errors', r.stdout + r.stderr);
    expectClean('audit file', readFileSync(join(dir, 'audit.jsonl'), 'utf8'));
  });

  it('CLI: check (text, --json, --no-resolve, schema), run (masked, failing), --help', () => {
    for (const [env, withSchema] of [
      [goodEnv, false],
      [badEnv, false],
      [goodEnv, true],
    ] as const) {
      const dir = makeCase({ 'envmux.config.mjs': config(withSchema ? schema : ''), '.env': env });
      for (const args of [
        ['check'],
        ['check', '--json'],
        ['check', '--no-resolve'],
        ['--help'],
        ['check', '--help'],
        ['run', '--help'],
      ]) {
        const r = runCli(args, dir);
        expectClean(`envmux ${args.join(' ')} stdout`, r.stdout);
        expectClean(`envmux ${args.join(' ')} stderr`, r.stderr);
      }
      const run = runCli(
        [
          'run',
          '--',
          'sh',
          '-c',
          'echo "$DB $TOKEN $PW"; echo "$PEM" >&2; printf %s "$DB" | base64; node -e "console.log(encodeURIComponent(process.env.TOKEN))"',
        ],
        dir,
      );
      expectClean('envmux run stdout', run.stdout);
      expectClean('envmux run stderr', run.stderr);
    }
  });

  it('CLI: every vault command but `get`, the vault behind the preload, and its error paths', () => {
    const dir = makeCase({
      '.env': 'DB=$<secret:db>\nTOKEN=$<secret:api/token>\n',
      'app.cjs': 'process.stdout.write("ran\\n");',
    });
    const outputs: string[] = [];
    const cli = (args: string[], input?: string, env: Record<string, string> = {}) => {
      const r = runCli(args, dir, env, input === undefined ? {} : { input });
      outputs.push(`$ envmux ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
      return r;
    };
    expect(cli(['vault', 'init']).status).toBe(0);
    expect(cli(['vault', 'set', 'db', '--description', 'primary'], SECRETS.db).status).toBe(0);
    expect(cli(['vault', 'set', 'db'], `${SECRETS.db}-v2`).status).toBe(0);
    expect(cli(['vault', 'set', 'api/token', '--expires-in', '7d'], SECRETS.token).status).toBe(0);
    for (const args of [
      ['vault', 'list'],
      ['vault', 'list', '--json'],
      ['vault', 'list', '--masked'],
      ['vault', 'versions', 'db'],
      ['vault', 'restore', 'db', '1'],
      ['vault', 'cleanup'],
      ['vault', 'rotate-key', '--yes'],
      ['generate', '--length', '40'],
    ]) {
      expect(cli(args).status, args.join(' ')).toBe(0);
    }
    const app = runNode(['-r', 'envmux/register', 'app.cjs'], dir, { ENVMUX_DEBUG: '1' });
    expect(app.stdout).toBe('ran\n');
    outputs.push(app.stdout + app.stderr);
    // Error paths: a wrong key, a tampered vault.
    const wrong = cli(['vault', 'list', '--masked'], undefined, {
      ENVMUX_VAULT_KEY: Buffer.alloc(32, 7).toString('base64'),
    });
    expect(wrong.status).not.toBe(0);
    const vault = join(dir, '.envmux/vault.json');
    const text = readFileSync(vault, 'utf8');
    writeFileSync(
      vault,
      text.replace(/"data":"([A-Za-z0-9+/])/, (m, c) => m.slice(0, -1) + (c === 'A' ? 'B' : 'A')),
    );
    const tampered = runNode(['-r', 'envmux/register', 'app.cjs'], dir);
    expect(tampered.status).toBe(1);
    outputs.push(tampered.stdout + tampered.stderr);
    cli(['vault', 'versions', 'db']);
    const all = outputs.join('\n');
    expectClean('vault CLI', all.replace(/\*\*\*[^\s"]{1,3}/g, '***'));
    expectClean('vault file', text);
    expect(cli(['vault', 'rm', 'api/token', '--yes']).status).toBeDefined();
    expectClean('vault rm', outputs[outputs.length - 1]!);
  });

  describe('hostile cases: nested references, providers quoting values, validators quoting input', () => {
    const HOSTILE = {
      inner: 'LeakCanary-Inner-Name-5e6f',
      long: `LeakCanary-Long-${'L'.repeat(300)}`,
      cfg: JSON.stringify({ host: 'LeakCanary-Parsed-Host', port: 'LeakCanary-Parsed-Port' }),
      loud: 'leakcanary-loud-value',
      tiny: 'Q7~',
      bad: 'LeakCanary{NotJson',
    };
    const HOSTILE_VALUES = [
      HOSTILE.inner,
      HOSTILE.long,
      HOSTILE.long.slice(0, 24),
      'LeakCanary-Parsed-Host',
      'LeakCanary-Parsed-Port',
      HOSTILE.loud,
      HOSTILE.loud.toUpperCase(),
      HOSTILE.tiny,
      HOSTILE.bad,
    ];
    const hostileConfig = `import { defineProvider } from 'envmux';
import { z } from 'zod';
const values = ${JSON.stringify(HOSTILE)};
const checks = {
  CFG: z.string().transform((s) => JSON.parse(s)).pipe(z.object({
    host: z.number(),
    port: z.string().refine(() => false, { error: (i) => 'bad ' + i.input }),
  })),
  LOUD: z.string().refine(() => false, { error: (i) => 'got ' + String(i.input).toUpperCase() }),
  TINY: z.string().min(10, { error: (i) => 'got ' + i.input }),
};
export default {
  providers: [
    defineProvider({
      id: 'hostile',
      async get(name) {
        await new Promise((r) => setTimeout(r, 5));
        if (name === 'boom') throw new Error('value was ' + values.long);
        if (name === 'boom2') throw new Error('inner=' + values.inner + ' cfg=' + JSON.stringify(values.cfg) + ' ' + encodeURIComponent(values.loud));
        if (name === 'denied') throw Object.assign(new Error('no access to ' + name), { status: 403 });
        return values[name];
      },
    }),
  ],
  audit: { file: 'audit.jsonl' },
  // Its failures are on purpose: no circuit breaker, so each key reports its own cause.
  breaker: false,
  schema: process.env.SCHEMA === 'throw'
    ? z.object({ BAD: z.string().transform((s) => JSON.parse(s)) })
    : z.object(checks),
};
`;
    const hostileEnv = [
      'INNER=$<secret:inner>',
      'LONG=$<secret:long>',
      'CFG=$<secret:cfg>',
      'LOUD=$<secret:loud>',
      'TINY=$<secret:tiny>',
      'BAD=$<secret:bad>',
      'NESTED=$<secret:$<secret:inner>>',
      'NESTED2=$<hostile:pre-$<secret:inner>#field?version=$<secret:inner>>',
      'NESTED3=$<secret:denied-$<secret:inner>>',
      'BOOM=$<secret:boom>',
      'BOOM2=$<secret:boom2>',
      '',
    ].join('\n');
    const dump = `const dump = (e) => [e.message, e.stack, String(e.cause), JSON.stringify(e), inspect(e, { depth: 20, showHidden: true }),
  ...(e.errors ?? []).map((x) => inspect(x, { depth: 20, showHidden: true }) + JSON.stringify(x) + String(x.cause?.stack) + JSON.stringify(Object.entries(x)))].join('\\n');`;

    for (const schemaKind of ['issues', 'throw']) {
      it(`every entry point, every output path (schema: ${schemaKind})`, () => {
        const dir = makeCase({
          'envmux.config.mjs': hostileConfig,
          '.env': hostileEnv,
          'app.cjs': 'process.stdout.write("ran\\n");',
          'scan.mjs': `import { loadConfig } from 'envmux';
import { inspect } from 'node:util';
${dump}
try { await loadConfig(); console.log('no error'); } catch (e) { console.log(dump(e)); }
`,
        });
        const env = { SCHEMA: schemaKind };
        const outputs: [string, string][] = [];
        const extras: Record<string, string>[] = [
          {},
          { ENVMUX_DEBUG: '1' },
          { ENVMUX_STRICT: 'false' },
        ];
        for (const extra of extras) {
          const r = runNode(['-r', 'envmux/register', 'app.cjs'], dir, { ...env, ...extra });
          outputs.push([`register ${JSON.stringify(extra)}`, r.stdout + r.stderr]);
          if (!('ENVMUX_STRICT' in extra)) {
            expect(r.status).toBe(1);
            expect(r.stderr).toContain('NESTED $<secret:$<secret:inner>>: NOT_FOUND');
            expect(r.stderr).toContain('secret "$<secret:inner>" was not found');
          }
        }
        const loaded = runNode(['scan.mjs'], dir, env);
        outputs.push(['loadConfig', loaded.stdout + loaded.stderr]);
        expect(loaded.stdout).toContain('VALIDATION_FAILED');
        expect(loaded.stdout).toContain('provider \\"hostile\\" failed');
        for (const args of [
          ['check'],
          ['check', '--json'],
          ['run', '--', 'sh', '-c', 'echo ran'],
        ]) {
          const r = runCli(args, dir, env);
          expect(r.status, args.join(' ')).toBe(1);
          outputs.push([`envmux ${args.join(' ')}`, r.stdout + r.stderr]);
        }
        if (schemaKind === 'throw') {
          expect(loaded.stdout).toContain('BAD: VALIDATION_FAILED: the schema threw');
        } else {
          expect(loaded.stdout).toContain('TINY: VALIDATION_FAILED: too small');
        }
        const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8');
        expect(audit).toContain('"key":"$<secret:inner>"');
        outputs.push(['audit file', audit]);
        for (const [label, text] of outputs) {
          expectClean(label, text, [...VALUES, ...HOSTILE_VALUES]);
        }
      });
    }
  });

  describe('management commands: every command, its JSON, and its error paths', () => {
    // A store that quotes values in every error it throws (a provider body echoing the request).
    const manageConfig = `import { defineProvider } from 'envmux';
const values = ${JSON.stringify({ db: SECRETS.db, token: SECRETS.token, pem: SECRETS.pem })};
const quote = (v) => v + ' ' + encodeURIComponent(v) + ' ' + Buffer.from(v).toString('base64');
export default {
  providers: [
    'local',
    defineProvider({
      id: 'leaky',
      async get(name) {
        if (name === 'boom') throw Object.assign(new Error('body: ' + quote(values.db)), { status: 500, body: values.db });
        return values[name];
      },
      async set(name, value) {
        throw Object.assign(new Error('refused write of ' + quote(value)), { status: 403, body: { value } });
      },
      async delete(name) { throw new Error('cannot delete ' + quote(values[name] ?? values.token)); },
      async list(prefix) { return Object.keys(values).filter((n) => n.startsWith(prefix)).map((name) => ({ name })); },
      async versions(name) { throw new Error('history: ' + quote(values[name] ?? values.db)); },
      async rotate(name) { throw new Error('rotation failed for ' + quote(values.token)); },
      async health() { throw new Error('unhealthy: ' + quote(values.token)); },
    }),
  ],
};
`;
    const plainEnv = [
      '# plain .env to migrate',
      `DB_PASSWORD=${SECRETS.db}`,
      `API_TOKEN="${SECRETS.token}"`,
      `PEM_PRIVATE_KEY="${SECRETS.pem.replace(/\n/g, '\\n')}"`,
      'PORT=8080',
      '',
    ].join('\n');

    /** Commands `envmux --help` lists (the backup and restore commands arrive from another branch). */
    const listed = (dir: string) =>
      new Set([...runCli(['--help'], dir).stdout.matchAll(/^ {2}([a-z-]+)\b/gm)].map((m) => m[1]!));

    it('no value on stdout (but get and export) or stderr, on success and on failure', {
      timeout: 400_000,
    }, () => {
      const dir = makeCase({ 'envmux.config.mjs': manageConfig, '.env': plainEnv });
      const outputs: Array<[string, string]> = [];
      /** Run and keep stderr (and stdout unless `valuesOnStdout`) for the scan. */
      const cli = (
        args: string[],
        opts: { input?: string; valuesOnStdout?: boolean; env?: Record<string, string> } = {},
      ) => {
        const r = runCli(
          args,
          dir,
          opts.env ?? {},
          opts.input === undefined ? {} : { input: opts.input },
        );
        const label = `envmux ${args.join(' ')} (exit ${r.status})`;
        outputs.push([`${label} stderr`, r.stderr]);
        if (!opts.valuesOnStdout) outputs.push([`${label} stdout`, r.stdout]);
        expect(r.stderr, label).not.toMatch(/\n\s+at /);
        return r;
      };
      expect(cli(['vault', 'init']).status).toBe(0);
      // migrate: the dry-run diff, the upload with --validate, rollback and redo.
      expect(cli(['migrate', '.env', '--to', 'local', '--dry-run']).status).toBe(0);
      expect(cli(['migrate', '.env', '--to', 'local', '--dry-run', '--json']).status).toBe(0);
      expect(cli(['migrate', '.env', '--to', 'local', '--validate', '--json']).status).toBe(0);
      expect(cli(['migrate', '.env', '--rollback', '--delete-uploaded']).status).toBe(0);
      expect(cli(['migrate', '.env', '--to', 'local', '--validate']).status).toBe(0);
      // The store commands on the vault.
      expect(
        cli(['set', 'extra/one', '--provider', 'local'], { input: `${SECRETS.token}\n` }).status,
      ).toBe(0);
      for (const args of [
        ['list', '--provider', 'local'],
        ['list', '--provider', 'local', '--json'],
        ['list', 'DB_*', '--provider', 'local'],
        ['versions', 'DB_PASSWORD', '--provider', 'local'],
        ['versions', 'DB_PASSWORD', '--provider', 'local', '--json'],
        ['rotate', 'extra/one', '--provider', 'local'],
        ['status'],
        ['status', '--json', '--provider', 'local'],
        ['copy', '--from', 'local', '--to', 'memory', '--dry-run'],
        ['copy', '--from', 'local', '--to', 'memory', '--dry-run', '--json'],
        ['copy', '--from', 'local', '--to', 'memory', '--verify'],
        ['copy', '--from', 'local', '--to', 'memory', '--verify', '--json'],
        ['doctor'],
        ['doctor', '--json'],
        ['explain', 'DB_PASSWORD'],
        ['explain', 'PEM_PRIVATE_KEY', '--json'],
        ['audit'],
        ['audit', '--json'],
        ['plan'],
        ['plan', '--json', '--rate', '100/day'],
        ['rm', 'extra/one', '--provider', 'local'],
      ]) {
        cli(args, { env: { ENVMUX_VAULT_AUDIT: '1' } });
      }
      // The two commands whose stdout holds values: their stderr only.
      expect(
        cli(['get', 'DB_PASSWORD', '--provider', 'local'], { valuesOnStdout: true }).status,
      ).toBe(0);
      expect(cli(['export', '--format', 'json'], { valuesOnStdout: true }).status).toBe(0);
      // export to a file: nothing on stdout.
      const toFile = cli(['export', '--format', 'dotenv', '-o', 'out.env']);
      expect(toFile.status).toBe(0);
      expect(toFile.stdout).toBe('');
      expect(readFileSync(join(dir, 'out.env'), 'utf8')).toContain(SECRETS.db);

      // Error paths: a store whose errors quote values, a wrong name, a refused write (the store
      // quotes the value written: scrubbed). Exit codes of these are pinned elsewhere; here each
      // must fail or succeed without a value in its output.
      for (const args of [
        ['get', 'boom', '--provider', 'leaky'],
        ['get', 'nope', '--provider', 'local'],
        ['get', 'DB_PASSWORD', '--provider', 'nosuch'],
        ['rm', 'db', '--provider', 'leaky'],
        ['rm', 'nope', '--provider', 'local'],
        ['versions', 'db', '--provider', 'leaky'],
        ['versions', 'nope', '--provider', 'local'],
        ['rotate', 'db', '--provider', 'leaky'],
        ['status', '--provider', 'leaky'],
        ['status', '--json', '--provider', 'leaky'],
        ['copy', '--from', 'local', '--to', 'leaky'],
        ['copy', '--from', 'local', '--to', 'leaky', '--json', '--verify'],
        ['copy', '--from', 'leaky', '--to', 'memory', '--verify', '--json'],
        ['copy', '--from', 'local', '--to', 'nosuch'],
        ['migrate', 'out.env', '--to', 'leaky', '--json'],
        ['migrate', 'out.env', '--to', 'leaky', '--validate'],
        ['explain', 'NOPE'],
        ['doctor', '--json'],
        ['export', '--format', 'gitlab', '-o', 'gl.env'],
        ['plan', '--rate', 'lots'],
        ['audit', '--since', 'soon'],
      ]) {
        cli(args);
      }
      const refused = cli(['set', 'db', '--provider', 'leaky'], { input: `${SECRETS.token}\n` });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toBe(
        'envmux: ACCESS_DENIED: provider "leaky" failed (Error, HTTP 403)\n',
      );
      const copied = cli(['copy', '--from', 'local', '--to', 'leaky', '--json']);
      expect(copied.status).toBe(1);
      expect(JSON.parse(copied.stdout).counts.failed).toBe(3);

      // backup (with the vault's raw key from the environment) and restore, their errors included.
      const commands = listed(dir);
      for (const command of ['plan', 'backup', 'restore']) expect(commands.has(command)).toBe(true);
      writeFileSync(join(dir, 'backup.key'), randomBytes(32).toString('base64'), { mode: 0o600 });
      const key = ['--key-file', 'backup.key'];
      for (const args of [
        ['backup', '--help'],
        ['backup', '--from', 'local', '--out', 'all.backup', ...key],
        ['backup', '--from', 'leaky', '--out', 'leaky.backup', ...key],
        ['restore', '--help'],
        ['restore', 'all.backup', '--to', 'memory', '--verify', ...key],
        ['restore', 'missing.backup', '--to', 'memory', ...key],
        ['restore', 'all.backup', '--to', 'leaky', ...key],
      ]) {
        const r = cli(args);
        if (args[2] === 'local' || (args[3] === 'memory' && args[1] === 'all.backup')) {
          expect(r.status, r.stderr).toBe(0);
        }
      }
      // The backup really ran: its file exists and holds no value either.
      expectClean('backup file', readFileSync(join(dir, 'all.backup'), 'latin1'));

      expect(outputs.length).toBeGreaterThan(60);
      // A store's own error text is never repeated (src/errors.ts toEnvmuxError): even a read that
      // fails, with no known value to scrub, cannot print what the store quoted.
      for (const [label, text] of outputs) {
        expectClean(label, text.replace(/\*\*\*[^\s"]{1,3}/g, '***'));
      }
      expectClean('vault audit file', readFileSync(join(dir, '.envmux/audit.jsonl'), 'utf8'));
    });
  });
});
