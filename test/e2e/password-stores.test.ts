// `$<pass:...>` resolved by `node -r envmux/register` from the packed package, against the real
// `pass` and `gpg` (a throwaway key in a temp GNUPGHOME): the first-line / key: value convention,
// and a missing entry failing the start without printing any value.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GpgStore, makeGpgStore, passMissing } from '../providers/pass/gpg-store.js';
import { makeCase, runNode } from './consumer.js';

const missing = passMissing();
if (missing && process.env.ENVMUX_REQUIRE_SERVERS === '1') {
  throw new Error(`pass e2e needs pass and gpg (ENVMUX_REQUIRE_SERVERS=1): ${missing}`);
}
if (missing) console.warn(`SKIPPED pass e2e: ${missing}`);

let store: GpgStore;
beforeAll(() => {
  if (missing) return;
  store = makeGpgStore();
  store.insert('web/github', 'gh-e2e-password\nlogin: octo\nurl: https://github.com\n');
  store.insert('app/db-url', 'postgres://u:p@db/app\n');
}, 60_000);
afterAll(() => store?.close());

const app =
  'console.log(JSON.stringify({ A: process.env.A, B: process.env.B, C: process.env.C }));\n';

describe.skipIf(!!missing)('pass through node -r envmux/register (packed package)', () => {
  const envOf = () => ({
    ENVMUX_PROVIDERS: 'pass,env',
    GNUPGHOME: store.gnupgHome,
    PASSWORD_STORE_DIR: store.dir,
  });

  it('fills process.env from pass entries before the app runs', () => {
    const dir = makeCase({
      '.env':
        'A="$<pass:web/github#password>"\nB="$<pass:web/github#login>"\nC=$<pass:app/db-url>\n',
      'app.cjs': app,
    });
    const r = runNode(['-r', 'envmux/register', 'app.cjs'], dir, envOf(), { timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      A: 'gh-e2e-password',
      B: 'octo',
      C: 'postgres://u:p@db/app',
    });
  });

  it('without #field an entry gives its first line, #* the whole entry', () => {
    const dir = makeCase({
      '.env': 'A=$<pass:web/github>\nB="$<pass:web/github#*>"\nC=$<pass:web/github#url>\n',
      'app.cjs': app,
    });
    const r = runNode(['-r', 'envmux/register', 'app.cjs'], dir, envOf(), { timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      A: 'gh-e2e-password',
      B: 'gh-e2e-password\nlogin: octo\nurl: https://github.com',
      C: 'https://github.com',
    });
  });

  it('a missing entry and a missing #field fail the start, no value printed', () => {
    const dir = makeCase({
      '.env': 'A=$<pass:web/missing>\nB=$<pass:web/github#nope>\n',
      'app.cjs': app,
    });
    const r = runNode(['-r', 'envmux/register', 'app.cjs'], dir, envOf(), { timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('.env:1 A $<pass:web/missing>: NOT_FOUND');
    expect(r.stderr).toContain('.env:2 B $<pass:web/github#nope>: NOT_FOUND');
    expect(r.stderr).not.toContain('gh-e2e-password');
    expect(r.stderr).not.toContain('octo');
  });
});
