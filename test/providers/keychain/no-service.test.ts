// The `keychain` provider on Linux with no Secret Service on the session bus: the real binding, pinned
// to the Secret Service as the provider pins it, fails rather than fall back to the kernel keyring,
// and the provider maps that failure to UNAVAILABLE. The binding runs in a child process (a failed
// D-Bus connection can keep a test worker from exiting); its error reaches the provider through `lib`.

import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { toEnvmuxError } from '../../../src/errors.js';
import { keychain } from '../../../src/providers/keychain/index.js';

const bindingPath = createRequire(import.meta.url).resolve('@napi-rs/keyring');
const probe = `
const k = require(${JSON.stringify(bindingPath)});
(async () => {
  try {
    const e = new k.AsyncEntry('envmux-nobus', 'x', { linux: { store: 'secret-service' } });
    await e.setPassword('v');
    console.log(JSON.stringify({ stored: true }));
  } catch (error) {
    console.log(JSON.stringify({ message: String(error && error.message) }));
  }
})();
`;

describe.skipIf(process.platform !== 'linux')('keychain without a Secret Service', () => {
  it('the pinned binding fails (no keyutils fallback), and the provider says UNAVAILABLE', async () => {
    const r = spawnSync(process.execPath, ['-e', probe], {
      env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/envmux-bus' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    const outcome = JSON.parse(r.stdout.trim()) as { stored?: boolean; message?: string };
    expect(outcome.stored).toBeUndefined();
    const message = outcome.message!;
    class AsyncEntry {
      constructor() {
        throw new Error(message);
      }
      async getPassword(): Promise<string | null> {
        return null;
      }
      async setPassword(): Promise<void> {}
      async deletePassword(): Promise<boolean> {
        return false;
      }
    }
    const p = keychain({ service: 'envmux-nobus', env: {}, lib: { AsyncEntry } });
    for (const call of [p.get('x', {}), p.set!('x', 'v', {})]) {
      let code: string | undefined;
      try {
        await call;
      } catch (error) {
        code = toEnvmuxError(error).code;
      }
      expect(code).toBe('UNAVAILABLE');
    }
    expect((await p.health!({})).ok).toBe(false);
  });
});

describe('ENVMUX_KEYCHAIN_STORE', () => {
  it('is secret-service or keyutils; anything else is CONFIG, not a silent default', () => {
    expect(() => keychain({ env: { ENVMUX_KEYCHAIN_STORE: 'keyutils' } })).not.toThrow();
    expect(() => keychain({ env: { ENVMUX_KEYCHAIN_STORE: 'keyutil' } })).toThrow(
      /ENVMUX_KEYCHAIN_STORE="keyutil" is not a store/,
    );
  });
});
