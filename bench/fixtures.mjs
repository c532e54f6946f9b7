// Benchmark fixtures: env files of a given size, with or without references, in bench/.tmp (inside
// the package, so `envmux/register` resolves by self-reference to the built dist/).

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '.tmp');

/** `n` lines of plain KEY=value, dotenv style (some quoted, some commented). */
export function plainEnv(n) {
  const lines = [];
  for (let i = 0; i < n; i++) {
    if (i % 10 === 0) lines.push(`# section ${i}`);
    else if (i % 7 === 0) lines.push(`KEY_${i}="quoted value ${i} with spaces"`);
    else lines.push(`KEY_${i}=value-${i}-${'x'.repeat(i % 20)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `refs` reference lines to `scheme`, after `plain` plain lines. */
export function refEnv(plain, refs, scheme = 'secret') {
  const lines = [plainEnv(plain).trimEnd()];
  for (let i = 0; i < refs; i++) lines.push(`REF_${i}=$<${scheme}:app/secret_${i}>`);
  return `${lines.join('\n')}\n`;
}

/** Write `files` (name → content) into bench/.tmp/<name>; returns the folder. */
export function fixture(name, files) {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), content);
  }
  return dir;
}
