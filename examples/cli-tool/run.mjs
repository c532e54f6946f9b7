// cli-tool: `acme login | whoami | logout` with the token in the local vault (always), then in
// pass (when pass and gpg are installed: a throwaway gpg key and store in a temp folder), then in
// the OS keychain (when a Secret Service / Keychain answers here).

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const acme = join(here, 'bin/acme.mjs');
const temp = mkdtempSync(join(tmpdir(), 'envmux-cli-tool-'));
const base = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ENVMUX_'))),
  ACME_HOME: join(temp, 'acme'),
};
const token = `acme_${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
const has = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

/** `acme <command>` as the user types it; returns its exit code. */
function run(store, command, env, input) {
  console.log(`$ ACME_STORE=${store} acme ${command}${input ? ' < token.txt' : ''}`);
  const r = spawnSync(process.execPath, [acme, command], {
    env: { ...env, ACME_STORE: store },
    input,
    encoding: 'utf8',
  });
  process.stdout.write(r.stdout + r.stderr);
  return r.status;
}

/** login, whoami, logout, whoami (now "not logged in"); throws when a step misbehaves. */
function session(store, env) {
  console.log(`\n=== ${store} ===`);
  const codes = [
    run(store, 'login', env, token),
    run(store, 'whoami', env),
    run(store, 'logout', env),
    run(store, 'whoami', env),
  ];
  if (codes.join() !== '0,0,0,1')
    throw new Error(`${store}: unexpected exit codes ${codes.join()}`);
}

try {
  session('local', base);

  if (has('pass') && has('gpg')) {
    // A throwaway gpg key (no passphrase) and password store, as a user's ~/.password-store.
    const gnupg = join(temp, 'gnupg');
    mkdirSync(gnupg, { mode: 0o700 });
    const env = { ...base, GNUPGHOME: gnupg, PASSWORD_STORE_DIR: join(temp, 'password-store') };
    execFileSync(
      'gpg',
      [
        '--batch',
        '--passphrase',
        '',
        '--quick-gen-key',
        'acme user <acme@example.invalid>',
        'future-default',
        'default',
        'never',
      ],
      { env, stdio: 'ignore' },
    );
    execFileSync('pass', ['init', 'acme@example.invalid'], { env, stdio: 'ignore' });
    session('pass', env);
    spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env });
  } else {
    console.log('\n=== pass === skipped: pass and gpg are not installed');
  }

  // The OS keychain: only where one answers (a desktop session; not a CI container).
  const probe = spawnSync(process.execPath, [acme, 'whoami'], {
    env: { ...base, ACME_STORE: 'keychain' },
    encoding: 'utf8',
  });
  if (/not logged in/.test(probe.stderr)) session('keychain', base);
  else
    console.log(
      `\n=== keychain === skipped: no keychain answers here (${probe.stderr.trim().split('\n')[0]})`,
    );
} finally {
  rmSync(temp, { recursive: true, force: true });
}
