// `envmux run` from the packed package: the child sees values, its output shows masks; exit codes
// and signals pass through; a failing reference stops the command from running.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { cleanEnv, makeCase, nodeBin, runCli } from './consumer.js';

const SECRET = 's3cr3t-value-123';
const PEM = '-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\nq0Z1XyWbC7vT\n-----END KEY-----';

const config = `import { defineProvider } from 'envmux';
const values = {
  db: ${JSON.stringify(SECRET)},
  pem: ${JSON.stringify(PEM)},
  doc: JSON.stringify({ user: 'admin-user', pass: 'p@ss w/rd&more' }),
};
export default {
  providers: [
    defineProvider({
      id: 'vault1',
      async get(name) {
        await new Promise((r) => setTimeout(r, 5));
        return values[name];
      },
    }),
  ],
};
`;
const files = {
  'envmux.config.mjs': config,
  '.env': [
    'DB_PASSWORD=$<secret:db>',
    'PLAIN=hello-plain-value',
    'TLS_KEY=$<vault1:pem>',
    'DATABASE_URL="postgres://$<secret:doc#user>:$<secret:doc#pass>@db:5432/app"',
    '',
  ].join('\n'),
};

/** `node -e` source, as a child argument. */
const js = (source: string) => ['node', '-e', source];

describe('envmux run', () => {
  it('shows a mask where the child prints a value; the child sees the value', () => {
    const dir = makeCase(files);
    const r = runCli(['run', '--', 'sh', '-c', 'echo "pw=$DB_PASSWORD plain=$PLAIN"'], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('pw=*** plain=hello-plain-value\n');
    expect(r.status).toBe(0);

    const seen = runCli(
      ['run', '--', 'sh', '-c', `[ "$DB_PASSWORD" = '${SECRET}' ] && echo same`],
      dir,
    );
    expect(seen.stdout).toBe('same\n');
    const hash = runCli(
      [
        'run',
        '--',
        ...js(
          `for (const k of ['DB_PASSWORD', 'TLS_KEY']) console.log(require('crypto').createHash('sha256').update(process.env[k]).digest('hex'))`,
        ),
      ],
      dir,
    );
    // The multi-line value arrives intact (USERS.md #18).
    const sha = (v: string) => createHash('sha256').update(v).digest('hex');
    expect(hash.stdout).toBe(`${sha(SECRET)}\n${sha(PEM)}\n`);
  });

  it('masks stderr, values split across writes, multi-line values and encoded forms', () => {
    const dir = makeCase(files);
    const r = runCli(
      [
        'run',
        '--',
        ...js(`
const v = process.env.DB_PASSWORD;
process.stderr.write('err ' + v + '\\n');
process.stdout.write('split ' + v.slice(0, 5));
setTimeout(() => {
  process.stdout.write(v.slice(5, 9));
  setTimeout(() => {
    process.stdout.write(v.slice(9) + ' end\\n');
    console.log('b64 ' + Buffer.from(v + '\\n').toString('base64'));
    console.log('url ' + encodeURIComponent(process.env.DATABASE_URL));
    console.log('user ' + process.env.DATABASE_URL.slice(11, 21));
    for (const line of process.env.TLS_KEY.split('\\n')) console.log('pem ' + line);
  }, 30);
}, 30);
`),
      ],
      dir,
    );
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('err ***\n');
    expect(r.stdout).toBe(
      [
        'split *** end',
        'b64 ***wo=',
        'url postgres%3A%2F%2F***%3A***%40db%3A5432%2Fapp',
        'user ***',
        'pem ***',
        'pem ***',
        'pem ***',
        'pem ***',
        '',
      ].join('\n'),
    );
    for (const leak of [SECRET, 'MIIBOgIBAAJBAKj34GkxFhD9', 'admin-user', 'p@ss', 'p%40ss']) {
      expect(r.stdout).not.toContain(leak);
    }
  });

  it('--no-mask shows the value', () => {
    const dir = makeCase(files);
    const r = runCli(['run', '--no-mask', '--', 'sh', '-c', 'echo "pw=$DB_PASSWORD"'], dir);
    expect(r.stdout).toBe(`pw=${SECRET}\n`);
    expect(r.status).toBe(0);
  });

  it('passes the exit code through', () => {
    const dir = makeCase(files);
    expect(runCli(['run', '--', 'sh', '-c', 'exit 7'], dir).status).toBe(7);
    expect(runCli(['run', '--no-mask', '--', 'sh', '-c', 'exit 9'], dir).status).toBe(9);
    const missing = runCli(['run', '--', 'no-such-command-envmux'], dir);
    expect(missing.status).toBe(127);
    expect(missing.stderr).toContain('cannot run "no-such-command-envmux": ENOENT');
  });

  it('passes options after the command to the command', () => {
    const dir = makeCase(files);
    const r = runCli(['run', 'sh', '-c', 'echo "$@"', 'sh', '-f', 'x', '--help', '--no-mask'], dir);
    expect(r.stdout).toBe('-f x --help --no-mask\n');
  });

  it('forwards SIGTERM to the command and exits with its code', async () => {
    const dir = makeCase(files);
    const child = spawn(
      nodeBin,
      [
        cliPath(),
        'run',
        '--',
        ...js(`
process.on('SIGTERM', () => { console.log('child got SIGTERM ' + process.env.DB_PASSWORD); process.exit(3); });
console.log('ready');
setInterval(() => {}, 1000);
`),
      ],
      { cwd: dir, env: cleanEnv() },
    );
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('ready\n')) child.kill('SIGTERM');
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('close', (c, s) => resolve([c, s])),
    );
    expect(stdout).toBe('ready\nchild got SIGTERM ***\n');
    expect([code, signal]).toEqual([3, null]);
  });

  it('dies of the signal that killed the command', () => {
    const dir = makeCase(files);
    const r = spawnSync(nodeBin, [cliPath(), 'run', '--', 'sh', '-c', 'kill -TERM $$'], {
      cwd: dir,
      env: cleanEnv(),
      encoding: 'utf8',
    });
    expect(r.signal).toBe('SIGTERM');
  });

  it('does not run the command when a reference fails, listing every problem', () => {
    const dir = makeCase({
      ...files,
      '.env': 'A=$<secret:db>\n\nD=$<secret:missing>\nE=$<nosuch:x>\n',
    });
    const r = runCli(['run', '--', 'sh', '-c', 'echo RAN > ran.txt; echo RAN'], dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('2 problems; the command was not run');
    expect(r.stderr).toContain('.env:3 D $<secret:missing>: NOT_FOUND');
    expect(r.stderr).toContain('.env:4 E $<nosuch:x>: INVALID_REFERENCE');
    expect(r.stderr).not.toContain(SECRET);
    expect(existsSync(join(dir, 'ran.txt'))).toBe(false);
  });

  it('reads -f files and a --provider chain (file provider with ENVMUX_FILE_DIR)', () => {
    const dir = makeCase({
      '.env.other': 'TOKEN=$<secret:api-token>\n',
      'secrets/api-token': 'tok-from-a-file\n',
    });
    const r = runCli(
      [
        'run',
        '-f',
        '.env.other',
        '--provider',
        'file',
        '--',
        'sh',
        '-c',
        'echo "t=$TOKEN"; [ "$TOKEN" = tok-from-a-file ] && echo same',
      ],
      dir,
      { ENVMUX_FILE_DIR: join(dir, 'secrets') },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('t=***\nsame\n');
  });

  const hasScript = process.platform === 'linux' && spawnSync('script', ['--version']).status === 0;
  it.skipIf(!hasScript)('keeps colour on a terminal; --no-mask passes the terminal through', () => {
    const dir = makeCase(files);
    const probe = `console.log('color=' + process.env.FORCE_COLOR + ' tty=' + process.stdout.isTTY + ' pw=' + process.env.DB_PASSWORD)`;
    const inTerminal = (args: string[], extra: Record<string, string> = {}) => {
      const line = [nodeBin, cliPath(), ...args]
        .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
        .join(' ');
      return spawnSync('script', ['-qec', line, '/dev/null'], {
        cwd: dir,
        env: cleanEnv(extra),
        encoding: 'utf8',
      }).stdout.replace(/\r/g, '');
    };
    expect(inTerminal(['run', '--', ...js(probe)])).toContain('color=1 tty=undefined pw=***');
    expect(inTerminal(['run', '--', ...js(probe)], { NO_COLOR: '1' })).toContain(
      'color=undefined tty=undefined pw=***',
    );
    expect(inTerminal(['run', '--no-mask', '--', ...js(probe)])).toContain(
      `color=undefined tty=true pw=${SECRET}`,
    );
  });

  it('masks base64 wrapped at 76 columns, JSON \\uXXXX and \\/ escapes, lowercase %xx and Python quoting', () => {
    const LONG = 'a-long-secret-value-over-57-bytes/so-base64-wraps-it-0123456789-é-end';
    const dir = makeCase({
      'envmux.config.mjs': config.replace(
        `db: ${JSON.stringify(SECRET)},`,
        `db: ${JSON.stringify(SECRET)}, long: ${JSON.stringify(LONG)},`,
      ),
      '.env': 'LONG=$<secret:long>\n',
      'probe.cjs': String.raw`const v = process.env.LONG;
console.log(JSON.stringify(v).replace(/[\u0080-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')));
console.log(JSON.stringify(v).replace(/\//g, '\\/'));
console.log(encodeURIComponent(v).toLowerCase());
console.log(encodeURIComponent(v).replace(/%2F/g, '/'));
console.log(new URLSearchParams({ v }).toString().replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()));
`,
    });
    const r = runCli(['run', '--', 'sh', '-c', 'echo "$LONG" | base64; node probe.cjs'], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    // The wrapped base64 becomes one mask, plus what encodes the trailing newline.
    expect(lines[0]).toMatch(/^\*\*\*[A-Za-z0-9+/=]{0,4}$/);
    expect(lines.slice(1)).toEqual(['"***"', '"***"', '***', '***', 'v=***']);
    const wrapped = Buffer.from(`${LONG}\n`).toString('base64');
    for (let i = 0; i + 12 <= wrapped.length - 4; i += 12) {
      expect(r.stdout.replace(/\n/g, '')).not.toContain(wrapped.slice(i, i + 12));
    }
  });

  it('masks only what providers returned: not defaults, env: values, plain values or short values', () => {
    const dir = makeCase({
      'envmux.config.mjs': config.replace(
        `db: ${JSON.stringify(SECRET)},`,
        `db: ${JSON.stringify(SECRET)}, pin: '42', host: 'db-internal-host',`,
      ),
      '.env': [
        'HOST=$<secret:nohost:-localhost>',
        'NAME=$<env:APP_NAME>',
        'INFO=information',
        'PIN=$<secret:pin>',
        'URL=postgres://u:$<secret:db>@$<secret:host>:5432/app',
        '',
      ].join('\n'),
    });
    const r = runCli(
      ['run', '--', 'sh', '-c', 'echo "$HOST:5432 [$NAME] $INFO pin=$PIN $URL"'],
      dir,
      { APP_NAME: 'myapp' },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      'localhost:5432 [myapp] information pin=42 postgres://u:***@***:5432/app\n',
    );

    for (const debug of [['--debug'], []]) {
      const d = runCli(['run', ...debug, '--', 'sh', '-c', 'echo "$URL"'], dir, {
        APP_NAME: 'myapp',
        ...(debug.length ? {} : { ENVMUX_DEBUG: '1' }),
      });
      expect(d.stdout).toBe('postgres://u:***@***:5432/app\n');
      expect(d.stderr).toContain('envmux: masking 1 key(s): URL\n');
      expect(d.stderr).toContain('envmux: not masked (shorter than 4 characters): PIN\n');
      for (const value of [SECRET, 'db-internal-host', 'localhost', 'myapp']) {
        expect(d.stderr).not.toContain(value);
      }
    }
  });

  it('runs with a 1 MB JSON secret behind #field; a value too large for the environment is one coded line', () => {
    const doc = Object.fromEntries(
      Array.from({ length: 20_000 }, (_, i) => [`key${i}`, `value-${i}-${'x'.repeat(32)}`]),
    );
    const dir = makeCase({
      'secrets/big': JSON.stringify(doc),
      '.env': [
        'A=$<secret:big#key1>',
        'B=$<secret:big#key2>',
        ...Array.from({ length: 50 }, (_, i) => `M${i}=$<secret:big#missing${i}>`),
        '',
      ].join('\n'),
    });
    const env = { ENVMUX_FILE_DIR: join(dir, 'secrets') };
    const missing = runCli(['run', '--provider', 'file', '--', 'sh', '-c', 'echo ran'], dir, env);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('50 problems; the command was not run');
    expect(missing.stdout).toBe('');

    writeFileSync(join(dir, '.env'), 'A=$<secret:big#key1>\nB=$<secret:big#key2>\n');
    const ok = runCli(['run', '--provider', 'file', '--', 'sh', '-c', 'echo "$A $B"'], dir, env);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe('*** ***\n');

    writeFileSync(join(dir, '.env'), 'A=$<secret:big#key1>\nWHOLE=$<secret:big>\n');
    const big = runCli(['run', '--provider', 'file', '--', 'sh', '-c', 'echo ran'], dir, env);
    expect(big.status).toBe(1);
    expect(big.stdout).toBe('');
    expect(big.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(big.stderr).toMatch(
      /^envmux: \.env:2 WHOLE: CONFIG: the value is 1\.\d MiB, too large for the OS environment \(at most 128 KiB per variable: E2BIG\)/,
    );
    expect(big.stderr).not.toContain('value-1-');
    expect(big.stderr).not.toMatch(/\n\s+at /);
  });

  it('options take one value: the command starts at the first non-option word or after --', () => {
    const dir = makeCase({
      '.env.other': 'TOKEN=$<secret:api-token>\n',
      'secrets/api-token': 'tok-from-a-file\n',
    });
    const env = { ENVMUX_FILE_DIR: join(dir, 'secrets') };
    const probe = ['node', '-e', 'console.log(process.env.TOKEN.length)'];
    for (const args of [
      ['run', '-f', '.env.other', '--provider', 'file', ...probe],
      ['run', '-f', '.env.other', '--provider', 'file', '--', ...probe],
      ['run', '-f', '.env.other', '--provider', 'file,env', ...probe],
      ['run', '-f', '.env.other', '--provider', 'file', '--provider', 'env', ...probe],
    ]) {
      const r = runCli(args, dir, env);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('15\n');
      expect(r.status).toBe(0);
    }
    const dash = runCli(['run', '-f', '--', 'node', '-e', '1'], dir, env);
    expect(dash.status).not.toBe(0);
    expect(dash.stderr).toContain('-f, --file needs a value, got "--"');
    expect(dash.stderr).not.toMatch(/\n\s+at /);
  });

  it('--help describes the command', () => {
    const r = runCli(['run', '--help'], makeCase({}));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: envmux run [options] <command> [args...]');
    expect(r.stdout).toContain('--no-mask');
    expect(r.stdout).toContain('--provider <ids>');
    expect(r.stdout).toContain('--debug');
    expect(r.stdout).toContain('-f, --file <paths>');
  });
});

function cliPath(): string {
  return join(inject('consumerDir'), 'node_modules/envmux/dist/cli.cjs');
}
