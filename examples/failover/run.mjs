// failover: a primary store (an HTTP service) and a backup (secret files, as Docker mounts them).
// The app loads its config every 300 ms; the primary is killed, loads keep succeeding from the
// backup, and the audit trail and breaker state say why. Then the primary comes back.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createResolver, loadConfig } from 'envmux';
import { file } from 'envmux/providers';
import { httpStore } from './http-store.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const secrets = { 'db/password': 'primary-db-password-1', 'api/token': 'primary-api-token-1' };

/** Start the primary service (a child process we can kill); resolves to its URL. */
async function startPrimary(port = 0) {
  const child = spawn(process.execPath, [join(here, 'primary-server.mjs')], {
    env: { ...process.env, PORT: String(port), PRIMARY_SECRETS: JSON.stringify(secrets) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [url] = await createInterface({ input: child.stdout })
    [Symbol.asyncIterator]()
    .next()
    .then((r) => [r.value]);
  return { child, url };
}

// The backup: the same secrets as files (what `docker secret` / a Kubernetes volume mounts).
const backupDir = mkdtempSync(join(tmpdir(), 'envmux-failover-'));
for (const [name, value] of Object.entries(secrets)) {
  mkdirSync(dirname(join(backupDir, name)), { recursive: true });
  writeFileSync(join(backupDir, name), value);
}

let primary = await startPrimary();
const port = new URL(primary.url).port;
const resolver = createResolver({
  providers: [
    httpStore({ id: 'primary', url: primary.url }),
    file({ id: 'backup', dir: backupDir }),
  ],
  cache: false, // every load asks the stores, so the outage shows at once
  timeout: '1s',
  breaker: { threshold: 2, coolDown: '2s' },
});

/** One load, as the app does at start; prints which store served each key. */
async function load(n) {
  resolver.clearAudit();
  const config = await loadConfig({ resolver, files: ['.env'], cwd: here });
  const served = resolver
    .audit({ action: 'get', outcome: 'ok' })
    .map((e) => `${e.key} ← ${e.provider}`)
    .join(', ');
  console.log(`load ${String(n).padStart(2)}: ok (${Object.keys(config).length} keys) ${served}`);
}

/** The audit trail of the last load: every store asked, outcome and code — names only. */
function trail() {
  for (const e of resolver.audit()) {
    console.log(
      `    audit: ${e.action.padEnd(7)} ${String(e.key ?? '').padEnd(12)} ${String(e.provider ?? '').padEnd(8)} ${e.outcome}${e.code ? ` ${e.code}` : ''}`,
    );
  }
}

async function breakers() {
  for (const b of await resolver.breakers()) {
    console.log(
      `    breaker: ${b.provider.padEnd(8)} ${b.state}${b.failures ? ` (${b.failures} failures)` : ''}${b.retryAt ? `, retry after ${new Date(b.retryAt).toISOString()}` : ''}`,
    );
  }
}

try {
  let n = 0;
  for (; n < 3; n++) {
    await load(n + 1);
    await sleep(300);
  }
  console.log('\n--- the primary goes down (process killed) ---');
  primary.child.kill('SIGKILL');
  await new Promise((r) => primary.child.once('exit', r));
  await load(++n);
  trail();
  await breakers();
  for (let i = 0; i < 3; i++) {
    await sleep(300);
    await load(++n);
  }
  console.log('  (the breaker is open: the primary is skipped without a connection attempt)');
  trail();
  await breakers();

  console.log('\n--- the primary comes back; after the cool-down one probe closes the breaker ---');
  primary = await startPrimary(port);
  await sleep(2200);
  await load(++n);
  console.log(
    '  (half-open: exactly one probe goes to the primary; its answer closes the breaker)',
  );
  trail();
  await breakers();
  await load(++n);
} finally {
  primary.child.kill();
  await resolver.close?.();
  rmSync(backupDir, { recursive: true, force: true });
}
