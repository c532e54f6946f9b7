// `envmux audit [FILES...]`: read audit files (default: the local vault's .envmux/audit.jsonl, or
// ENVMUX_VAULT_AUDIT) with filters. Entries never hold a value; this prints names, codes, times.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { AuditAction } from '../audit/audit-log.js';
import { EnvmuxError } from '../errors.js';
import { readAuditFiles } from '../manage/read-audit.js';
import { auditFileBeside, vaultPathFrom } from '../providers/local/paths.js';
import { EXIT, EXIT_HELP, storeAction, table, usageError, withUsageExit } from './store-command.js';
import { globToRegExp } from './vault.js';

interface AuditFlags {
  action?: string;
  key?: string;
  provider?: string;
  outcome?: 'ok' | 'error' | 'miss';
  actor?: string;
  since?: string;
  until?: string;
  limit?: string;
  json?: boolean;
}

/** A time as ISO text, or a duration back from now (`15m`, `2h`, `7d`). */
function timeArg(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ago = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text);
  if (ago) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as 's'];
    return Date.now() - Number(ago[1]) * unit;
  }
  const at = Date.parse(text);
  if (Number.isNaN(at)) {
    throw usageError(
      new EnvmuxError('CONFIG', `${flag} "${text}" is not a time`, {
        hint: 'an ISO time (2026-01-31T12:00Z) or a duration back from now (15m, 2h, 7d)',
      }),
    );
  }
  return at;
}

export function register(program: Command): void {
  withUsageExit(
    program
      .command('audit [files...]')
      .description('show audit entries (names, stores, outcomes; never values) with filters')
      .option(
        '--action <actions>',
        'get, set, delete, list, versions, rotate, resolve, auth, health (comma-separated)',
      )
      .option('--key <name>', 'a secret name, or a glob (db/*)')
      .option('--provider <id>', 'a provider id')
      .option('--outcome <outcome>', 'ok, error or miss')
      .option('--actor <user>', 'an OS user or CI identity')
      .option('--since <time>', 'ISO time, or a duration back from now (15m, 7d)')
      .option('--until <time>', 'ISO time, or a duration back from now')
      .option('--limit <n>', 'the newest N entries')
      .option('--json', 'print a JSON array on stdout')
      .addHelpText(
        'after',
        `
FILES default to the local vault's audit file (ENVMUX_VAULT_AUDIT, or .envmux/audit.jsonl, which the
vault writes when ENVMUX_VAULT_AUDIT=1).
${EXIT_HELP}`,
      ),
  ).action(
    storeAction(async (files: string[], flags: AuditFlags) => {
      const env = process.env;
      let paths = files.map((f) => resolve(f));
      if (!paths.length) {
        const setting = env.ENVMUX_VAULT_AUDIT;
        const beside = auditFileBeside(vaultPathFrom(env, process.cwd()));
        paths = [
          setting && !['1', 'true', '0', 'false'].includes(setting) ? resolve(setting) : beside,
        ];
        if (!existsSync(paths[0]!)) {
          throw new EnvmuxError('CONFIG', 'no audit file here', {
            file: paths[0],
            hint: 'name the files, or set ENVMUX_VAULT_AUDIT=1 so the vault keeps one',
          });
        }
      }
      let limit: number | undefined;
      if (flags.limit !== undefined) {
        limit = Number(flags.limit);
        if (!Number.isInteger(limit) || limit < 1) {
          throw usageError(new EnvmuxError('CONFIG', '--limit must be a positive integer'));
        }
      }
      if (flags.outcome && !['ok', 'error', 'miss'].includes(flags.outcome)) {
        throw usageError(new EnvmuxError('CONFIG', '--outcome is ok, error or miss'));
      }
      const { entries, skipped } = readAuditFiles(paths, {
        action: flags.action?.split(',').map((a) => a.trim() as AuditAction),
        key: flags.key && /[*?]/.test(flags.key) ? globToRegExp(flags.key) : flags.key,
        provider: flags.provider,
        outcome: flags.outcome,
        actor: flags.actor,
        since: timeArg('--since', flags.since),
        until: timeArg('--until', flags.until),
        limit,
      });
      if (flags.json) process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      else if (entries.length) {
        const rows = [['TIME', 'ACTION', 'KEY', 'PROVIDER', 'OUTCOME', 'ACTOR', 'SOURCE']];
        for (const e of entries) {
          rows.push([
            new Date(e.time).toISOString().replace('T', ' ').slice(0, 19),
            e.action,
            e.key || '-',
            e.provider ?? '-',
            e.code ? `${e.outcome} ${e.code}` : e.outcome,
            e.actor,
            e.source,
          ]);
        }
        process.stdout.write(`${table(rows)}\n`);
      } else process.stderr.write('envmux: no audit entries match\n');
      if (skipped)
        process.stderr.write(`envmux: skipped ${skipped} line(s) that are not audit entries\n`);
      return EXIT.ok;
    }),
  );
}
