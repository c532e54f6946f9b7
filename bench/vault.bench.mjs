// The local vault's costs (issue 4), self-contained: process start with a raw key and 100 entries
// against a plain 100-line .env load, a passphrase vault through the preload, Argon2id derivations
// per process (must be 1), and reads (provider getSync, resolver warm cache). Needs `npm run build`.
// NODE_EXTRA_CA_CERTS, NODE_OPTIONS, DOTENV_* and ENVMUX_* are unset for the start-up runs.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { do_not_optimize, measure } from 'mitata';
import { hasHyperfine, time } from './startup.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const N = 100;
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !/^(NODE_EXTRA_CA_CERTS|NODE_OPTIONS|DOTENV_|ENVMUX_)/.test(k),
  ),
);
const cli = (cwd, args, input, extra = {}) =>
  execFileSync(process.execPath, [join(dist, 'cli.cjs'), ...args], {
    cwd,
    input,
    env: { ...env, ...extra },
    stdio: ['pipe', 'pipe', 'ignore'],
  });

const work = mkdtempSync(join(tmpdir(), 'envmux-bench-vault-'));
const names = Array.from({ length: N }, (_, i) => `app/secret_${i}`);
const app = 'app.cjs';

// Plain: 100 literal values. Raw key: the same keys as references into a 100-entry vault.
const plain = join(work, 'plain');
mkdirSync(plain);
writeFileSync(
  join(plain, '.env'),
  names.map((_, i) => `K${i}=value-${i}-${'x'.repeat(24)}`).join('\n'),
);
writeFileSync(join(plain, app), '');
// The same 100 references served by the environment: the cost of references without a vault.
const envRefs = join(work, 'env-refs');
mkdirSync(envRefs);
writeFileSync(join(envRefs, '.env'), names.map((_, i) => `K${i}=$<env:V${i}>`).join('\n'));
writeFileSync(join(envRefs, app), "if (!process.env.K99) throw new Error('K99 unset');\n");
const envValues = Object.fromEntries(
  names.map((_, i) => [`V${i}`, `value-${i}-${'x'.repeat(24)}`]),
);
const raw = join(work, 'raw');
mkdirSync(raw);
writeFileSync(join(raw, '.env'), names.map((n, i) => `K${i}=$<secret:${n}>`).join('\n'));
writeFileSync(join(raw, app), "if (!process.env.K99) throw new Error('K99 unset');\n");
cli(raw, ['vault', 'init']);
const { local } = await import(join(dist, 'providers.mjs'));
const { createResolver } = await import(join(dist, 'index.mjs'));
{
  const vault = local({ cwd: raw, env: {}, audit: false, keyFile: join(raw, '.envmux/vault.key') });
  for (const [i, n] of names.entries()) await vault.set(n, `value-${i}-${'x'.repeat(24)}`);
}
// Passphrase: the same vault under Argon2id (RFC 9106 second option, the default).
const pass = join(work, 'pass');
mkdirSync(pass);
writeFileSync(join(pass, '.env'), readFileSync(join(raw, '.env')));
writeFileSync(join(pass, app), readFileSync(join(raw, app)));
cli(pass, ['vault', 'init', '--passphrase'], 'bench passphrase\n');
const passEnv = { ENVMUX_VAULT_PASSPHRASE: 'bench passphrase' };
{
  const vault = local({ cwd: pass, env: {}, audit: false, passphrase: 'bench passphrase' });
  for (const [i, n] of names.entries()) await vault.set(n, `value-${i}-${'x'.repeat(24)}`);
}

const register = ['-r', join(dist, 'register.cjs'), app];
const rows = [
  ['`node app.cjs` (no preload)', time([app], plain)],
  ['plain 100-line `.env`', time(register, plain)],
  ['100 references to env vars (no vault)', time(register, envRefs, envValues)],
  ['100 references, raw key file', time(register, raw)],
  ['100 references, passphrase (Argon2id 64 MiB)', time(register, pass, passEnv)],
];
const base = rows[1][1];

// Derivations per process: a fresh process loads 100 references from the passphrase vault.
const count = spawnSync(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    `const { loadConfig } = await import(${JSON.stringify(join(dist, 'index.mjs'))});
const c = await loadConfig({ cwd: ${JSON.stringify(pass)}, configFile: false, processEnv: {}, env: { ENVMUX_VAULT_PASSPHRASE: 'bench passphrase' }, audit: false });
if (Object.keys(c).length !== ${N}) throw new Error('not all keys');
process.stdout.write(String(globalThis[Symbol.for('envmux.vault-keys')].derivations));`,
  ],
  { cwd: pass, env, encoding: 'utf8' },
);
if (count.status !== 0) throw new Error(count.stderr);

// Reads: the provider's getSync (decrypts each time) and the resolver's warm cache.
const vault = local({ cwd: raw, env: {}, audit: false, keyFile: join(raw, '.envmux/vault.key') });
vault.getSync(names[0]);
const resolver = createResolver({ providers: [vault], audit: false, env: {} });
await resolver.get(names[0]);
const reads = [
  [
    'await no-op async fn (floor)',
    await measure(async () => do_not_optimize(await (async () => 1)())),
  ],
  [
    'resolver.get, warm cache, `local` provider',
    await measure(async () => do_not_optimize(await resolver.get(names[0]))),
  ],
  [
    '`local` getSync (stat + AES-256-GCM decrypt)',
    await measure(() => do_not_optimize(vault.getSync(names[0]))),
  ],
];

console.log(
  `Measured ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${hasHyperfine ? 'hyperfine -N' : 'Node timers'}, median of ${RUNS} runs.\n`,
);
console.log('| start-up (node -r envmux/register app.cjs) | ms | vs plain .env |');
console.log('|---|---:|---:|');
for (const [what, ms] of rows) {
  console.log(
    `| ${what} | ${ms.toFixed(1)} | ${ms === base ? '—' : `${ms - base >= 0 ? '+' : ''}${(ms - base).toFixed(1)} ms`} |`,
  );
}
console.log(
  `\nArgon2id derivations in a process loading ${N} references from a passphrase vault: ${count.stdout}`,
);
console.log('\n| read | median |');
console.log('|---|---:|');
for (const [what, stats] of reads) console.log(`| ${what} | ${(stats.p50 / 1000).toFixed(3)} µs |`);
rmSync(work, { recursive: true, force: true });
