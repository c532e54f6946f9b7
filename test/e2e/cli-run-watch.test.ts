// `envmux run --watch` from the packed package: a secret whose content changes restarts the command
// exactly once per change (graceful signal, SIGKILL after the grace period), an unchanged re-read
// restarts nothing, the reason on stderr names keys and providers but never a value; exit status
// passes through.

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { cleanEnv, makeCase, nodeBin } from './consumer.js';

const FIRST = 'first-value-1111';
const SECOND = 'second-value-2222';
const short = (v: string) => createHash('sha256').update(v).digest('hex').slice(0, 12);

/** The child prints a digest of its value (never the value), and says when it is asked to stop. */
const CHILD = `
const { createHash } = require('node:crypto');
const h = createHash('sha256').update(process.env.DB_PASSWORD).digest('hex').slice(0, 12);
console.log('start ' + h);
process.on('SIGTERM', () => {
  if (process.env.IGNORE_TERM) { console.log('ignoring SIGTERM'); return; }
  console.log('stop ' + h);
  process.exit(0);
});
setInterval(() => {}, 1000);
`;

interface Watched {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  closed: Promise<[number | null, NodeJS.Signals | null]>;
}

function start(dir: string, args: string[], env: Record<string, string> = {}): Watched {
  const cli = join(inject('consumerDir'), 'node_modules/envmux/dist/cli.cjs');
  const child = spawn(nodeBin, [cli, 'run', ...args], {
    cwd: dir,
    env: cleanEnv({ ENVMUX_FILE_DIR: join(dir, 'secrets'), ...env }),
    // Its own process group: a test that ends envmux with SIGKILL ends its command with it.
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  return { child, out: () => stdout, err: () => stderr, closed };
}

async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const count = (text: string, word: string) =>
  text.split('\n').filter((l) => l.startsWith(word)).length;

function project(): string {
  const dir = makeCase({ '.env': 'DB_PASSWORD=$<secret:db>\nPLAIN=plain-value\n' });
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'secrets/db'), FIRST);
  return dir;
}

describe('envmux run --watch', () => {
  it('restarts the command once per real change and never for an unchanged re-read', async () => {
    const dir = project();
    const run = start(dir, [
      '--watch',
      '--watch-interval',
      '150ms',
      '--grace',
      '5s',
      '--provider',
      'file',
      '--',
      'node',
      '-e',
      CHILD,
    ]);
    await until(() => run.out().includes(`start ${short(FIRST)}`), 'the first start');
    // Same content rewritten and touched: re-read several times, nothing restarts.
    writeFileSync(join(dir, 'secrets/db'), FIRST);
    utimesSync(join(dir, 'secrets/db'), new Date(), new Date());
    await sleep(900);
    expect(count(run.out(), 'start')).toBe(1);

    writeFileSync(join(dir, 'secrets/db'), SECOND);
    await until(() => run.out().includes(`start ${short(SECOND)}`), 'the restart');
    await sleep(900);
    expect(run.out()).toBe(`start ${short(FIRST)}\nstop ${short(FIRST)}\nstart ${short(SECOND)}\n`);
    expect(run.err()).toMatch(
      /^envmux: secret "db" \(file\) changed \(DB_PASSWORD\): restarting the command \(SIGTERM, then SIGKILL after 5s\)$/m,
    );
    expect(run.err()).not.toContain(FIRST);
    expect(run.err()).not.toContain(SECOND);

    // A second change: exactly one more restart.
    writeFileSync(join(dir, 'secrets/db'), FIRST);
    await until(() => count(run.out(), 'start') === 3, 'the second restart');
    await sleep(600);
    expect(count(run.out(), 'start')).toBe(3);

    // A forwarded SIGTERM ends the command for good; its status is envmux's.
    run.child.kill('SIGTERM');
    expect(await run.closed).toEqual([0, null]);
    expect(count(run.out(), 'start')).toBe(3);
  }, 60_000);

  it('sends SIGKILL after the grace period; a change that fails to load keeps the command', async () => {
    const dir = project();
    const run = start(
      dir,
      [
        '--watch',
        '--watch-interval',
        '150ms',
        '--grace',
        '300ms',
        '--provider',
        'file',
        '--',
        'node',
        '-e',
        CHILD,
      ],
      { IGNORE_TERM: '1' },
    );
    await until(() => run.out().includes(`start ${short(FIRST)}`), 'the first start');
    writeFileSync(join(dir, 'secrets/db'), SECOND);
    await until(() => run.out().includes(`start ${short(SECOND)}`), 'the restart');
    expect(run.out()).toContain('ignoring SIGTERM');
    expect(run.err()).toMatch(/did not end within 300ms of SIGTERM; sending SIGKILL/);

    // The secret disappears: reported, the command keeps running, nothing restarts.
    const { rmSync } = await import('node:fs');
    rmSync(join(dir, 'secrets/db'));
    await until(() => /keeps running/.test(run.err()), 'the problem report');
    await sleep(500);
    expect(count(run.out(), 'start')).toBe(2);
    expect(run.err()).not.toContain(SECOND);
    // SIGKILL gives envmux no chance to stop the command (which ignores SIGTERM): the whole group.
    process.kill(-run.child.pid!, 'SIGKILL');
    await run.closed;
  }, 60_000);

  it('ends with the command’s own exit status', async () => {
    const dir = project();
    const run = start(dir, [
      '--watch',
      '--watch-interval',
      '100ms',
      '--provider',
      'file',
      '--',
      'node',
      '-e',
      'setTimeout(() => process.exit(7), 300)',
    ]);
    expect(await run.closed).toEqual([7, null]);
  }, 30_000);
});
