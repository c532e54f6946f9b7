// Whole-process start-up: node alone, --env-file, dotenv, dotenvx and envmux/register on the same
// files, side by side in one run (hyperfine when present, else Node timers), plus peak RSS.
// NODE_EXTRA_CA_CERTS and DOTENV_* are unset: they add work to every start and would hide ours.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, plainEnv, refEnv } from './fixtures.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !/^(NODE_EXTRA_CA_CERTS|NODE_OPTIONS|DOTENV_|ENVMUX_)/.test(k),
  ),
);
export const hasHyperfine = spawnSync('hyperfine', ['--version']).status === 0;

/** Median wall time (ms) of `args` run `RUNS` times after warm-up. */
export function time(args, cwd, extraEnv = {}) {
  const runEnv = { ...env, ...extraEnv };
  if (hasHyperfine) {
    const out = join(cwd, 'hyperfine.json');
    execFileSync(
      'hyperfine',
      [
        '-N',
        '--warmup',
        '3',
        '--runs',
        String(RUNS),
        '--export-json',
        out,
        [process.execPath, ...args].map(quote).join(' '),
      ],
      { cwd, env: runEnv, stdio: 'ignore' },
    );
    const { results } = JSON.parse(execFileSync('cat', [out], { encoding: 'utf8' }));
    return results[0].median * 1000;
  }
  const samples = [];
  for (let i = 0; i < RUNS + 3; i++) {
    const t = process.hrtime.bigint();
    spawnSync(process.execPath, args, { cwd, env: runEnv, stdio: 'ignore' });
    if (i >= 3) samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(samples);
}

/** Median peak RSS (MiB) of `args`, read by GNU time. */
function rss(args, cwd, extraEnv = {}) {
  if (!existsSync('/usr/bin/time')) return Number.NaN;
  const samples = [];
  for (let i = 0; i < 5; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...args], {
      cwd,
      env: { ...env, ...extraEnv },
      encoding: 'utf8',
    });
    samples.push(Number(r.stderr.trim().split('\n').pop()) / 1024);
  }
  return median(samples);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
function quote(s) {
  return /[^\w@%+=:,./-]/.test(s) ? `'${s.replaceAll("'", "'\\''")}'` : s;
}

/** The smallest `.env.schema` varlock loads: its header only (items optional, untyped). */
const VARLOCK_SCHEMA = '# @defaultRequired=false\n# ---\n';

export const memoryConfig = (latency) => `import { memory } from 'envmux/testing';
const values = Object.fromEntries(Array.from({ length: 20 }, (_, i) => ['app/secret_' + i, 'value-' + i]));
export default { providers: [memory({ values, latency: ${latency} })] };
`;

/** A project with a local vault holding `n` secrets (created with the built CLI) and a .env referring to them. */
function localVaultFixture(n) {
  const dir = fixture(`vault${n}`, { '.env': refEnv(50, n) });
  const cli = (args, input) =>
    execFileSync(
      process.execPath,
      [new URL('../dist/cli.cjs', import.meta.url).pathname, ...args],
      { cwd: dir, env, input, stdio: ['pipe', 'ignore', 'ignore'] },
    );
  if (!existsSync(join(dir, '.envmux/vault.json'))) {
    cli(['vault', 'init']);
    for (let i = 0; i < n; i++) cli(['vault', 'set', `app/secret_${i}`], `value-${i}`);
  }
  return dir;
}

export function runStartup() {
  const cases = [
    ['50-line .env', 'plain50', plainEnv(50)],
    ['1,000-line .env', 'plain1000', plainEnv(1000)],
  ];
  const rows = [];
  for (const [label, name, source] of cases) {
    const cwd = fixture(name, { '.env': source });
    // varlock's preload (`varlock/auto-load`, ESM: `--import`) reads the same .env beside the
    // `.env.schema` it requires (an empty one: no item required, no types), in a folder of its own
    // so that no other tool sees the schema.
    const varlockCwd = fixture(`${name}-varlock`, {
      '.env': source,
      '.env.schema': VARLOCK_SCHEMA,
    });
    const base = time(['-e', '0'], cwd);
    const dotenv = time(['-r', 'dotenv/config', '-e', '0'], cwd);
    const measured = [
      ['node -e 0', ['-e', '0'], base],
      ['node --env-file=.env', ['--env-file=.env', '-e', '0']],
      ['node -r dotenv/config', ['-r', 'dotenv/config', '-e', '0'], dotenv],
      ['node -r @dotenvx/dotenvx/config (2.x)', ['-r', '@dotenvx/dotenvx/config', '-e', '0']],
      [
        'node --import varlock/auto-load (1.x, + .env.schema)',
        ['--import', 'varlock/auto-load', '-e', '0'],
        undefined,
        varlockCwd,
      ],
      ['node -r envmux/register', ['-r', 'envmux/register', '-e', '0']],
      ['node --import envmux/register', ['--import', 'envmux/register', '-e', '0']],
    ];
    for (const [command, args, known, at = cwd] of measured) {
      const ms = known ?? time(args, at);
      rows.push({
        file: label,
        command,
        ms,
        vsBare: ms / base,
        vsDotenv: ms / dotenv,
        rss: rss(args, at),
      });
    }
  }
  // 20 references to an asynchronous store (memory defined in envmux.config.mjs): the worker bridge
  // under -r, the main thread under --import. Ratios against bare node on the same folder.
  for (const latency of [0, 20]) {
    const dir = fixture(`memory20-${latency}ms`, {
      '.env': refEnv(50, 20),
      'envmux.config.mjs': memoryConfig(latency),
    });
    const base = time(['-e', '0'], dir);
    const dotenv = time(['-r', 'dotenv/config', '-e', '0'], dir);
    for (const [name, args, known] of [
      ['node -e 0', ['-e', '0'], base],
      ['node -r dotenv/config (no resolution)', ['-r', 'dotenv/config', '-e', '0'], dotenv],
      [
        `node -r envmux/register, 20 refs → memory @${latency} ms`,
        ['-r', 'envmux/register', '-e', '0'],
      ],
      [
        `node --import envmux/register, 20 refs → memory @${latency} ms`,
        ['--import', 'envmux/register', '-e', '0'],
      ],
    ]) {
      const ms = known ?? time(args, dir);
      rows.push({
        file: '50 lines + 20 async refs',
        command: name,
        ms,
        vsBare: ms / base,
        vsDotenv: ms / dotenv,
        rss: rss(args, dir),
      });
    }
  }
  // 20 references to the local vault (raw key file: resolved in-thread, no worker).
  const vault = localVaultFixture(20);
  const vaultBase = time(['-e', '0'], vault);
  const vaultDotenv = time(['-r', 'dotenv/config', '-e', '0'], vault);
  const msVault = time(['-r', 'envmux/register', '-e', '0'], vault);
  rows.push({
    file: '50 lines + 20 vault refs',
    command: 'node -r envmux/register, 20 refs → local vault (raw key)',
    ms: msVault,
    vsBare: msVault / vaultBase,
    vsDotenv: msVault / vaultDotenv,
    rss: rss(['-r', 'envmux/register', '-e', '0'], vault),
  });
  // The library alone: `import('envmux')` over bare node.
  const lib = fixture('import-lib', { 'a.mjs': '', 'b.mjs': "await import('envmux');\n" });
  const bare = time(['a.mjs'], lib);
  const imported = time(['b.mjs'], lib);
  rows.push({
    file: '(no .env)',
    command: 'node -e "await import(\'envmux\')"',
    ms: imported,
    vsBare: imported / bare,
    vsDotenv: Number.NaN,
    rss: rss(['b.mjs'], lib),
    note: `+${(imported - bare).toFixed(1)} ms over bare node`,
  });
  return rows;
}

export function startupTable(rows) {
  const lines = [
    '| file | command | median ms | × bare node | × dotenv/config | peak RSS MiB |',
    '|---|---|---:|---:|---:|---:|',
  ];
  const ratio = (x) => (Number.isNaN(x) ? '—' : x.toFixed(2));
  for (const r of rows)
    lines.push(
      `| ${r.file} | \`${r.command}\`${r.note ? ` (${r.note})` : ''} | ${r.ms.toFixed(1)} | ${ratio(r.vsBare)} | ${ratio(r.vsDotenv)} | ${r.rss.toFixed(1)} |`,
    );
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(startupTable(runStartup()));
