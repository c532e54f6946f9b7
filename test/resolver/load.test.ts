// loadConfig end to end in-process: every row of the grammar (docs/architecture.md, "Reference grammar"), env file precedence,
// the environment winning unless `override`, and every problem of a load in one error.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  AuditLog,
  defineProvider,
  EnvmuxAggregateError,
  EnvmuxError,
  type LoadOptions,
  loadConfig,
} from '../../src/index.js';
import { env, file, memory } from '../../src/providers/index.js';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'envmux-load-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

const values = {
  db: '{"user":"app","password":"pw-123456","nested":{"list":["zero","one"]},"port":5432}',
  'prod/db': 'prod-db-secret',
  plain: 'plain-secret',
  empty: '',
  versioned: ['v1-value', 'v2-value', 'v3-value'],
  'staging/db': 'staging-db-secret',
};

async function load(
  env: string,
  options: LoadOptions = {},
): Promise<Readonly<Record<string, string>>> {
  const cwd = project({ '.env': env });
  return loadConfig({
    cwd,
    processEnv: { APP_ENV: 'staging', HOME: '/home/u' },
    providers: [
      memory({ values }),
      memory({ id: 'backup', values: { only_in_backup: 'from-backup' } }),
    ],
    configFile: false,
    audit: false,
    ...options,
  });
}

async function loadError(env: string, options: LoadOptions = {}): Promise<EnvmuxAggregateError> {
  try {
    await load(env, options);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvmuxAggregateError);
    return error as EnvmuxAggregateError;
  }
  throw new Error('expected the load to fail');
}

describe('grammar rows through loadConfig', () => {
  it.each<[string, string, string]>([
    ['chain lookup', '$<secret:plain>', 'plain-secret'],
    ['chain failover to the next provider', '$<secret:only_in_backup>', 'from-backup'],
    ['pinned provider', '$<backup:only_in_backup>', 'from-backup'],
    ['env', '$<env:HOME>', '/home/u'],
    ['JSON field', '$<secret:db#password>', 'pw-123456'],
    ['JSON field path', '$<secret:db#nested.list.1>', 'one'],
    ['JSON number field', '$<secret:db#port>', '5432'],
    ['JSON object field', '$<secret:db#nested>', '{"list":["zero","one"]}'],
    ['version', '$<secret:versioned?version=1>', 'v1-value'],
    ['previous version', '$<secret:versioned?version=previous>', 'v2-value'],
    ['latest', '$<secret:versioned>', 'v3-value'],
    ['default when missing', '$<secret:nope:-fallback>', 'fallback'],
    ['default when empty', '$<secret:empty:-fallback>', 'fallback'],
    ['default with a reference', '$<secret:nope:-$<secret:plain>>', 'plain-secret'],
    ['default when the field is missing', '$<secret:db#nope:-x>', 'x'],
    ['${} form', '${secret:db#user}', 'app'],
    ['${} env form', '${env:HOME}', '/home/u'],
    ['escaped $<', '\\$<secret:plain>', '$<secret:plain>'],
    ['escaped ${', '\\${secret:plain}', '${secret:plain}'],
    ['single-quoted literal', "'$<secret:plain>'", '$<secret:plain>'],
    [
      'several references with text',
      'postgres://$<secret:db#user>:$<secret:db#password>@h/db',
      'postgres://app:pw-123456@h/db',
    ],
    ['nesting', '$<secret:$<env:APP_ENV>/db>', 'staging-db-secret'],
    ['# inside an unquoted reference', '$<secret:db#user> # comment', 'app'],
    ['$ in a password survives (no expansion by default)', 'pa$$w0rd$HOME', 'pa$$w0rd$HOME'],
    ['bcrypt hash survives', '$2b$12$abcdefghijklmnopqrstuv', '$2b$12$abcdefghijklmnopqrstuv'],
    ['regex ending in $ survives', '^[a-z]+$', '^[a-z]+$'],
    ['${NAME} stays literal without expand', '${HOME}', '${HOME}'],
  ])('%s: %s', async (_, source, expected) => {
    const config = await load(`KEY=${source}\n`);
    expect(config.KEY).toBe(expected);
  });

  it('opt-in expansion of other keys', async () => {
    const config = await load(
      'BASE=/srv\nDIR=${BASE}/app\nBIN=$DIR/bin\nPORT=${PORT:-3000}\nHOMEDIR=$HOME\n',
      { expand: true },
    );
    expect(config).toMatchObject({
      DIR: '/srv/app',
      BIN: '/srv/app/bin',
      PORT: '3000',
      HOMEDIR: '/home/u',
    });
  });

  it('`$<env:KEY>` reads another key of the files before the environment', async () => {
    const config = await load('A=from-file\nB=$<env:A>-x\n');
    expect(config.B).toBe('from-file-x');
  });

  it('`KEY=$<env:KEY:-default>` reads the environment, not itself', async () => {
    expect((await load('LEVEL=$<env:LEVEL:-info>\n')).LEVEL).toBe('info');
  });

  it('a value from a provider is data: never parsed again', async () => {
    const config = await load('A=$<x:evil>\n', {
      providers: [memory({ id: 'x', values: { evil: '$<secret:plain> $(rm -rf /) ${HOME}' } })],
      expand: true,
    });
    expect(config.A).toBe('$<secret:plain> $(rm -rf /) ${HOME}');
  });

  it('a multi-line value (PEM) is injected intact', async () => {
    const pem = '-----BEGIN KEY-----\nAAAA\nBBBB\n-----END KEY-----';
    const config = await load('KEY=$<x:pem>\n', {
      providers: [memory({ id: 'x', values: { pem } })],
    });
    expect(config.KEY).toBe(pem);
  });
});

describe('grammar errors carry file:line', () => {
  it.each<[string, string, string]>([
    ['unterminated', 'A=ok\nB=$<secret:db\n', 'INVALID_REFERENCE'],
    ['unknown scheme', 'A=ok\nB=$<nosuch:x>\n', 'INVALID_REFERENCE'],
    ['provider not built yet', 'A=ok\nB=$<gcp:x>\n', 'CONFIG'],
    ['missing secret', 'A=ok\nB=$<secret:nope>\n', 'NOT_FOUND'],
    ['missing env', 'A=ok\nB=$<env:NOPE>\n', 'NOT_FOUND'],
    ['field of a non-JSON secret', 'A=ok\nB=$<secret:plain#x>\n', 'INVALID_REFERENCE'],
    ['missing field', 'A=ok\nB=$<secret:db#nope>\n', 'NOT_FOUND'],
    ['too deep', `A=ok\nB=${'$<secret:'.repeat(9)}x${'>'.repeat(9)}\n`, 'INVALID_REFERENCE'],
  ])('%s', async (_, env, code) => {
    // Off GCP the gcp SDK spends ~8 s probing the metadata server for a project: more than one
    // call timeout, which retries no longer stretch (docs/architecture.md, "Resolution").
    const error = await loadError(env, { timeout: '12s' });
    expect(error.errors).toHaveLength(1);
    expect(error.errors[0]).toMatchObject({ code, key: 'B', file: '.env', line: 2 });
    expect(error.message).toContain(`.env:2 B`);
  });

  it('reports a cycle once with the file:line of each step', async () => {
    const error = await loadError('A=$<env:B>\nB=x-$<env:C>\nC=$<env:A>\nD=ok\n');
    expect(error.errors).toHaveLength(1);
    expect(error.errors[0]!.code).toBe('CYCLE');
    expect(error.errors[0]!.message).toMatch(
      /A \(\.env:1\) → B \(\.env:2\) → C \(\.env:3\) → A \(\.env:1\)/,
    );
  });

  it('reports a chain of keys deeper than the limit', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => `K${i}=$<env:K${i + 1}>`).concat('K40=end');
    const error = await loadError(`${lines.join('\n')}\n`);
    expect(error.errors.map((e) => e.code)).toContain('INVALID_REFERENCE');
  });

  it('reports every problem of a load together, and nothing else fails with them', async () => {
    const error = await loadError(
      'GOOD=$<secret:plain>\nBAD1=$<secret:nope>\nBAD2=$<env:NOPE>\nBAD3=$<secret:x\nUSES_BAD=$<env:BAD1>\n',
    );
    expect(error.errors.map((e: EnvmuxError) => `${e.key}:${e.line}:${e.code}`).sort()).toEqual([
      'BAD1:2:NOT_FOUND',
      'BAD2:3:NOT_FOUND',
      'BAD3:4:INVALID_REFERENCE',
    ]);
  });
});

describe('env files', () => {
  it('precedence: .env.{mode}.local > .env.local > .env.{mode} > .env, missing files fine', async () => {
    const cwd = project({
      '.env': 'A=env\nB=env\nC=env\nD=env\n',
      '.env.production': 'A=mode\nB=mode\nC=mode\n',
      '.env.local': 'A=local\nB=local\n',
      '.env.production.local': 'A=mode-local\n',
    });
    const config = await loadConfig({
      cwd,
      nodeEnv: 'production',
      processEnv: {},
      configFile: false,
    });
    expect(config).toEqual({ A: 'mode-local', B: 'local', C: 'mode', D: 'env' });
  });

  it('.env.local is skipped in test mode', async () => {
    const cwd = project({ '.env': 'A=env\n', '.env.local': 'A=local\n', '.env.test': 'B=test\n' });
    expect(await loadConfig({ cwd, nodeEnv: 'test', processEnv: {}, configFile: false })).toEqual({
      A: 'env',
      B: 'test',
    });
  });

  it('explicit files: earlier wins, a missing one is an error naming it', async () => {
    const cwd = project({ 'a.env': 'X=a\n', 'b.env': 'X=b\nY=b\n' });
    expect(
      await loadConfig({ cwd, files: ['a.env', 'b.env'], processEnv: {}, configFile: false }),
    ).toEqual({ X: 'a', Y: 'b' });
    await expect(
      loadConfig({ cwd, files: ['a.env', 'nope.env'], processEnv: {}, configFile: false }),
    ).rejects.toMatchObject({
      errors: [{ code: 'CONFIG', file: 'nope.env' }],
    });
  });

  it('ENVMUX_FILES names the files', async () => {
    const cwd = project({ 'x.env': 'X=1\n' });
    expect(
      await loadConfig({ cwd, processEnv: { ENVMUX_FILES: 'x.env' }, configFile: false }),
    ).toEqual({ X: '1' });
  });

  it('the environment wins unless override; no fetch for a key the environment has', async () => {
    const store = memory({ values: { s: 'from-store' } });
    const cwd = project({ '.env': 'A=$<secret:s>\nB=file\n' });
    const base = { cwd, providers: [store], configFile: false as const, audit: false as const };
    expect(await loadConfig({ ...base, processEnv: { A: 'from-env', B: 'env' } })).toEqual({
      A: 'from-env',
      B: 'env',
    });
    expect(store.calls.get + store.calls.getMany).toBe(0);
    expect(
      await loadConfig({ ...base, processEnv: { A: 'from-env', B: 'env' }, override: true }),
    ).toEqual({ A: 'from-store', B: 'file' });
  });

  it('reads a config file (envmux.config.json) under the options', async () => {
    const cwd = project({
      'envmux.config.json': '{"files":["c.env"],"expand":true}',
      'c.env': 'A=1\nB=${A}2\n',
    });
    expect(await loadConfig({ cwd, processEnv: {} })).toEqual({ A: '1', B: '12' });
  });

  it('resolves mounted secret files through the file provider', async () => {
    const cwd = project({
      '.env': 'PW=$<secret:db_password>\n',
      'secrets/db_password': 'from-file\n',
    });
    const config = await loadConfig({
      cwd,
      providers: [file({ dir: join(cwd, 'secrets') })],
      processEnv: {},
      configFile: false,
    });
    expect(config.PW).toBe('from-file');
  });
});

/** Every text an error exposes: message, stack, JSON, inspect, and each inner error with its cause. */
function surfaces(error: unknown): string {
  const e = error as EnvmuxAggregateError;
  return [
    e.message,
    e.stack,
    JSON.stringify(e),
    inspect(e, { depth: 10, showHidden: true }),
    ...(e.errors ?? []).map(
      (x) =>
        `${x.message}\n${x.stack}\n${JSON.stringify(x)}\n${String((x as { cause?: { stack?: string } }).cause?.stack)}\n${inspect(x, { depth: 10, showHidden: true })}`,
    ),
  ].join('\n');
}

describe('names built from secrets are shown as their reference text', () => {
  const INNER = 'Inner-Secret-Value-7c1d';
  it('in the error, its JSON and the audit, for a name no store holds', async () => {
    const log = new AuditLog();
    const error = await loadConfig({
      cwd: project({
        '.env': 'A=$<secret:$<secret:inner>>\nB=$<mem:x-$<secret:inner>#f?version=2>\n',
      }),
      providers: [memory({ id: 'mem', values: { inner: INNER } })],
      processEnv: {},
      configFile: false,
      audit: { log },
    }).catch((e) => e);
    expect(error).toBeInstanceOf(EnvmuxAggregateError);
    expect(error.errors.map((e: EnvmuxError) => e.message)).toEqual([
      'secret "$<secret:inner>" was not found in any provider of the chain (mem)',
      'secret "x-$<secret:inner>" has no version "2" in provider "mem"',
    ]);
    const text = surfaces(error) + JSON.stringify(log.query());
    expect(text).not.toContain(INNER);
    expect(log.query().map((e) => e.key)).toEqual(
      expect.arrayContaining(['inner', '$<secret:inner>']),
    );
  });

  it("in a store's own message naming the name, and for a field built from a secret", async () => {
    const picky = defineProvider({
      id: 'picky',
      async get(name) {
        if (name === 'inner') return INNER;
        if (name === 'doc') return '{"a":"1"}';
        throw new EnvmuxError('ACCESS_DENIED', `no access to "${name}"`, { provider: 'picky' });
      },
    });
    const error = await loadConfig({
      cwd: project({ '.env': 'A=$<secret:$<secret:inner>>\nB=$<secret:doc#$<secret:inner>>\n' }),
      providers: [picky],
      processEnv: {},
      configFile: false,
      audit: false,
    }).catch((e) => e);
    expect(error.errors.map((e: EnvmuxError) => e.message)).toEqual([
      'no access to "$<secret:inner>"',
      'field "$<secret:inner>" is not in the secret',
    ]);
    expect(surfaces(error)).not.toContain(INNER);
  });

  it('a name built from the environment only is shown as resolved', async () => {
    const error = await loadConfig({
      cwd: project({ '.env': 'A=$<secret:$<env:STAGE>/db>\n' }),
      providers: [memory({ values: {} })],
      processEnv: { STAGE: 'qa' },
      configFile: false,
      audit: false,
    }).catch((e) => e);
    expect(error.errors[0].message).toContain('secret "qa/db" was not found');
  });
});

describe("a store's own error text is scrubbed of every value the load has seen", () => {
  const LONG = `Long-Secret-${'k'.repeat(300)}`;
  const SHORT = 'Short-Secret-9b2e';
  const leaky = defineProvider({
    id: 'leaky',
    async get(name) {
      if (name === 'long') return LONG;
      if (name === 'short') return SHORT;
      if (name === 'json') return JSON.stringify({ inside: 'Json-Leaf-Secret-44' });
      throw new Error(`value was ${name === 'cut' ? LONG : `${SHORT} / ${'Json-Leaf-Secret-44'}`}`);
    },
  });

  it('before the message is cut, in message, cause and stack', async () => {
    const error = await loadConfig({
      cwd: project({
        '.env':
          'L=$<secret:long>\nS=$<secret:short>\nJ=$<secret:json#inside>\nC=$<secret:cut>\nD=$<secret:other>\n',
      }),
      providers: [leaky],
      breaker: false,
      processEnv: {},
      configFile: false,
      audit: false,
    }).catch((e) => e);
    expect(error.errors.map((e: EnvmuxError) => e.key)).toEqual(['C', 'D']);
    const text = surfaces(error);
    expect(text).toContain('provider "leaky" failed');
    for (const value of [LONG, LONG.slice(0, 30), SHORT, 'Json-Leaf-Secret-44']) {
      expect(text).not.toContain(value);
    }
    expect(text).not.toContain('Long-Secret-kk');
  });
});

describe('a provider answering anything but a string or undefined', () => {
  for (const [label, answer] of [
    ['null', null],
    ['a number', 42],
    ['an object', { a: 1 }],
  ] as const) {
    it(`fails closed on ${label}, naming provider, key and file:line`, async () => {
      const odd = defineProvider({ id: 'odd', get: async () => answer as never });
      const bare = { id: 'bare', type: 'custom', get: async () => answer as never };
      for (const provider of [odd, bare]) {
        const error = await loadConfig({
          cwd: project({ '.env': 'A=1\nN=$<secret:n>\n' }),
          providers: [provider],
          processEnv: {},
          configFile: false,
          audit: false,
        }).catch((e) => e);
        expect(error).toBeInstanceOf(EnvmuxAggregateError);
        expect(error.errors).toHaveLength(1);
        expect(error.errors[0]).toMatchObject({
          code: 'INVALID_REFERENCE',
          key: 'N',
          file: '.env',
          line: 2,
          provider: provider.id,
        });
        expect(error.errors[0].message).toContain(`answered ${label} instead of a string`);
      }
    });
  }
});

describe('no lookup reaches Object.prototype', () => {
  it('`$<env:toString>` is not set; a key named constructor is resolved', async () => {
    const error = await loadConfig({
      cwd: project({ '.env': 'T=$<env:toString>\n' }),
      processEnv: {},
      configFile: false,
      audit: false,
    }).catch((e) => e);
    expect(error.errors[0]).toMatchObject({ code: 'NOT_FOUND', key: 'T' });
    const config = await loadConfig({
      cwd: project({ '.env': 'constructor=$<secret:a>\ntoString=$<env:hasOwnProperty:-fine>\n' }),
      providers: [memory({ values: { a: 'resolved' } })],
      processEnv: {},
      configFile: false,
      audit: false,
    });
    expect({ ...config }).toEqual({ constructor: 'resolved', toString: 'fine' });
  });

  it('through process.env as the environment, and the env provider', async () => {
    const config = await loadConfig({
      cwd: project({
        '.env': 'constructor=$<secret:a>\nV=$<env:valueOf:-unset>\nW=$<env:toString:-unset>\n',
      }),
      providers: [env(), memory({ values: { a: 'resolved' } })],
      configFile: false,
      audit: false,
    });
    expect({ ...config }).toEqual({ constructor: 'resolved', V: 'unset', W: 'unset' });
  });

  it('`#__proto__`, `#constructor` and `#length` pick nothing', async () => {
    const error = await loadConfig({
      cwd: project({
        '.env': 'P=$<secret:doc#__proto__>\nC=$<secret:doc#constructor>\nL=$<secret:list#length>\n',
      }),
      providers: [memory({ values: { doc: '{"a":"1"}', list: '["x"]' } })],
      processEnv: {},
      configFile: false,
      audit: false,
    }).catch((e) => e);
    expect(error.errors.map((e: EnvmuxError) => `${e.key}:${e.code}`)).toEqual([
      'P:NOT_FOUND',
      'C:NOT_FOUND',
      'L:NOT_FOUND',
    ]);
  });
});

describe('a pinned version on a store without versions', () => {
  it('is an error from env and file, never the current value', async () => {
    const dir = project({ 'secrets/x': 'current-file-value\n' });
    const error = await loadConfig({
      cwd: project({
        '.env':
          'A=$<vars:x?version=previous>\nB=$<file:x?version=3>\nC=$<secret:x?version=latest>\n',
      }),
      providers: [
        env({ id: 'vars', env: { x: 'current-env-value' } }),
        file({ dir: join(dir, 'secrets') }),
      ],
      processEnv: {},
      configFile: false,
      audit: false,
    }).catch((e) => e);
    expect(error.errors.map((e: EnvmuxError) => `${e.key}:${e.code}`)).toEqual([
      'A:NOT_FOUND',
      'B:NOT_FOUND',
    ]);
    expect(error.errors[0].message).toBe(
      'provider "vars" keeps no versions, so it cannot serve version "previous" of "x"',
    );
    expect(error.errors[1].message).toContain('provider "file" keeps no versions');
    expect(surfaces(error)).not.toContain('current-');
  });

  it('moves on along the chain to a store that keeps versions', async () => {
    const config = await loadConfig({
      cwd: project({ '.env': 'A=$<secret:x?version=1>\n' }),
      providers: [env({ env: {} }), memory({ values: { x: ['one', 'two'] } })],
      processEnv: {},
      configFile: false,
      audit: false,
    });
    expect(config.A).toBe('one');
  });

  it('memory serves exactly the version ids it has', async () => {
    const error = await loadConfig({
      cwd: project({
        '.env':
          'A=$<mem:x?version=0x2>\nB=$<mem:x?version= 2>\nC=$<mem:x?version=2e0>\nD=$<mem:x?version=2>\n',
      }),
      providers: [memory({ id: 'mem', values: { x: ['one', 'two'] } })],
      processEnv: {},
      configFile: false,
      audit: false,
    }).catch((e) => e);
    expect(error.errors.map((e: EnvmuxError) => e.key)).toEqual(['A', 'B', 'C']);
  });
});

describe('an entry with several keys and no #field', () => {
  it('is an error naming the reference, file:line and the keys', async () => {
    const store = {
      id: 'maps',
      type: 'custom',
      isEntry: () => true,
      get: async () => JSON.stringify({ user: 'u', password: 'p' }),
    };
    const error = await loadConfig({
      cwd: project({ '.env': 'A=1\nB=$<maps:db>\n' }),
      providers: [store],
      processEnv: {},
      configFile: false,
      audit: false,
    }).catch((e) => e);
    const [problem] = error.errors;
    expect(problem).toMatchObject({ key: 'B', file: '.env', line: 2, reference: '$<maps:db>' });
    expect(problem.message).toContain('user');
  });
});

describe('one cause, one line', () => {
  it('groups problems that share code, message and hint, naming the keys they affect', async () => {
    const error = await loadConfig({
      cwd: project({ '.env': 'A=$<nosuch:x>\nB=$<nosuch:y>\nC=$<env:UNSET_C>\nD=$<nosuch:z>\n' }),
      providers: ['env'],
      processEnv: {},
      configFile: false,
      audit: false,
    }).catch((e) => e);
    expect(error.errors).toHaveLength(4);
    const lines = error.message.split('\n');
    expect(lines[0]).toBe('envmux could not load the environment: 4 problems');
    expect(lines.filter((l: string) => l.includes('unknown provider "nosuch"'))).toHaveLength(1);
    expect(error.message).toContain(
      'affects 3: .env:1 A $<nosuch:x>, .env:2 B $<nosuch:y>, .env:4 D $<nosuch:z>',
    );
    expect(error.message).toContain('.env:3 C $<env:UNSET_C>: NOT_FOUND');
  });
});

describe('the load deadline', () => {
  it('ENVMUX_DEADLINE bounds loadConfig as the TIMEOUT hint says', async () => {
    const hangs = defineProvider({ id: 'hangs', get: () => new Promise<undefined>(() => {}) });
    const started = Date.now();
    const error = await loadError('A=$<hangs:a>', {
      providers: [hangs],
      processEnv: { ENVMUX_DEADLINE: '300ms', ENVMUX_TIMEOUT: '60s' },
    });
    expect(error.errors[0]?.code).toBe('TIMEOUT');
    expect(error.message).toContain('ENVMUX_DEADLINE');
    // The call timeout is 60 s: only the environment's deadline can have ended the load this soon.
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

describe('a load reads each secret once', () => {
  it('a secret a later wave asks for again comes from the load’s cache', async () => {
    // Wave 1 reads `db` and `which`; wave 2 asks for `db` again (named by `which`).
    const store = memory({ values: { db: values.db, which: 'db' }, batch: false });
    const config = await loadConfig({
      cwd: project({ '.env': 'USER=$<secret:db#user>\nPASS=$<secret:$<secret:which>#password>\n' }),
      processEnv: {},
      providers: [store],
      configFile: false,
      audit: false,
    });
    expect(config).toMatchObject({ USER: 'app', PASS: 'pw-123456' });
    expect(store.calls.get).toBe(2);
  });
});
