// A throwaway password store for tests: its own GNUPGHOME with a passphrase-less key made by the
// real gpg, and `pass init` in a temp PASSWORD_STORE_DIR. No mocks; skipped loudly without pass/gpg.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why the real tools cannot run here, or undefined when they can. */
export function passMissing(): string | undefined {
  for (const tool of ['pass', 'gpg']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
    if (found.status !== 0) return `${tool} is not installed (apt-get install pass gnupg)`;
  }
  return undefined;
}

export interface GpgStore {
  dir: string;
  gnupgHome: string;
  env: Record<string, string | undefined>;
  /** Write an entry the way a user would: `pass insert -m -f NAME` with the text on stdin. */
  insert(name: string, text: string): void;
  close(): void;
}

/** A fresh key and store in a temp dir. */
export function makeGpgStore(): GpgStore {
  const base = mkdtempSync(join(tmpdir(), 'envmux-pass-'));
  const gnupgHome = join(base, 'g');
  const dir = join(base, 'store');
  execFileSync('mkdir', ['-m', '700', gnupgHome]);
  const env = { ...process.env, GNUPGHOME: gnupgHome, PASSWORD_STORE_DIR: dir };
  execFileSync(
    'gpg',
    [
      '--batch',
      '--passphrase',
      '',
      '--quick-gen-key',
      'envmux test <test@envmux.invalid>',
      'future-default',
      'default',
      'never',
    ],
    { env, stdio: 'ignore' },
  );
  execFileSync('pass', ['init', 'test@envmux.invalid'], { env, stdio: 'ignore' });
  return {
    dir,
    gnupgHome,
    env,
    insert(name, text) {
      const r = spawnSync('pass', ['insert', '-m', '-f', name], { env, input: text });
      if (r.status !== 0) throw new Error(`pass insert failed (${r.status})`);
    },
    close() {
      spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env });
      rmSync(base, { recursive: true, force: true });
    },
  };
}
