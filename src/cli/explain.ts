// `envmux explain KEY`: where a key's value comes from — every file:line that sets it and which one
// wins, whether the process environment wins over the files, the references it holds, which store
// served them, and the cache. Never the value (only reference text, never literal text).

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { EnvmuxError } from '../errors.js';
import { redact } from '../mask/redactor.js';
import { parseDuration } from '../resolver/durations.js';
import { displayPath, envFilesFor } from '../resolver/files.js';
import { parseEnvSource } from '../resolver/parse.js';
import { type Reference, scan } from '../resolver/scan.js';
import {
  addEnvOptions,
  commandLoadOptions,
  type EnvFlags,
  loadForCommand,
  MessageScrubber,
  schemeTest,
} from './command-env.js';
import { EXIT, EXIT_HELP, storeAction, withUsageExit } from './store-command.js';

interface ExplainReport {
  key: string;
  /** Every assignment, highest-precedence file first; `wins` marks the one a load uses. */
  setBy: Array<{ file: string; line: number; wins: boolean }>;
  /** `environment` when the process environment already has the key (it wins unless override). */
  layer: 'environment' | 'file' | 'none';
  references: string[];
  servedBy: string[];
  problem: string | null;
  cache: string;
}

export function register(program: Command): void {
  const command = withUsageExit(
    program
      .command('explain <key>')
      .description(
        'show where a key’s value comes from (files, layers, stores, cache); never the value',
      )
      .option('--json', 'print the report as JSON on stdout'),
  );
  addEnvOptions(command)
    .addHelpText('after', `${EXIT_HELP} Exit 1 when no file sets the key or it does not resolve.`)
    .action(
      storeAction(async (key: string, flags: EnvFlags & { json?: boolean }) => {
        const report = await explain(key, flags);
        if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else process.stdout.write(render(report));
        if (!report.setBy.length) {
          throw new EnvmuxError('NOT_FOUND', `no env file sets ${key}`, {
            hint: 'name the files with -f, or check ENVMUX_FILES',
          });
        }
        return report.problem ? EXIT.failed : EXIT.ok;
      }),
    );
}

async function explain(key: string, flags: EnvFlags): Promise<ExplainReport> {
  const options = await commandLoadOptions(flags);
  const env = options.env ?? process.env;
  const setBy: ExplainReport['setBy'] = [];
  for (const file of envFilesFor(options, env)) {
    let source: string;
    try {
      source = readFileSync(file.path, 'utf8');
    } catch {
      continue;
    }
    const entry = parseEnvSource(source, displayPath(file.path)).find((e) => e.key === key);
    if (entry) setBy.push({ file: entry.file, line: entry.line, wins: !setBy.length });
  }
  const processEnv = options.processEnv ?? process.env;
  const layer =
    processEnv[key] !== undefined && !options.override
      ? 'environment'
      : setBy.length
        ? 'file'
        : 'none';
  const report: ExplainReport = {
    key,
    setBy,
    layer,
    references: [],
    servedBy: [],
    problem: null,
    cache: `none in this process; a running app keeps values ${Math.round(
      parseDuration(env.ENVMUX_CACHE_TTL, 5 * 60_000) / 1000,
    )} s${env.ENVMUX_REDIS_URL ? ', and the Redis tier (ENVMUX_REDIS_URL)' : ''}`,
  };
  if (!setBy.length) return report;
  const { loaded, secrets } = await loadForCommand(options);
  const entry = loaded.entries.get(key);
  if (entry && entry.quote !== "'") {
    try {
      const visit = (parts: Array<string | Reference>) => {
        for (const part of parts) if (typeof part !== 'string') report.references.push(part.raw);
      };
      visit(scan(entry.value, { isScheme: schemeTest(options), expand: options.expand }));
    } catch {}
  }
  // A reference's `:-fallback` is literal text that may have become the value: scrub it.
  report.references = report.references.map((raw) => redact(raw, secrets));
  report.servedBy = loaded.sources.get(key)?.providers ?? [];
  const error = loaded.errors.find((e) => e.key === key);
  if (error) report.problem = new MessageScrubber(secrets).scrub(error.describe());
  return report;
}

function render(r: ExplainReport): string {
  const lines = [r.key];
  lines.push(
    `  set by      ${
      r.setBy.length
        ? r.setBy.map((s) => `${s.file}:${s.line}${s.wins ? ' (wins)' : ''}`).join(', ')
        : 'no env file'
    }`,
  );
  lines.push(
    `  layer       ${
      r.layer === 'environment'
        ? 'the process environment (it wins over the files)'
        : r.layer === 'file'
          ? `${r.setBy[0]?.file}`
          : 'not set'
    }`,
  );
  if (r.references.length) lines.push(`  references  ${r.references.join(' ')}`);
  if (r.servedBy.length) lines.push(`  served by   ${r.servedBy.join(', ')}`);
  lines.push(`  cache       ${r.cache}`);
  if (r.problem) lines.push(`  problem     ${r.problem}`);
  return `${lines.join('\n')}\n`;
}
