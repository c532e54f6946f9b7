// testing: runs this folder's unit tests (node's own test runner) — the app's code tested against
// in-memory stores from `envmux/testing`, with outages and an expired session injected.

import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
console.log('$ node --test --test-reporter=spec test/billing.test.mjs');
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', 'test/billing.test.mjs'], {
  cwd: here,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
