// importLib: the one way providers load their SDK — a handed-in module wins, a missing package is a
// CONFIG error whose hint is the exact install line, any other failure is CONFIG too (never retried).

import { describe, expect, it } from 'vitest';
import { isEnvmuxError } from '../../src/errors.js';
import { importLib } from '../../src/providers/import-lib.js';

const PKG = '@aws-sdk/client-secrets-manager';
const missing = (message: string, code = 'ERR_MODULE_NOT_FOUND') =>
  Object.assign(new Error(message), { code });

describe('importLib', () => {
  it('returns the handed-in module without calling the loader', async () => {
    const lib = { marker: 1 };
    let called = false;
    const got = await importLib('aws', PKG, lib, async () => {
      called = true;
      return { marker: 2 };
    });
    expect(got).toBe(lib);
    expect(called).toBe(false);
  });

  it('loads through the loader when none is handed in', async () => {
    expect(await importLib('aws', PKG, undefined, async () => ({ marker: 3 }))).toEqual({
      marker: 3,
    });
  });

  it.each([
    [
      'ESM, package missing',
      missing(`Cannot find package '${PKG}' imported from /app/node_modules/envmux/dist/aws.mjs`),
      'not installed',
      `npm install ${PKG}`,
    ],
    [
      'CJS, package missing',
      missing(`Cannot find module '${PKG}'\nRequire stack:\n- /app/x.js`, 'MODULE_NOT_FOUND'),
      'not installed',
      `npm install ${PKG}`,
    ],
    [
      'a dependency of the package missing',
      missing("Cannot find module '@smithy/core' imported from /app/node_modules/x.js"),
      'a module it needs is missing',
      `reinstall it: npm install ${PKG}`,
    ],
    [
      'anything else',
      new SyntaxError('Unexpected token'),
      'could not load',
      `check the installed version: npm ls ${PKG}`,
    ],
  ])('%s → CONFIG with the install hint', async (_, thrown, message, hint) => {
    const error = await importLib('aws', PKG, undefined, () => Promise.reject(thrown)).catch(
      (e) => e,
    );
    expect(isEnvmuxError(error)).toBe(true);
    expect(error.code).toBe('CONFIG');
    expect(error.retryable).toBe(false);
    expect(error.provider).toBe('aws');
    expect(error.message).toContain(message);
    expect(error.hint).toBe(hint);
  });

  it('maps a real missing package from Node', async () => {
    const error = await importLib(
      'nope',
      'envmux-test-no-such-package',
      undefined,
      // A runtime-built specifier keeps the bundler out: Node itself resolves it.
      () => import(['envmux-test', 'no-such-package'].join('-')),
    ).catch((e) => e);
    expect(error.code).toBe('CONFIG');
    expect(error.hint).toBe('npm install envmux-test-no-such-package');
  });
});
