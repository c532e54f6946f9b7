// A real PostgreSQL server for tests (Debian's packages): initdb + pg_ctl in a temp dir owned by the
// `postgres` user, on a free loopback port (trust auth, loopback only), stopped and removed after.
// Missing binaries: the caller skips loudly, or fails when ENVMUX_REQUIRE_SERVERS=1 (CI).

import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { makeLoopbackCertificate } from '../../servers/certificate.js';

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
  /** With `tls`: the CA that signed the server's certificate, and an unrelated CA (files + PEM). */
  tls?: { caFile: string; ca: string; wrongCaFile: string; wrongCa: string };
  stop(): Promise<void>;
}

/**
 * The server's certificate and key (`server.crt`, `server.key` 0600 in `data`): a self-signed one
 * for 127.0.0.1, its own CA (`ca.crt` in `dir`), and an unrelated one (`wrong-ca.crt`).
 */
function makeCertificates(dir: string, data: string): void {
  const server = makeLoopbackCertificate();
  const wrong = makeLoopbackCertificate();
  if ('missing' in server) throw new Error(server.missing);
  if ('missing' in wrong) throw new Error(wrong.missing);
  writeFileSync(join(data, 'server.crt'), server.cert);
  writeFileSync(join(data, 'server.key'), server.key, { mode: 0o600 });
  writeFileSync(join(dir, 'ca.crt'), server.cert);
  writeFileSync(join(dir, 'wrong-ca.crt'), wrong.cert);
}

let counter = 0;

/**
 * initdb + pg_ctl start on 127.0.0.1 (socket in the temp dir); waits until it accepts connections.
 * With `tls`, the server has ssl=on with a throwaway certificate for 127.0.0.1 (see `tls`).
 */
export async function startPostgres(options: { tls?: boolean } = {}): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'envmux-pg-'));
  const owner = ROOT
    ? {
        uid: Number(spawnSync('id', ['-u', OS_USER], { encoding: 'utf8' }).stdout.trim()),
        gid: Number(spawnSync('id', ['-g', OS_USER], { encoding: 'utf8' }).stdout.trim()),
      }
    : undefined;
  if (owner) chownSync(dir, owner.uid, owner.gid);
  chmodSync(dir, 0o700);
  const data = join(dir, 'data');
  asPostgres('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-N', '-E', 'UTF8']);
  let tlsOptions = '';
  if (options.tls) {
    makeCertificates(dir, data);
    for (const file of ['server.crt', 'server.key'])
      if (owner) chownSync(join(data, file), owner.uid, owner.gid);
    tlsOptions = ' -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key';
  }
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
    `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c max_connections=60${tlsOptions}`,
    'start',
  ]);
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const pem = (file: string) => readFileSync(join(dir, file), 'utf8');
  return {
    port,
    url,
    ...(options.tls
      ? {
          tls: {
            caFile: join(dir, 'ca.crt'),
            ca: pem('ca.crt'),
            wrongCaFile: join(dir, 'wrong-ca.crt'),
            wrongCa: pem('wrong-ca.crt'),
          },
        }
      : {}),
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
