#!/usr/bin/env node
// `acme`: a tiny CLI that keeps its user's API token in whichever secret store the user chose
// (ACME_STORE=local|pass|keychain; default local), through envmux. The token is never printed.
//   acme login    read the token from stdin and store it
//   acme whoami   read it back (shown as length + hash prefix) and say which store holds it
//   acme logout   delete it

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createResolver, isEnvmuxError } from 'envmux';
import { keychain, local, pass } from 'envmux/providers';

const TOKEN = 'acme/api-token';
const home = process.env.ACME_HOME ?? join(homedir(), '.config', 'acme');
const storeId = process.env.ACME_STORE ?? 'local';
const vaultPath = join(home, 'vault.json');

const stores = {
  // An encrypted vault file in the user's config folder, its key beside it (0600).
  local: () => local({ path: vaultPath }),
  // password-store (gpg): the entry `acme/api-token` in the user's ~/.password-store.
  pass: () => pass(),
  // macOS Keychain, Windows Credential Manager, Linux Secret Service (service `acme-cli`).
  keychain: () => keychain({ service: 'acme-cli' }),
};
if (!stores[storeId]) fail(`ACME_STORE must be one of ${Object.keys(stores).join(', ')}`);
const secrets = createResolver({ providers: [stores[storeId]()], cache: false });

function fail(message) {
  console.error(`acme: ${message}`);
  process.exit(1);
}

/** The local vault is created on first login with envmux's own command (key file 0600). */
function ensureLocalVault() {
  if (storeId !== 'local' || existsSync(vaultPath)) return;
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('envmux/package.json');
  const cli = join(dirname(pkg), require(pkg).bin.envmux);
  const r = spawnSync(process.execPath, [cli, 'vault', 'init', '--vault', vaultPath], {
    encoding: 'utf8',
  });
  if (r.status !== 0) fail(`cannot create ${vaultPath}: ${r.stderr.trim()}`);
}

async function readStdin() {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.trim();
}

const fingerprint = (v) =>
  `*** (${v.length} chars, sha256 ${createHash('sha256').update(v).digest('hex').slice(0, 8)})`;

try {
  switch (process.argv[2]) {
    case 'login': {
      const token = await readStdin();
      if (!token) fail('no token on stdin (acme login < token.txt)');
      ensureLocalVault();
      await secrets.set(TOKEN, token);
      console.log(`acme: logged in; token kept in ${storeId}`);
      break;
    }
    case 'whoami': {
      const token = await secrets.get(TOKEN);
      console.log(`acme: token ${fingerprint(token)} from ${storeId}`);
      break;
    }
    case 'logout':
      await secrets.delete(TOKEN);
      console.log(`acme: logged out; token removed from ${storeId}`);
      break;
    default:
      fail('usage: acme login|whoami|logout');
  }
} catch (error) {
  // envmux errors carry a code and never a value.
  if (isEnvmuxError(error) && error.code === 'NOT_FOUND')
    fail(`not logged in (no token in ${storeId}): run acme login`);
  fail(isEnvmuxError(error) ? `${error.code}: ${error.message}` : String(error));
} finally {
  await secrets.close?.();
}
