// Crash safety of the audit file: a writer process is killed with SIGKILL at random points, many
// times; afterwards every entry the writer acknowledged is there and parses. The only lines that do
// not parse are torn writes cut by a kill (Linux stops a write at a page boundary once SIGKILL is
// pending): at most one per kill, never acknowledged, and ended by the next writer so that its own
// entries start lines of their own.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, makeCase, nodeBin } from '../e2e/consumer.js';

const writer = `const { createResolver } = require('envmux');
const { memory } = require('envmux/testing');
const values = Object.fromEntries(Array.from({ length: 100000 }, (_, i) => ['k' + i, 'SECRET-' + i]));
const r = createResolver({ providers: [memory({ values, batch: false })], cache: false, audit: { file: process.argv[2] } });
(async () => {
  for (let i = 0; ; i++) {
    await r.get('k' + i);
    process.stdout.write('ack ' + i + '\\n');
  }
})();
`;

describe('audit file under kill -9', () => {
  it('keeps every acknowledged entry and no broken line, over many kills', async () => {
    const dir = makeCase({ 'writer.cjs': writer });
    const file = join(dir, 'audit.jsonl');
    let acknowledged = -1;
    for (let round = 0; round < 20; round++) {
      const child = spawn(nodeBin, ['writer.cjs', file], {
        cwd: dir,
        env: cleanEnv(),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
      });
      // Let it start writing, then kill it at a random point.
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (out.includes('ack') || child.exitCode !== null) {
            clearInterval(check);
            resolve();
          }
        }, 5);
      });
      await new Promise((r) => setTimeout(r, Math.random() * 100));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const acks = out.match(/ack (\d+)\n/g) ?? [];
      const last = acks.length ? Number(acks[acks.length - 1]!.slice(4)) : -1;
      const text = readFileSync(file, 'utf8');
      expect(text).not.toContain('SECRET-');
      const lines = text.split('\n');
      lines.pop(); // '' after a whole line, or the write this kill cut
      const entries = [];
      let torn = 0; // writes cut by the earlier kills, each ended by the next writer
      for (const line of lines) {
        try {
          entries.push(JSON.parse(line));
        } catch {
          expect(line.startsWith('{"action":"get"')).toBe(true);
          torn++;
        }
      }
      expect(torn).toBeLessThanOrEqual(round);
      const keys = new Set(entries.map((e) => e.key));
      for (let i = 0; i <= last; i++) expect(keys.has(`k${i}`)).toBe(true);
      acknowledged = Math.max(acknowledged, last);
    }
    expect(acknowledged).toBeGreaterThan(0);
  }, 180_000);
});
