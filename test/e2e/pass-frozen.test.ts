// `pass` with a frozen gpg-agent (SIGSTOP): a read through the preload and through `envmux run`
// ends with TIMEOUT within the call timeout, and no `pass` or `gpg` is left running afterwards;
// a Ctrl-C during the hang (SIGINT to the job's process group) leaves none either.

import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GpgStore, makeGpgStore, passMissing } from '../providers/pass/gpg-store.js';
import { cleanEnv, makeCase, nodeBin, runCli, runNode } from './consumer.js';

const missing = passMissing();
if (missing && process.env.ENVMUX_REQUIRE_SERVERS === '1') {
  throw new Error(`pass e2e needs pass and gpg (ENVMUX_REQUIRE_SERVERS=1): ${missing}`);
}
if (missing) console.warn(`\n*** SKIPPED frozen gpg-agent e2e: ${missing} ***\n`);

let store: GpgStore;
let agent: number | undefined;

/** Processes whose command line names this store (a left-over `pass show`, `gpg -d`). */
function leftOver(): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout;
  return ps.split('\n').filter((line) => line.includes(store.dir) && !line.includes('gpg-agent'));
}

beforeAll(() => {
  if (missing) return;
  store = makeGpgStore();
  store.insert('app/db', 'frozen-agent-canary\n');
  // Start the agent with a first read, then freeze it.
  spawnSync('pass', ['show', 'app/db'], { env: store.env, stdio: 'ignore' });
  const found = spawnSync('pgrep', ['-f', `gpg-agent --homedir ${store.gnupgHome}`], {
    encoding: 'utf8',
  }).stdout.trim();
  agent = Number(found.split('\n')[0]) || undefined;
  if (agent) process.kill(agent, 'SIGSTOP');
}, 60_000);
afterAll(() => {
  if (agent) process.kill(agent, 'SIGCONT');
  for (const line of store ? leftOver() : []) process.kill(Number.parseInt(line, 10), 'SIGKILL');
  store?.close();
});

describe.skipIf(!!missing)('pass with a frozen gpg-agent (packed package)', () => {
  const env = () => ({
    ENVMUX_PROVIDERS: 'pass',
    ENVMUX_TIMEOUT: '2000',
    GNUPGHOME: store.gnupgHome,
    PASSWORD_STORE_DIR: store.dir,
  });
  const files = {
    '.env': 'DB=$<pass:app/db>\n',
    'app.cjs': 'console.log("started", typeof process.env.DB);\n',
  };

  it('the agent is frozen', () => {
    expect(agent).toBeGreaterThan(0);
  });

  it('node -r envmux/register: TIMEOUT within the call timeout, no pass or gpg left', () => {
    const dir = makeCase(files);
    const started = Date.now();
    const r = runNode(['-r', 'envmux/register', 'app.cjs'], dir, env(), { timeout: 40_000 });
    const took = Date.now() - started;
    expect(r.status).toBe(1);
    expect(r.stdout).not.toContain('started');
    expect(r.stderr).toContain('TIMEOUT');
    expect(r.stderr).not.toContain('frozen-agent-canary');
    expect(took).toBeLessThan(2000 + 15_000);
    expect(leftOver()).toEqual([]);
  }, 60_000);

  it('Ctrl-C while the read hangs: the start ends, and no pass or gpg is left', async () => {
    const dir = makeCase(files);
    // A job of its own, as a shell runs it: the terminal's SIGINT goes to the whole group.
    const child = spawn(nodeBin, ['-r', 'envmux/register', 'app.cjs'], {
      cwd: dir,
      env: cleanEnv({ ...env(), ENVMUX_TIMEOUT: '30000' }),
      stdio: 'ignore',
      detached: true,
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const until = async (done: () => boolean) => {
      for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
    };
    await until(() => leftOver().length > 0);
    expect(leftOver().length).toBeGreaterThan(0); // pass is waiting on the frozen agent
    process.kill(-child.pid!, 'SIGINT');
    await exited;
    await until(() => leftOver().length === 0);
    expect(leftOver()).toEqual([]);
  }, 60_000);

  it('envmux run: TIMEOUT within the call timeout, no pass or gpg left', () => {
    const dir = makeCase(files);
    const started = Date.now();
    const r = runCli(['run', '--', process.execPath, 'app.cjs'], dir, env(), { timeout: 40_000 });
    const took = Date.now() - started;
    expect(r.status).toBe(1);
    expect(r.stdout).not.toContain('started');
    expect(r.stderr).toContain('TIMEOUT');
    expect(took).toBeLessThan(2000 + 15_000);
    expect(leftOver()).toEqual([]);
  }, 60_000);
});
