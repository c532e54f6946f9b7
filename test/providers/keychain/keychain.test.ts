// The `keychain` provider through the real @napi-rs/keyring against a real Secret Service:
// gnome-keyring on a private session bus (./secret-service.ts). Conformance (read, write, delete,
// list through findCredentials), the service name as the namespace, and errors without a store.

import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { toEnvmuxError } from '../../../src/errors.js';
import { keychain } from '../../../src/providers/keychain/index.js';
import { buildProvider, detectChain } from '../../../src/providers/registry.js';
import { createResolver } from '../../../src/resolver/client.js';
import { providerConformance } from '../../../src/testing/index.js';
import { startSecretService } from './secret-service.js';

const started = await startSecretService();
const missing = 'missing' in started ? started.missing : undefined;
if (missing && process.env.ENVMUX_REQUIRE_SERVERS === '1') {
  throw new Error(`keychain tests need a Secret Service (ENVMUX_REQUIRE_SERVERS=1): ${missing}`);
}
if (missing) console.warn(`SKIPPED keychain provider tests (Secret Service): ${missing}`);
const service = 'address' in started ? started : undefined;
const savedBus = process.env.DBUS_SESSION_BUS_ADDRESS;
// The native binding connects to the bus this process names.
if (service) process.env.DBUS_SESSION_BUS_ADDRESS = service.address;
afterAll(() => {
  service?.close();
  if (savedBus === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
  else process.env.DBUS_SESSION_BUS_ADDRESS = savedBus;
});

let serial = 0;
const errorCode = async (p: Promise<unknown>) => {
  try {
    await p;
    return undefined;
  } catch (error) {
    return toEnvmuxError(error).code;
  }
};

describe.skipIf(!service)('keychain (gnome-keyring Secret Service)', () => {
  providerConformance(
    { describe, it, expect },
    {
      name: 'keychain (Secret Service)',
      testTimeout: 30_000,
      async create() {
        // A service per harness: conformance names never meet another test's.
        const provider = keychain({
          service: `envmux-conformance-${process.pid}-${serial++}`,
          env: {},
        });
        return {
          provider,
          seed: async (name, value) => void (await provider.set!(name, value, {})),
        };
      },
    },
  );

  it('keeps services apart, and lists names only', async () => {
    const a = keychain({ service: 'envmux-app-a', env: {} });
    const b = keychain({ env: { ENVMUX_KEYCHAIN_SERVICE: 'envmux-app-b' } });
    await a.set!('DB_PASSWORD', 'value-of-a-3e9f', {});
    await b.set!('DB_PASSWORD', 'value-of-b', {});
    expect(await a.get('DB_PASSWORD', {})).toBe('value-of-a-3e9f');
    expect(await b.get('DB_PASSWORD', {})).toBe('value-of-b');
    const listed = await a.list!('', {});
    expect(listed).toEqual([{ name: 'DB_PASSWORD' }]);
    expect(JSON.stringify(listed)).not.toContain('value-of-a');
    const log = new AuditLog(50);
    const resolver = createResolver({ providers: [a], cache: false, env: {}, audit: { log } });
    expect(await resolver.get('DB_PASSWORD', { provider: 'keychain' })).toBe('value-of-a-3e9f');
    expect(JSON.stringify(log.query())).not.toContain('value-of-a');
    await resolver.close();
    await a.delete!('DB_PASSWORD', {});
    await b.delete!('DB_PASSWORD', {});
    expect(await a.get('DB_PASSWORD', {})).toBeUndefined();
  });

  it('is built from env vars by type, and joins the chain only when listed', async () => {
    const built = await buildProvider('keychain', { ENVMUX_KEYCHAIN_SERVICE: 'envmux-built' });
    await built.set!('x', 'built-value', {});
    expect(await built.get('x', {})).toBe('built-value');
    await built.delete!('x', {});
    expect(detectChain({ ENVMUX_PROVIDERS: 'keychain' }).map((d) => d.type)).toEqual(['keychain']);
    expect(detectChain({ ENVMUX_KEYCHAIN_SERVICE: 'x' }).map((d) => d.type)).not.toContain(
      'keychain',
    );
  });
});

describe('keychain errors from the binding', () => {
  /** A binding whose every call fails with `message` (the seam bundlers use: `lib`). */
  const failing = (message: string) => {
    class AsyncEntry {
      async getPassword(): Promise<string | null> {
        throw new Error(message);
      }
      async setPassword(): Promise<void> {
        throw new Error(message);
      }
      async deletePassword(): Promise<boolean> {
        throw new Error(message);
      }
    }
    return keychain({ env: {}, lib: { AsyncEntry } });
  };

  it('maps the platform messages to codes and keeps their text (which may quote data) out', async () => {
    const cases: Array<[string, string]> = [
      ["Couldn't access platform storage: Secret Service: unlock prompt was dismissed", 'LOCKED'],
      ["Couldn't access platform storage: AccessDenied", 'ACCESS_DENIED'],
      ['Platform failure: DBus error: Failed to connect to socket /x', 'UNAVAILABLE'],
      ['Entry is matched by 2 credentials: Ambiguous', 'INVALID_REFERENCE'],
    ];
    for (const [message, code] of cases) {
      const p = failing(`${message} leak-canary-0a1b`);
      for (const call of [p.get('x', {}), p.set!('x', 'v', {}), p.delete!('x', {})]) {
        try {
          await call;
          throw new Error('expected a failure');
        } catch (error) {
          expect(toEnvmuxError(error).code).toBe(code);
          expect(JSON.stringify(toEnvmuxError(error))).not.toContain('leak-canary');
          expect(String(error)).not.toContain('leak-canary');
        }
      }
    }
    expect(await errorCode(failing('x').get('', {}))).toBe('INVALID_REFERENCE');
  });
});
