// `envmux serve`: a loopback HTTP server answering secrets to processes that are not Node (see
// src/serve/server.ts). Prints where it listens and where its token is on stderr — never a token or value.

import { resolve } from 'node:path';
import type { Command } from 'commander';
import { processAuditLog } from '../audit/audit-log.js';
import { bufferedJsonLinesSink } from '../audit/buffered-sink.js';
import { EnvmuxError } from '../errors.js';
import { createResolver } from '../resolver/client.js';
import { ServeMetrics } from '../serve/prometheus.js';
import { startServer } from '../serve/server.js';
import { checkToken, tokenFromFile } from '../serve/token.js';
import { addEnvOptions, commandLoadOptions, type EnvFlags } from './command-env.js';
import { reportError } from './report-error.js';

interface ServeFlags extends EnvFlags {
  host: string;
  port: string;
  tokenFile?: string;
  adminTokenFile?: string;
  allowWrite?: boolean;
  auditFile?: string;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** The token: `ENVMUX_SERVE_TOKEN`-style variable, else the file (generated there when missing). */
function tokenOf(variable: string, file: string): { token: string; note: string } {
  const fromEnv = process.env[variable];
  if (fromEnv) {
    checkToken(fromEnv, variable);
    return { token: fromEnv, note: `from ${variable}` };
  }
  const { token, generated } = tokenFromFile(file);
  return { token, note: `${generated ? 'generated in' : 'read from'} ${file}` };
}

export function register(program: Command): void {
  const command = program
    .command('serve')
    .description(
      'answer secrets over HTTP on loopback to processes that are not Node (token required on every request)',
    )
    .option(
      '--host <address>',
      'address to bind (non-loopback addresses are refused unless --allow-remote)',
      '127.0.0.1',
    )
    .option('--port <n>', 'port (0 = a free one)', '8787')
    .option(
      '--token-file <path>',
      'file holding the bearer token; generated 0600 when missing (default .envmux/serve.token; ENVMUX_SERVE_TOKEN wins)',
    )
    .option(
      '--allow-write',
      'enable PUT/DELETE /v1/secrets/NAME and POST /v1/rotate/NAME, with the admin token',
    )
    .option(
      '--admin-token-file <path>',
      'file holding the admin token for writes; generated 0600 when missing (default .envmux/serve-admin.token; ENVMUX_SERVE_ADMIN_TOKEN wins)',
    )
    .option('--allow-remote', 'allow --host to be a non-loopback address (put TLS in front of it)')
    .option(
      '--audit-file <path>',
      'append every audit entry (names, never values) to this JSON-lines file',
    );
  addEnvOptions(command).action(async (flags: ServeFlags & { allowRemote?: boolean }) => {
    try {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new EnvmuxError('CONFIG', `--port "${flags.port}" is not a port number`);
      }
      if (!LOOPBACK.has(flags.host) && !flags.allowRemote) {
        throw new EnvmuxError('CONFIG', `--host ${flags.host} is not a loopback address`, {
          hint: 'secrets over plain HTTP stay on this machine; pass --allow-remote to bind it anyway',
        });
      }
      const reader = tokenOf(
        'ENVMUX_SERVE_TOKEN',
        resolve(flags.tokenFile ?? '.envmux/serve.token'),
      );
      const admin = flags.allowWrite
        ? tokenOf(
            'ENVMUX_SERVE_ADMIN_TOKEN',
            resolve(flags.adminTokenFile ?? '.envmux/serve-admin.token'),
          )
        : undefined;
      if (admin && admin.token === reader.token) {
        throw new EnvmuxError('CONFIG', 'the admin token must differ from the reader token');
      }
      const metrics = new ServeMetrics();
      const options = await commandLoadOptions(flags);
      const audit = processAuditLog();
      // Buffered: one write per batch rather than one per request; flushed when the server closes.
      const auditFile = flags.auditFile ? bufferedJsonLinesSink(flags.auditFile) : undefined;
      if (auditFile) audit.addSink(auditFile.sink);
      const resolver = createResolver({
        ...options,
        audit: { log: audit, source: 'sidecar' },
        onMetric: metrics.observe,
      });
      const running = await startServer({
        resolver,
        audit,
        token: reader.token,
        ...(admin ? { adminToken: admin.token } : {}),
        metrics,
        host: flags.host,
        port,
      });
      process.stderr.write(
        `envmux serve: listening on ${running.url} (token ${reader.note}; ${admin ? `writes enabled, admin token ${admin.note}` : 'read-only'})\n`,
      );
      const stop = (signal: string) => {
        process.stderr.write(`envmux serve: ${signal}, closing\n`);
        void running.close().then(() => {
          auditFile?.close();
          process.exit(0);
        });
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    } catch (error) {
      reportError(error);
    }
  });
}
