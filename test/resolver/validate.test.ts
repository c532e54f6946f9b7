// loadConfig with a schema: typed output, coercion, one error naming every bad key — and no
// secret value in any part of that error, or in the audit log.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { AuditLog, EnvmuxAggregateError, type EnvmuxError, loadConfig } from '../../src/index.js';
import { memory } from '../../src/providers/index.js';

function envFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'envmux-validate-'));
  writeFileSync(join(dir, '.env'), content);
  return dir;
}

const SECRET = 'Sup3r-S3cret-Value-9f2c';
const values = {
  port: 'not-a-number-SECRETISH',
  db: JSON.stringify({ password: SECRET, url: 'notaurl' }),
  token: SECRET,
};

const schema = z.object({
  PORT: z.coerce.number().int(),
  DEBUG: z.stringbool(),
  URL: z.url(),
  TOKEN: z.string().min(100),
  LEVEL: z.enum(['debug', 'info']),
  JSON_CFG: z.string().transform((s) => JSON.parse(s) as { a: number }),
  OPTIONAL: z.string().optional(),
});

describe('loadConfig with a schema', () => {
  it('returns typed, coerced, frozen values', async () => {
    const config = await loadConfig({
      cwd: envFile(
        'PORT=8080\nDEBUG=true\nURL=https://example.com/x\nTOKEN=$<secret:long>\nLEVEL=info\nJSON_CFG={"a":1}\n',
      ),
      providers: [memory({ values: { long: 'x'.repeat(120) } })],
      processEnv: {},
      configFile: false,
      audit: false,
      schema,
    });
    expectTypeOf(config.PORT).toEqualTypeOf<number>();
    expectTypeOf(config.DEBUG).toEqualTypeOf<boolean>();
    expectTypeOf(config.JSON_CFG).toEqualTypeOf<{ a: number }>();
    expectTypeOf(config.OPTIONAL).toEqualTypeOf<string | undefined>();
    expect(config).toMatchObject({
      PORT: 8080,
      DEBUG: true,
      URL: 'https://example.com/x',
      LEVEL: 'info',
      JSON_CFG: { a: 1 },
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('validates variables from the environment too', async () => {
    const config = await loadConfig({
      cwd: envFile('A=1\n'),
      processEnv: { PORT: '9' },
      configFile: false,
      schema: z.object({ A: z.string(), PORT: z.coerce.number() }),
    });
    expect(config).toEqual({ A: '1', PORT: 9 });
  });

  it('throws one error naming every bad key with its file:line, and never a value', async () => {
    const log = new AuditLog();
    const error = await loadConfig({
      cwd: envFile(
        'PORT=$<secret:port>\nDEBUG=$<secret:token>\nURL=$<secret:db#password>\nTOKEN=$<secret:token>\nLEVEL=$<secret:token>\nJSON_CFG={"a":1}\n',
      ),
      providers: [memory({ values })],
      processEnv: {},
      configFile: false,
      audit: { log },
      schema,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(EnvmuxAggregateError);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.errors.map((e: { key: string; line: number }) => `${e.key}:${e.line}`)).toEqual([
      'PORT:1',
      'DEBUG:2',
      'URL:3',
      'TOKEN:4',
      'LEVEL:5',
    ]);
    for (const e of error.errors) expect(e.code).toBe('VALIDATION_FAILED');
    const surfaces = [
      error.message,
      error.stack,
      String(error.cause),
      JSON.stringify(error),
      JSON.stringify(Object.entries(error)),
      inspect(error, { depth: 10, showHidden: true }),
      ...error.errors.map((e: Error) => inspect(e, { depth: 10, showHidden: true })),
      JSON.stringify(log.query()),
    ].join('\n');
    expect(surfaces).not.toContain(SECRET);
    expect(surfaces).not.toContain('SECRETISH');
    expect(surfaces).not.toContain(Buffer.from(SECRET).toString('base64'));
  });

  it('names keys that are missing altogether', async () => {
    const error = await loadConfig({
      cwd: envFile('A=1\n'),
      processEnv: {},
      configFile: false,
      schema: z.object({ A: z.string(), REQUIRED: z.string() }),
    }).catch((e) => e);
    expect(error.errors).toMatchObject([{ key: 'REQUIRED', code: 'VALIDATION_FAILED' }]);
    expect(error.errors[0].message).toContain('not set');
  });

  it('rejects something that is not a Standard Schema with CONFIG', async () => {
    await expect(
      loadConfig({ cwd: envFile('A=1\n'), processEnv: {}, configFile: false, schema: {} as never }),
    ).rejects.toMatchObject({ code: 'CONFIG' });
  });
});

describe('validation output is rebuilt from path and code, never from the message text', () => {
  const JSONISH = '{"host":"Parsed-Secret-Host-31","port":"Parsed-Port-Secret"}';
  const stores = () => [
    memory({
      values: { json: JSONISH, tiny: 'xyz', loud: 'quiet-secret-value', bad: 'Not{Json-Secret' },
    }),
  ];

  async function failing(env: string, schema: z.ZodType, audit = new AuditLog()) {
    const error = await loadConfig({
      cwd: envFile(env),
      providers: stores(),
      processEnv: {},
      configFile: false,
      audit: { log: audit },
      schema: schema as z.ZodObject,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(EnvmuxAggregateError);
    const text = [
      error.message,
      error.stack,
      JSON.stringify(error),
      inspect(error, { depth: 10, showHidden: true }),
      ...error.errors.map(
        (e: Error) => `${inspect(e, { depth: 10, showHidden: true })}${String(e.cause)}`,
      ),
      JSON.stringify(audit.query()),
    ].join('\n');
    return { error, text };
  }

  it('a transform that parses the value, a message quoting it upper-cased, a short value', async () => {
    const { error, text } = await failing(
      'CFG=$<secret:json>\nLOUD=$<secret:loud>\nTINY=$<secret:tiny>\n',
      z.object({
        CFG: z
          .string()
          .transform((s) => JSON.parse(s) as unknown)
          .pipe(
            z.object({
              host: z.number(),
              port: z.string().refine(() => false, { error: (i) => `bad ${String(i.input)}` }),
            }),
          ),
        LOUD: z
          .string()
          .refine(() => false, { error: (i) => `got ${String(i.input).toUpperCase()}` }),
        TINY: z.string().min(10, { error: (i) => `got ${String(i.input)}` }),
      }),
    );
    expect(error.errors.map((e: EnvmuxError) => `${e.key}:${e.line}:${e.message}`)).toEqual([
      'CFG:1:host: expected number',
      'CFG:1:port: failed a check of the schema',
      'LOUD:2:failed a check of the schema',
      'TINY:3:too small: expected a length >= 10 characters',
    ]);
    for (const value of [
      'Parsed-Secret-Host-31',
      'Parsed-Port-Secret',
      'QUIET-SECRET-VALUE',
      'quiet-secret-value',
      'xyz',
    ]) {
      expect(text).not.toContain(value);
    }
  });

  it('a transform that throws is VALIDATION_FAILED naming the key and its file:line', async () => {
    const { error, text } = await failing(
      'A=1\nBAD=$<secret:bad>\n',
      z.object({ A: z.string(), BAD: z.string().transform((s) => JSON.parse(s) as unknown) }),
    );
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.errors).toHaveLength(1);
    expect(error.errors[0]).toMatchObject({
      code: 'VALIDATION_FAILED',
      key: 'BAD',
      file: '.env',
      line: 2,
    });
    expect(error.errors[0].message).toBe(
      'the schema threw while checking this value (SyntaxError)',
    );
    expect(text).not.toContain('Not{Json');
  });
});
