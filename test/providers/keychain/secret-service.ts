// A private Linux Secret Service for tests: a session dbus-daemon and gnome-keyring-daemon (secrets
// component) unlocked with a throwaway password, its keyrings in a temp dir. Stopped by pid after.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SecretService {
  /** The bus address keychain calls must see in DBUS_SESSION_BUS_ADDRESS. */
  address: string;
  close(): void;
}

/** Start one, or say why it cannot start here. */
export async function startSecretService(): Promise<SecretService | { missing: string }> {
  if (process.platform !== 'linux')
    return { missing: 'the Secret Service tests run on Linux only' };
  for (const tool of ['dbus-daemon', 'gnome-keyring-daemon']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return { missing: `${tool} is not installed (apt-get install gnome-keyring dbus)` };
  }
  const home = mkdtempSync(join(tmpdir(), 'envmux-keyring-'));
  mkdirSync(join(home, 'data'));
  const env = {
    ...process.env,
    HOME: home,
    XDG_DATA_HOME: join(home, 'data'),
    XDG_RUNTIME_DIR: home,
  };
  const bus = spawnSync(
    'dbus-daemon',
    ['--session', '--fork', '--nopidfile', '--print-address=1', '--print-pid=1'],
    { env, encoding: 'utf8', timeout: 10_000 },
  );
  const [address, pid] = (bus.stdout ?? '').trim().split('\n');
  if (bus.status !== 0 || !address || !pid) {
    rmSync(home, { recursive: true, force: true });
    return { missing: `dbus-daemon --session could not start (exit ${bus.status})` };
  }
  const busPid = Number(pid);
  const keyring: ChildProcess = spawn(
    'gnome-keyring-daemon',
    ['--foreground', '--unlock', '--components=secrets'],
    { env: { ...env, DBUS_SESSION_BUS_ADDRESS: address }, stdio: ['pipe', 'ignore', 'ignore'] },
  );
  keyring.stdin!.end('envmux-test-keyring-password');
  const close = () => {
    if (keyring.pid) process.kill(keyring.pid, 'SIGTERM');
    try {
      process.kill(busPid, 'SIGTERM');
    } catch {}
    rmSync(home, { recursive: true, force: true });
  };
  // Ready when org.freedesktop.secrets has an owner on the bus.
  for (let i = 0; i < 100; i++) {
    const owner = spawnSync(
      'dbus-send',
      [
        '--session',
        '--print-reply',
        '--dest=org.freedesktop.DBus',
        '/org/freedesktop/DBus',
        'org.freedesktop.DBus.NameHasOwner',
        'string:org.freedesktop.secrets',
      ],
      { env: { ...env, DBUS_SESSION_BUS_ADDRESS: address }, encoding: 'utf8' },
    );
    if (owner.stdout?.includes('boolean true')) return { address, close };
    if (keyring.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  close();
  return { missing: 'gnome-keyring-daemon did not register org.freedesktop.secrets' };
}
