// The vault under several processes: writers SIGKILLed at random points (30 times) never leave a
// broken vault or lose an acknowledged write, and concurrent writers (4 processes × 10 sets) lose
// nothing. The children run the provider bundled from src (rolldown, once per run).

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { local } from '../../../src/providers/local/local.js';
import { makeVault } from './vault-fixture.js';

const here = dirname(fileURLToPath(import.meta.url));
let writer: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'envmux-vault-bundle-'));
  const { build } = await import('rolldown');
  await build({
    input: join(here, '../../../src/providers/local/index.ts'),
    platform: 'node',
    logLevel: 'silent',
    output: { file: join(dir, 'local.mjs'), format: 'esm', codeSplitting: false },
  });
  writer = join(dir, 'writer.mjs');
  // argv: vault path, key (base64), name prefix, count. Prints each name once its set resolved.
  writeFileSync(
    writer,
    `import { local } from ${JSON.stringify(pathToFileURL(join(dir, 'local.mjs')).href)};
const [path, key, prefix, count] = process.argv.slice(2);
const vault = local({ path, key, env: {}, session: false, audit: false });
for (let i = 0; i < Number(count); i++) {
  const name = prefix + '/k' + i;
  await vault.set(name, 'v-' + name);
  await vault.set('shared', prefix + '-' + i);
  process.stdout.write(name + '\\n');
}
`,
  );
}, 60_000);

function start(path: string, key: string, prefix: string, count: number): ChildProcess {
  return spawn(process.execPath, [writer, path, key, prefix, String(count)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

async function vaultKey(keyFile: string): Promise<string> {
  const { readFileSync } = await import('node:fs');
  return readFileSync(keyFile, 'utf8').trim();
}

describe('crash safety', () => {
  it('a writer killed at random points 30 times leaves a vault that opens, with every acknowledged write', async () => {
    const v = await makeVault();
    const key = await vaultKey(v.keyFile);
    const acknowledged: string[] = [];
    let sharedAcks = 0;
    for (let round = 0; round < 30; round++) {
      const child = start(v.path, key, `r${round}`, 1000);
      const acks: string[] = [];
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      const waitFor = Math.floor(Math.random() * 4);
      await new Promise<void>((resolve) => {
        const kill = () => {
          setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, Math.random() * 6);
        };
        if (waitFor === 0) setTimeout(kill, 20 + Math.random() * 60);
        let buffered = '';
        child.stdout!.on('data', (d) => {
          buffered += d;
          const lines = buffered.split('\n');
          buffered = lines.pop()!;
          acks.push(...lines);
          if (waitFor > 0 && acks.length === waitFor) kill();
        });
        child.once('exit', () => resolve());
      });
      await exited(child);
      expect(stderr, `round ${round}: the writer failed on its own`).toBe('');
      acknowledged.push(...acks);
      sharedAcks += acks.length;
      // The vault opens and verifies whole, and every acknowledged write is there.
      const reader = local({ path: v.path, key, env: {}, session: false, audit: false });
      for (const name of acknowledged) {
        expect(reader.getSync!(name), `round ${round}: ${name}`).toBe(`v-${name}`);
      }
      const versions = await reader.versions('shared');
      expect(versions.length, `round ${round}`).toBeGreaterThanOrEqual(sharedAcks);
    }
    expect(acknowledged.length).toBeGreaterThan(20);
    // The next write clears what killed writers left: no lock, no orphan temp files.
    await local({ path: v.path, key, env: {}, session: false, audit: false }).set('done', 'yes');
    const left = readdirSync(dirname(v.path)).filter(
      (f) => f.endsWith('.tmp') || f.includes('.lock'),
    );
    expect(left).toEqual([]);
  }, 60_000);
});

describe('concurrent writers', () => {
  it('4 processes × 10 sets each lose no update', async () => {
    const v = await makeVault();
    const key = await vaultKey(v.keyFile);
    const children = Array.from({ length: 4 }, (_, i) => start(v.path, key, `p${i}`, 10));
    const errors: string[] = [];
    for (const child of children) child.stderr!.on('data', (d) => errors.push(String(d)));
    const codes = await Promise.all(children.map(exited));
    expect(errors.join('')).toBe('');
    expect(codes).toEqual([0, 0, 0, 0]);
    const reader = local({ path: v.path, key, env: {}, session: false, audit: false });
    const names = (await reader.list('p')).map((i) => i.name);
    expect(names).toHaveLength(40);
    for (const name of names) expect(reader.getSync!(name)).toBe(`v-${name}`);
    // Forty sets of one name from four processes: forty versions, numbered 1..40.
    const versions = await reader.versions('shared');
    expect(versions.map((x) => Number(x.version))).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    expect(existsSync(`${v.path}.lock`)).toBe(false);
  }, 60_000);
});
