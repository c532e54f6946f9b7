// Hostile .env files against every entry point of the packed package: the preload (in-thread and
// through its worker), `envmux check` and `envmux run` refuse the same files with the same coded
// error naming file:line and key, before the work (docs/architecture.md, "Limits").

import { describe, expect, it } from 'vitest';
import { makeCase, nodeBin, runCli, runNode } from '../e2e/consumer.js';

const asyncConfig = `import { defineProvider } from 'envmux';
export default { providers: [defineProvider({ id: 'store', async get(name) { return 'v-' + name; } })] };
`;

const cases: Array<[string, string, RegExp]> = [
  [
    'a 5 MiB value of `$` (the file is over 4 MiB)',
    `K=${'$'.repeat(5 * 2 ** 20)}\n`,
    /\.env\b.*CONFIG.*env file is 5\.0 MiB, over the limit of 4\.0 MiB/,
  ],
  [
    'a 2 MiB literal value',
    `A=1\nBIG=${'v'.repeat(2 * 2 ** 20)}\n`,
    /\.env:2\b.*BIG.*CONFIG.*the value has 2097152 characters/,
  ],
  [
    '20,000 references',
    `${Array.from({ length: 40 }, (_, i) => `K${i}=${'$<secret:a>'.repeat(500)}`).join('\n')}\n`,
    /\.env:21\b.*K20.*INVALID_REFERENCE.*more than 10000 references/,
  ],
];

describe.each(cases)('%s', (_, env, message) => {
  it('is refused by the preload, in-thread', () => {
    const dir = makeCase({ '.env': env, 'app.cjs': 'console.log("started")\n' });
    const r = runNode(['-r', 'envmux/register', 'app.cjs'], dir, { ENVMUX_PROVIDERS: 'env' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('is refused by the preload through its worker (a JS config)', () => {
    const dir = makeCase({
      '.env': env,
      'envmux.config.mjs': asyncConfig,
      'app.cjs': 'console.log("started")\n',
    });
    const r = runNode(['-r', 'envmux/register', 'app.cjs'], dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('is refused by envmux check and envmux run the same way', () => {
    const dir = makeCase({ '.env': env, 'envmux.config.mjs': asyncConfig });
    const check = runCli(['check'], dir);
    expect(check.status).toBe(1);
    expect(check.stderr).toMatch(message);
    const run = runCli(['run', '--', nodeBin, '-e', 'console.log("started")'], dir);
    expect(run.status).not.toBe(0);
    expect(run.stdout).not.toContain('started');
    expect(run.stderr).toMatch(message);
  });
});
