// A real PostgreSQL server for tests (Debian's packages): initdb + pg_ctl in a temp dir owned by the
// `postgres` user, on a free loopback port (trust auth, loopback only), stopped and removed after.
// Missing binaries: the caller skips loudly, or fails when ENVMUX_REQUIRE_SERVERS=1 (CI).

import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** The newest installed PostgreSQL's bin folder, if any. */
function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

const BIN = binDir();
const ROOT = process.getuid?.() === 0;
/** The account the server runs as: `postgres` when we are root (initdb refuses root). */
const OS_USER = ROOT ? 'postgres' : userInfo().username;

/** Throws under ENVMUX_REQUIRE_SERVERS=1 when PostgreSQL is missing; else says why it skips. */
export function postgresSkipReason(): string | undefined {
  let reason: string | undefined;
  if (!BIN) reason = 'PostgreSQL is not installed (apt-get install -y postgresql)';
  else if (ROOT && spawnSync('id', ['-u', 'postgres']).status !== 0)
    reason = 'there is no `postgres` user to run the server as';
  if (!reason) return undefined;
  reason = `${reason}: PostgreSQL vault tests SKIPPED`;
  if (process.env.ENVMUX_REQUIRE_SERVERS === '1') throw new Error(reason);
  console.warn(`\n*** ${reason} ***\n`);
  return reason;
}

/** Run a PostgreSQL tool as the server's account; throws with its output when it fails. */
export function asPostgres(tool: string, args: string[], input?: string): string {
  const command = join(BIN!, tool);
  const r = ROOT
    ? spawnSync('runuser', ['-u', OS_USER, '--', command, ...args], { encoding: 'utf8', input })
    : spawnSync(command, args, { encoding: 'utf8', input });
  if (r.status !== 0) throw new Error(`${tool} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface PostgresServer {
  port: number;
  /** `postgres://postgres@127.0.0.1:PORT/<database>` */
  url(database: string): string;
  /** A fresh empty database; returns its URL. */
  createDatabase(name?: string): string;
  /** `pg_dump` of a database (plain SQL), run as the server's account. */
  dump(database: string): string;
  stop(): Promise<void>;
}

let counter = 0;

/** initdb + pg_ctl start on 127.0.0.1 (socket in the temp dir); waits until it accepts connections. */
export async function startPostgres(): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'envmux-pg-'));
  if (ROOT) {
    const uid = Number(spawnSync('id', ['-u', OS_USER], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', OS_USER], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const data = join(dir, 'data');
  asPostgres('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-N', '-E', 'UTF8']);
  const port = await freePort();
  asPostgres('pg_ctl', [
    '-D',
    data,
    '-l',
    join(dir, 'server.log'),
    '-w',
    '-t',
    '60',
    '-o',
    `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c max_connections=60`,
    'start',
  ]);
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    createDatabase(name = `envmux_${process.pid}_${++counter}`) {
      asPostgres('psql', [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'postgres',
        '-qc',
        `CREATE DATABASE ${name}`,
      ]);
      return url(name);
    },
    dump: (database) =>
      asPostgres('pg_dump', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', database]),
    async stop() {
      try {
        asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
