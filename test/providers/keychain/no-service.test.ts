// The `keychain` provider on Linux with no Secret Service on the session bus: calls fail with
// UNAVAILABLE rather than fall back to the kernel keyring. Its own file (its own process): the
// binding keeps the first D-Bus connection a process makes.

import { describe, expect, it } from 'vitest';
import { toEnvmuxError } from '../../../src/errors.js';
import { keychain } from '../../../src/providers/keychain/index.js';

describe.skipIf(process.platform !== 'linux')('keychain without a Secret Service', () => {
  it('is UNAVAILABLE for get and set, and health says not ok', async () => {
    process.env.DBUS_SESSION_BUS_ADDRESS = 'unix:path=/nonexistent/envmux-bus';
    const p = keychain({ service: 'envmux-nobus', env: {} });
    for (const call of [p.get('x', {}), p.set!('x', 'v', {})]) {
      let code: string | undefined;
      try {
        await call;
      } catch (error) {
        code = toEnvmuxError(error).code;
      }
      expect(code).toBe('UNAVAILABLE');
    }
    const health = await p.health!({});
    expect(health.ok).toBe(false);
  });
});
