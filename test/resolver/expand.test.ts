// `expand: true` through loadConfig: plain-variable expansion follows dotenv-expand (the current
// major). The cases restate dotenv-expand's documented behaviour, one `it` per rule; where envmux
// differs on purpose, the test says so and docs/architecture.md, "Reference grammar" explains why.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvmuxAggregateError, type LoadOptions, loadConfig } from '../../src/index.js';
import { memory } from '../../src/providers/index.js';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'envmux-expand-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

async function expand(
  env: string | Record<string, string>,
  processEnv: Record<string, string> = {},
  options: LoadOptions = {},
): Promise<Readonly<Record<string, string>>> {
  const cwd = project(typeof env === 'string' ? { '.env': env } : env);
  return loadConfig({
    cwd,
    processEnv,
    expand: true,
    configFile: false,
    audit: false,
    providers: [memory({ values: { db: 'pa$word-${X}', json: '{"u":"$HOME"}' } })],
    ...options,
  });
}

describe('expand: true follows dotenv-expand', () => {
  it('expands $NAME and ${NAME} from earlier keys', async () => {
    expect(await expand('BASIC=basic\nA=${BASIC}\nB=$BASIC\nC=x-$BASIC-y\n')).toMatchObject({
      A: 'basic',
      B: 'basic',
      C: 'x-basic-y',
    });
  });

  it('an unset name is "" and does not fail the load', async () => {
    expect(await expand('A=$UNSET\nB=${UNSET}\nC=pre-${UNSET}-post\nD=ok\n')).toEqual({
      A: '',
      B: '',
      C: 'pre--post',
      D: 'ok',
    });
  });

  it('the environment wins over the file (machine values first)', async () => {
    expect(await expand('MACHINE=file\nA=$MACHINE\n', { MACHINE: 'machine' })).toMatchObject({
      MACHINE: 'machine',
      A: 'machine',
    });
  });

  it('with override, earlier file keys win over the environment', async () => {
    const config = await expand(
      'MACHINE=file\nA=$MACHINE\n',
      { MACHINE: 'machine' },
      {
        override: true,
      },
    );
    expect(config).toMatchObject({ MACHINE: 'file', A: 'file' });
  });

  it(':- and - defaults: unset or empty, and unset only', async () => {
    const config = await expand(
      [
        'EMPTY=',
        'SET=value',
        'A=${UNSET:-default}',
        'B=${UNSET-default}',
        'C=${EMPTY:-default}',
        'D=${EMPTY-default}',
        'E=${SET:-default}',
        'F=${SET-default}',
        'G=${UNSET:-/default/path:with/colon}',
        'H=$UNSET:-/default/path:with/colon',
      ].join('\n'),
    );
    expect(config).toMatchObject({
      A: 'default',
      B: 'default',
      C: 'default',
      D: '',
      E: 'value',
      F: 'value',
      G: '/default/path:with/colon',
      H: ':-/default/path:with/colon',
    });
  });

  it(':+ and + alternates: set and not empty, and set', async () => {
    const config = await expand(
      [
        'EMPTY=',
        'SET=true',
        'A=${SET:+alternate}',
        'B=${SET+alternate}',
        'C=${EMPTY:+alternate}',
        'D=${EMPTY+alternate}',
        'E=${UNSET:+alternate}',
        'F=${UNSET+alternate}',
      ].join('\n'),
    );
    expect(config).toMatchObject({
      A: 'alternate',
      B: 'alternate',
      C: '',
      D: 'alternate',
      E: '',
      F: '',
    });
  });

  it('nested defaults, evaluated only when chosen', async () => {
    const config = await expand(
      [
        'MACHINE=machine_env',
        'A=${MACHINE:-${UNSET:-default}}',
        'B=${UNSET:-${MACHINE}${UNSET:-default}}',
        'C=${UNSET-${UNSET-${UNSET-deep}}}',
        'D=${UNSET:-${UNSET_2:-/default/path:with/colon}}',
      ].join('\n'),
    );
    expect(config).toMatchObject({
      A: 'machine_env',
      B: 'machine_envdefault',
      C: 'deep',
      D: '/default/path:with/colon',
    });
  });

  it('dotted names in braces', async () => {
    const config = await expand(
      'POSTGRESQL.BASE.USER=postgres\nPOSTGRESQL.MAIN.USER=${POSTGRESQL.BASE.USER}\n',
    );
    expect(config['POSTGRESQL.MAIN.USER']).toBe('postgres');
  });

  it('a later key is not set yet: forward references are ""', async () => {
    const config = await expand('URL=${HOST}/path\nHOST=http://localhost:${PORT}\nPORT=8090\n');
    expect(config).toEqual({ URL: '/path', HOST: 'http://localhost:', PORT: '8090' });
  });

  it('keys in order resolve through each other', async () => {
    const config = await expand(
      'USER=username\nPASS=password\nCRED=${USER}:${PASS}\nURI=mongodb://${CRED}@host:1/db\nBARE=mongodb://$CRED@host\n',
    );
    expect(config).toMatchObject({
      URI: 'mongodb://username:password@host:1/db',
      BARE: 'mongodb://username:password@host',
    });
  });

  it('a key expanding itself reads its earlier value, else ""', async () => {
    expect(await expand('SELF=$SELF\n')).toEqual({ SELF: '' });
    expect(await expand('SELF=${SELF:-default}\n')).toEqual({ SELF: 'default' });
    expect(await expand('P=first\nP=${P}-second\n')).toEqual({ P: 'first-second' });
    expect(await expand('P=a\nP=$P-b\nP=${P}-c\n')).toEqual({ P: 'a-b-c' });
  });

  it('a key reuses its value from a lower-precedence file', async () => {
    const config = await expand({
      '.env': 'PATHS=/usr/bin\n',
      '.env.local': 'PATHS=$PATHS:/opt/bin\n',
    });
    expect(config).toEqual({ PATHS: '/usr/bin:/opt/bin' });
  });

  it('escaped dollars stay, and lose their backslash', async () => {
    const config = await expand(
      'P1=42\nA=\\$ESCAPED\nB=pa\\$\\$word\nC=\\$this$P1\\$is${P1}\nD=\\$2b\\$10\\$hash\nE=\\${P1}\n',
    );
    expect(config).toMatchObject({
      A: '$ESCAPED',
      B: 'pa$$word',
      C: '$this42$is42',
      D: '$2b$10$hash',
      E: '${P1}',
    });
  });

  it('a $ that starts no name is text', async () => {
    const config = await expand(
      'DOLLAR=$\nTWO="abcd$$1234"\nNONE=$.$+$-$$\nBRACES=${}\nOPEN=${A\n',
    );
    expect(config).toEqual({
      DOLLAR: '$',
      TWO: 'abcd$$1234',
      NONE: '$.$+$-$$',
      BRACES: '${}',
      OPEN: '${A',
    });
  });

  it('a brace inside ${...} makes it text, as dotenv-expand matches ${[^{}]+}', async () => {
    expect(await expand('A=${X:-{a}}\n')).toEqual({ A: '${X:-{a}}' });
  });

  it('single-quoted values are literal (deliberate: dotenv-expand cannot see quotes)', async () => {
    const config = await expand('X=1\nA=\'$X ${X} \\$X\'\nB="$X"\n');
    expect(config).toMatchObject({ A: '$X ${X} \\$X', B: '1' });
  });

  it('a value inserted by an expansion is never expanded again (deliberate)', async () => {
    const config = await expand('A=\\$B\nB=oops\nC=${A}\n', { M: 'x$B' });
    expect(config).toMatchObject({ A: '$B', C: '$B' });
    expect(await expand('C=${M}\n', { M: 'pa$word' })).toEqual({ C: 'pa$word' });
  });

  it("a provider's value is never expanded", async () => {
    const config = await expand('X=no\nS=$<secret:db>\nT=${S}\n');
    expect(config).toMatchObject({ S: 'pa$word-${X}', T: 'pa$word-${X}' });
  });

  it('secret references keep failing closed', async () => {
    const error = await expand('A=$<secret:missing>\nB=${A:-fallback}\n').catch((e) => e);
    expect(error).toBeInstanceOf(EnvmuxAggregateError);
    expect((error as EnvmuxAggregateError).errors).toMatchObject([
      { code: 'NOT_FOUND', key: 'A', line: 1 },
    ]);
  });

  it('references inside an operand are resolved only when the operand is chosen', async () => {
    const config = await expand(
      'SET=1\nA=${SET:-$<secret:missing>}\nB=${UNSET:-$<secret:db#u>}\n',
      {},
      {
        providers: [memory({ values: { db: '{"u":"user"}' } })],
      },
    );
    expect(config).toMatchObject({ A: '1', B: 'user' });
  });

  it('an error in an earlier assignment is reported on its line', async () => {
    const error = await expand('P=$<secret:\nP=${P}x\n').catch((e) => e);
    expect(error).toBeInstanceOf(EnvmuxAggregateError);
    expect((error as EnvmuxAggregateError).errors).toMatchObject([
      { code: 'INVALID_REFERENCE', key: 'P', line: 1 },
    ]);
  });

  it('off by default: a $ in a password survives', async () => {
    const config = await expand('PASSWORD=pa$word${x}\n', {}, { expand: false });
    expect(config).toEqual({ PASSWORD: 'pa$word${x}' });
  });
});
