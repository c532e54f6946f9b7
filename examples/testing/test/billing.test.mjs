// Unit tests of billing.mjs with in-memory stores from `envmux/testing`: values, an outage with and
// without a backup store, an expired session, and the app's config loaded from .env.test.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditLog, createResolver, loadConfig } from 'envmux';
import { memory } from 'envmux/testing';
import { createBilling } from '../billing.mjs';

const KEY = 'sk_test_0123456789abcdef';

test('reads the API key from the store', async () => {
  const store = memory({ values: { 'billing/api-key': KEY } });
  const billing = createBilling({ secrets: createResolver({ providers: [store] }) });
  assert.equal(await billing.authHeader(), `Bearer ${KEY}`);
  assert.equal(store.calls.get + store.calls.getMany, 1);
});

test('an outage of the primary store fails over to the backup', async () => {
  const primary = memory({ id: 'primary', values: { 'billing/api-key': KEY } });
  const backup = memory({ id: 'backup', values: { 'billing/api-key': KEY } });
  primary.outage(); // every call now throws UNAVAILABLE
  // An audit log of this test's own (the default one is shared by the whole process).
  const secrets = createResolver({
    providers: [primary, backup],
    retry: { attempts: 1 },
    audit: { log: new AuditLog() },
  });
  assert.equal(await createBilling({ secrets }).authHeader(), `Bearer ${KEY}`);
  const served = secrets.audit({ action: 'get', outcome: 'ok' }).map((e) => e.provider);
  assert.deepEqual(served, ['backup']);
});

test('an outage with no backup is a clear error that never holds the key', async () => {
  const store = memory({ values: { 'billing/api-key': KEY } });
  store.outage();
  const secrets = createResolver({ providers: [store], retry: { attempts: 2, minDelay: 1 } });
  await assert.rejects(createBilling({ secrets }).authHeader(), (error) => {
    assert.match(error.message, /billing is unavailable: secret store UNAVAILABLE/);
    assert.ok(!JSON.stringify(error, Object.getOwnPropertyNames(error)).includes(KEY));
    return true;
  });
});

test('an expired session is renewed once, then the read succeeds', async () => {
  const store = memory({ values: { 'billing/api-key': KEY } });
  let logins = 0;
  store.fail('*', 'SESSION_EXPIRED'); // the store's session ran out
  store.authenticate = async () => {
    logins++;
    store.fail('*', undefined); // a fresh session: reads work again
  };
  const billing = createBilling({ secrets: createResolver({ providers: [store] }) });
  assert.equal(await billing.authHeader(), `Bearer ${KEY}`);
  assert.equal(logins, 1);
});

test('the app config loads from .env.test against the memory store', async () => {
  const config = await loadConfig({
    files: ['.env.test'],
    cwd: new URL('..', import.meta.url).pathname,
    processEnv: {},
    providers: [memory({ values: { 'billing/api-key': KEY } })],
  });
  assert.equal(config.PORT, '8080');
  assert.equal(config.BILLING_API_KEY, KEY);
});
