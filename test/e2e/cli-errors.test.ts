// The CLI's and the runtime's messages for user mistakes, from the packed package: one row per
// case with its exit code, its stdout and its stderr (exact, or exact up to a path). Never a stack
// trace, never the whole help text, a code and a hint on every failure. (Pipes only: the machine
// has no pseudo-terminal, so the TTY prompts are covered by the refusals without --yes.)

import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeCase, runCli, runNode } from './consumer.js';

const cheap = ['--kdf-memory', '1', '--kdf-iterations', '1', '--kdf-parallelism', '1'];

/** One row: arguments, setup, and what must come out. */
interface Row {
  name: string;
  args: string[];
  files?: Record<string, string>;
  env?: Record<string, string>;
  setup?: (dir: string) => void;
  status: number;
  stdout?: string;
  /** Exact text, or a pattern for output that holds a machine path or a date. */
  stderr: string | RegExp;
}

const rows: Row[] = [
  {
    name: 'cleanup --keep 0',
    args: ['vault', 'cleanup', '--keep', '0'],
    status: 1,
    stderr:
      'envmux: CONFIG: --keep must be a positive integer, not "0"\n  hint: for example --keep 1\n',
  },
  {
    name: 'cleanup --keep abc',
    args: ['vault', 'cleanup', '--keep', 'abc'],
    status: 1,
    stderr:
      'envmux: CONFIG: --keep must be a positive integer, not "abc"\n  hint: for example --keep 1\n',
  },
  {
    name: 'init --kdf-memory abc',
    args: ['vault', 'init', '--passphrase', '--kdf-memory', 'abc'],
    status: 1,
    stderr:
      'envmux: CONFIG: --kdf-memory must be a positive integer, not "abc"\n  hint: for example --kdf-memory 1\n',
  },
  {
    name: 'an unknown option: one line and a pointer to --help',
    args: ['vault', 'init', '--bogus'],
    status: 1,
    stderr: "envmux: unknown option '--bogus'\n  see: envmux vault init --help\n",
  },
  {
    name: 'an unknown command',
    args: ['frobnicate'],
    status: 1,
    stderr: "envmux: unknown command 'frobnicate'\n  see: envmux --help\n",
  },
  {
    name: 'init --kdf-memory above the bounds',
    args: ['vault', 'init', '--passphrase', '--kdf-memory', '1024'],
    env: { ENVMUX_VAULT_PASSPHRASE: 'a long enough passphrase' },
    status: 1,
    stderr:
      'envmux: CONFIG: Argon2id memory 1048576 KiB is outside 32 KiB..512 MiB (vault .envmux/vault.json)\n  hint: use at most --kdf-memory 512, --kdf-iterations 16, --kdf-parallelism 16 and memory × iterations ≤ 1024 MiB; the default is 64 MiB, t=3, p=4\n',
  },
  {
    name: 'init --kdf-iterations 1000',
    args: ['vault', 'init', '--passphrase', '--kdf-iterations', '1000'],
    env: { ENVMUX_VAULT_PASSPHRASE: 'a long enough passphrase' },
    status: 1,
    stderr:
      /^envmux: CONFIG: Argon2id iterations 1000 are outside 1\.\.16 \(vault \.envmux\/vault\.json\)\n {2}hint: /,
  },
  {
    name: 'a vault path below a file',
    args: ['vault', 'init', '--vault', '/etc/passwd/v.json'],
    status: 1,
    stderr:
      /^envmux: CONFIG: vault \/etc\/passwd\/v\.json cannot (be created|be used): a part of its path is a file, not a folder \[(EEXIST|ENOTDIR)\]\n {2}hint: choose a vault path in a writable folder \(--vault PATH or ENVMUX_VAULT_PATH\)\n$/,
  },
  {
    name: 'a vault path that cannot be created',
    args: ['vault', 'init', '--vault', '/proc/v.json'],
    status: 1,
    stderr:
      /^envmux: (CONFIG|ACCESS_DENIED): vault \/proc\/v\.json [^\n]+\[E[A-Z]+\]\n {2}hint: choose a vault path in a writable folder/,
  },
  {
    name: 'a 5,000-character file name: CONFIG, not retried',
    args: ['vault', 'list', '--vault', `${'a'.repeat(5000)}.json`],
    status: 1,
    stderr:
      /^envmux: CONFIG: vault (\/.*)?a{4000,}\.json has a name too long for the file system \[ENAMETOOLONG\]\n {2}hint: use a shorter path\n$/,
  },
  {
    name: 'a .env that is a folder',
    args: ['check'],
    setup: (dir) => mkdirSync(join(dir, '.env')),
    status: 1,
    stderr:
      'envmux check: 1 problem (no env files)\n  - .env: CONFIG: env file .env is a folder, not a file [EISDIR] (point at a file)\n',
  },
  {
    name: 'a JSON config with a syntax error: its line and column',
    args: ['check'],
    files: {
      '.env': 'A=1\n',
      'envmux.config.json': '{\n  "providers": ["env"]\n  "strict": true\n}\n',
    },
    // check exits 2 when it cannot run at all (docs/cli.md).
    status: 2,
    stderr:
      /^envmux check: 1 problem[^\n]*\n {2}- \/.*envmux\.config\.json:3: CONFIG: config file is not valid JSON at line 3, column 3\n$/,
  },
  {
    name: 'check: a NOT_FOUND names the chain and a near name in the local vault',
    args: ['check'],
    files: { '.env': 'API=$<secret:api/tokn>\n' },
    env: { ENVMUX_PROVIDERS: 'local,env' },
    setup: (dir) => {
      runCli(['vault', 'init'], dir);
      runCli(['vault', 'set', 'api/token'], dir, {}, { input: 't0k3n-value' });
    },
    status: 1,
    stderr:
      'envmux check: 1 problem (.env)\n  - .env:1 API $<secret:api/tokn>: NOT_FOUND: secret "api/tokn" was not found in any provider of the chain (local, env) (did you mean "api/token" in local? else create it, or give a default with :-)\n',
  },
  {
    name: 'check: a near scheme',
    args: ['check'],
    files: { '.env': 'API=$<secrt:api/token>\n' },
    env: { ENVMUX_PROVIDERS: 'env' },
    status: 1,
    stderr:
      'envmux check: 1 problem (.env)\n  - .env:1 API $<secrt:api/token>: INVALID_REFERENCE: unknown provider "secrt" (did you mean "secret"? else use secret:, env:, or the id of a configured provider)\n',
  },
  {
    name: 'a destructive command in a pipe without --yes refuses',
    args: ['vault', 'init', '--force'],
    setup: (dir) => {
      expect(runCli(['vault', 'init'], dir).status).toBe(0);
    },
    status: 1,
    stderr:
      'envmux: CONFIG: vault init --force destroys data and needs confirmation: the vault .envmux/vault.json (0 secret(s), 0 version(s)) is replaced by an empty one; the key file .envmux/vault.key is overwritten: copies of the vault in git history open only with the old key\n  hint: run it on a terminal to be asked, or pass --yes (scripts)\n',
  },
  {
    name: 'rm of a whole secret without --yes refuses',
    args: ['vault', 'rm', 'db/password'],
    setup: (dir) => {
      runCli(['vault', 'init'], dir);
      runCli(['vault', 'set', 'db/password'], dir, {}, { input: 'pw-1' });
    },
    status: 1,
    stderr:
      'envmux: CONFIG: vault rm db/password destroys data and needs confirmation: deletes db/password and its 1 version(s)\n  hint: run it on a terminal to be asked, or pass --yes (scripts)\n',
  },
  {
    name: 'a short passphrase is accepted with a warning',
    args: ['vault', 'init', '--passphrase', ...cheap],
    env: { ENVMUX_VAULT_PASSPHRASE: 'abc' },
    status: 0,
    stderr:
      /^warning: the passphrase has 3 character\(s\); use at least 12 \(a few random words\): a copy of the vault can be attacked offline\ncreated \.envmux\/vault\.json[\s\S]*\nwrote \.envmux\/\.gitattributes \(git merges the vault line by line: commit it\)\n/,
  },
];

describe('CLI messages and exit codes', () => {
  it.each(rows)('$name', (row) => {
    const dir = makeCase(row.files ?? {});
    row.setup?.(dir);
    const r = runCli(row.args, dir, row.env ?? {});
    if (typeof row.stderr === 'string') expect(r.stderr).toBe(row.stderr);
    else expect(r.stderr).toMatch(row.stderr);
    expect(r.stdout).toBe(row.stdout ?? '');
    expect(r.status).toBe(row.status);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).not.toContain('Usage:');
  });

  it('ENVMUX_DEBUG shows the stack of an unexpected failure only', () => {
    const dir = makeCase({});
    const r = runCli(['vault', 'cleanup', '--keep', '0'], dir, { ENVMUX_DEBUG: '1' });
    expect(r.stderr.split('\n')[0]).toBe(
      'envmux: CONFIG: --keep must be a positive integer, not "0"',
    );
  });

  it('init --force --yes keeps the old vault and key (0600, git-ignored) and says where', () => {
    const dir = makeCase({});
    runCli(['vault', 'init'], dir);
    const oldKey = readFileSync(join(dir, '.envmux/vault.key'), 'utf8');
    const r = runCli(['vault', 'init', '--force', '--yes'], dir);
    expect(r.status).toBe(0);
    const backups = readdirSync(join(dir, '.envmux')).filter((f) => f.includes('.bak-'));
    expect(backups.sort()).toEqual([
      expect.stringMatching(/^vault\.json\.bak-\d{8}T\d{6}Z$/),
      expect.stringMatching(/^vault\.key\.bak-\d{8}T\d{6}Z$/),
    ]);
    const keyBackup = join(dir, '.envmux', backups.find((b) => b.startsWith('vault.key'))!);
    expect(readFileSync(keyBackup, 'utf8')).toBe(oldKey);
    if (process.platform !== 'win32') {
      for (const b of backups) expect(statMode(join(dir, '.envmux', b))).toBe(0o600);
    }
    expect(r.stderr).toContain(`kept the old key in .envmux/${backups[1]} (0600)`);
    expect(r.stderr).not.toContain(oldKey.trim());
    expect(readFileSync(join(dir, '.envmux/.gitignore'), 'utf8')).toContain('*.bak-*');
  });

  it('one damaged record: vault list lists what is readable and names the damaged line', () => {
    const dir = makeCase({});
    runCli(['vault', 'init'], dir);
    runCli(['vault', 'set', 'a'], dir, {}, { input: 'v-a' });
    runCli(['vault', 'set', 'b'], dir, {}, { input: 'v-b' });
    const path = join(dir, '.envmux/vault.json');
    const lines = readFileSync(path, 'utf8').split('\n');
    lines[2] = lines[2]!.replace(/"nonce":"[^"]+"/, '"nonce":"x"');
    writeFileSync(path, lines.join('\n'));
    const r = runCli(['vault', 'list'], dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(
      /^NAME +VERSION +CREATED +DESCRIPTION\na +1 +\d{4}-\d\d-\d\d \d\d:\d\dZ\n$/,
    );
    expect(r.stderr).toBe(
      'envmux: DECRYPTION_FAILED: vault .envmux/vault.json line 3 is damaged (nonce is not 12 bytes of base64); it was skipped\n  hint: listed the 1 readable secret(s) without opening the vault; restore the damaged line from git, or delete it and set the secret again\n',
    );
    expect(r.stdout + r.stderr).not.toContain('v-a');
  });

  it('versions --json: the version is a string, like every store', () => {
    const dir = makeCase({});
    runCli(['vault', 'init'], dir);
    runCli(['vault', 'set', 'a'], dir, {}, { input: 'v' });
    const r = runCli(['vault', 'versions', 'a', '--json'], dir);
    expect(r.status).toBe(0);
    const [v] = JSON.parse(r.stdout);
    expect(v).toEqual({
      version: '1',
      created: expect.stringMatching(/Z$/),
      expires: null,
      expired: false,
      stages: ['latest'],
      description: null,
    });
  });
});

describe('runtime messages', () => {
  const app = 'console.log(process.env.DB ?? "unset");\n';

  it('a vault without its key (fresh clone): which vault, what is missing, the fix — not NOT_FOUND', () => {
    const dir = makeCase({ '.env': 'DB=$<secret:db/password>\n', 'app.js': app });
    runCli(['vault', 'init'], dir);
    runCli(['vault', 'set', 'db/password'], dir, {}, { input: 'pw-1' });
    rmSync(join(dir, '.envmux/vault.key'));
    const problem =
      ".env:1 DB $<secret:db/password>: CONFIG: vault .envmux/vault.json cannot be opened: no key (.envmux/vault.key does not exist and ENVMUX_VAULT_KEY is not set) (put the vault's key in .envmux/vault.key (chmod 600) or set ENVMUX_VAULT_KEY; `envmux vault list` checks that it opens)";
    const check = runCli(['check'], dir);
    expect(check.status).toBe(1);
    expect(check.stderr).toBe(`envmux check: 1 problem (.env)\n  - ${problem}\n`);
    const preload = runNode(['-r', 'envmux/register', 'app.js'], dir);
    expect(preload.status).toBe(1);
    expect(preload.stdout).toBe('');
    expect(preload.stderr).toContain(`  - ${problem}\n`);
    expect(preload.stderr).not.toContain('NOT_FOUND');
  });

  it('a header edited to absurd Argon2id costs: CONFIG naming the vault, at once', () => {
    const dir = makeCase({ '.env': 'DB=$<secret:db/password>\n', 'app.js': app });
    const env = { ENVMUX_VAULT_PASSPHRASE: 'a long enough passphrase' };
    runCli(['vault', 'init', '--passphrase', ...cheap], dir, env);
    const path = join(dir, '.envmux/vault.json');
    const text = readFileSync(path, 'utf8');
    writeFileSync(
      path,
      text.replace('"memory":1024,"iterations":1', '"memory":1048576,"iterations":1000'),
    );
    const r = runNode(['-r', 'envmux/register', 'app.js'], dir, env);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      'CONFIG: vault .envmux/vault.json asks for Argon2id iterations 1000 are outside 1..16; envmux accepts at most 512 MiB, 16 iterations, 16 lanes and 1024 MiB × iterations',
    );
  });

  it('ENVMUX_STRICT=flase is refused, naming the variable', () => {
    const dir = makeCase({ '.env': 'A=1\n', 'app.js': app });
    const r = runNode(['-r', 'envmux/register', 'app.js'], dir, { ENVMUX_STRICT: 'flase' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'envmux: the app was not started: CONFIG: ENVMUX_STRICT="flase" is not a boolean (set ENVMUX_STRICT to one of 1, true, yes, on or 0, false, no, off)\n',
    );
  });

  it('ENVMUX_DEBUG lists the chain, the files and the keys (names only) also when the load fails; check --json has the chain', () => {
    const dir = makeCase({
      '.env': 'A=$<secret:OKAY_NAME>\nB=$<secret:api/tokn>\n',
      'app.js': app,
    });
    const env = { ENVMUX_PROVIDERS: 'env', OKAY_NAME: 'okay-value-1', ENVMUX_DEBUG: '1' };
    const problem =
      '.env:2 B $<secret:api/tokn>: NOT_FOUND: secret "api/tokn" was not found in any provider of the chain (env) (create it, or give a default with :-)';
    const debug =
      'envmux: chain: env (listed in ENVMUX_PROVIDERS)\nenvmux: read .env; resolved 1 key(s), kept 0 from the environment\nenvmux:   A ← .env:1 via env\n';
    const check = runCli(['check'], dir, env);
    expect(check.status).toBe(1);
    expect(check.stderr).toBe(`${debug}envmux check: 1 problem (.env)\n  - ${problem}\n`);
    const run = runCli(['run', '--', 'node', 'app.js'], dir, env);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      `${debug}envmux: 1 problem; the command was not run:\n  - ${problem}\n`,
    );
    const preload = runNode(['-r', 'envmux/register', 'app.js'], dir, env);
    expect(preload.status).toBe(1);
    expect(preload.stderr).toContain(
      'envmux: read .env; set 0 key(s), kept 0 from the environment, in ',
    );
    expect(preload.stderr).toContain('envmux:   A ← .env:1 via env\n');
    for (const r of [check, run, preload])
      expect(r.stderr + r.stdout).not.toContain('okay-value-1');
    const json = runCli(['check', '--json'], dir, { ...env, ENVMUX_DEBUG: '0' });
    expect(JSON.parse(json.stdout).chain).toEqual([
      { provider: 'env', reason: 'listed in ENVMUX_PROVIDERS' },
    ]);
  });

  it('an uncaught loadConfig failure prints each problem once, with its code, no stack', () => {
    const dir = makeCase({
      '.env': 'A=$<secret:a>\nB=$<secret:b>\n',
      'app.cjs': "require('envmux').loadConfig({ providers: ['env'] });\n",
    });
    const r = runNode(['app.cjs'], dir);
    expect(r.status).toBe(1);
    // Node 22 and 24 print the stack; Node 20 prints it and then lists `errors` too.
    expect(r.stderr).toContain(
      `EnvmuxAggregateError [NOT_FOUND]: envmux could not load the environment: 2 problems
  - .env:1 A $<secret:a>: NOT_FOUND: secret "a" was not found in any provider of the chain (env) (create it, or give a default with :-)
  - .env:2 B $<secret:b>: NOT_FOUND: secret "b" was not found in any provider of the chain (env) (create it, or give a default with :-)`,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const debug = runNode(['app.cjs'], dir, { ENVMUX_DEBUG: '1' });
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});

function statMode(path: string): number {
  return existsSync(path) ? statSync(path).mode & 0o777 : 0;
}
