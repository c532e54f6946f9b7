// `envmux export --format F`: resolve the env files and write the values for another tool
// (exportValues). One of two commands whose output holds values, so it refuses a terminal unless
// --force; files are written 0600. Errors are scrubbed of every value.

import { appendFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EnvmuxError } from '../errors.js';
import { writeFileAtomicSync } from '../files/atomic-write.js';
import { EXPORT_FORMATS, type ExportFormat } from '../manage/export-formats.js';
import { exportValues } from '../manage/export-values.js';
import { addEnvOptions, commandLoadOptions, type EnvFlags } from './command-env.js';
import { EXIT, EXIT_HELP, storeAction, usageError, withUsageExit } from './store-command.js';

interface ExportFlags extends EnvFlags {
  format?: string;
  output?: string;
  force?: boolean;
  name?: string;
  namespace?: string;
}

export function register(program: Command): void {
  const command = withUsageExit(
    program
      .command('export')
      .description(
        'resolve the env files and print the values as dotenv, json, shell, ... (for files and pipes)',
      )
      .requiredOption('--format <format>', EXPORT_FORMATS.join(' | '))
      .option('-o, --output <file>', 'write to this file (created 0600) instead of stdout')
      .option('--force', 'write values to a terminal')
      .option('--name <name>', 'k8s-secret: the Secret’s name', 'envmux')
      .option('--namespace <ns>', 'k8s-secret: its namespace'),
  );
  addEnvOptions(command)
    .addHelpText(
      'after',
      `
Formats: dotenv (quoted so that nothing is resolved again), json, shell (export K='v', exact for
any byte but NUL), docker-env (docker run --env-file), k8s-secret (a Secret manifest, base64 data),
github (::add-mask:: lines on stdout first, then NAME<<DELIMITER blocks appended to -o or
$GITHUB_ENV), gitlab (KEY=value lines for artifacts:reports:dotenv).
Nothing is written unless every reference resolves. Values never go to a terminal without --force.
${EXIT_HELP}

Examples:
  envmux export --format json -o config.json
  envmux export --format k8s-secret --name app | kubectl apply -f -
  envmux export --format github                 # in a GitHub Actions step`,
    )
    .action(
      storeAction(async (flags: ExportFlags) => {
        const format = flags.format as ExportFormat;
        if (!EXPORT_FORMATS.includes(format)) {
          throw usageError(
            new EnvmuxError('CONFIG', `unknown format "${flags.format}"`, {
              hint: `use ${EXPORT_FORMATS.join(', ')}`,
            }),
          );
        }
        const githubEnv =
          format === 'github' ? (flags.output ?? process.env.GITHUB_ENV) : undefined;
        if (format === 'github' && !githubEnv) {
          throw usageError(
            new EnvmuxError('CONFIG', 'the github format writes to $GITHUB_ENV, which is not set', {
              hint: 'run it in a GitHub Actions step, or name the file with -o',
            }),
          );
        }
        const toTerminal = (format === 'github' || !flags.output) && process.stdout.isTTY;
        if (toTerminal && !flags.force) {
          throw usageError(
            new EnvmuxError('CONFIG', 'refusing to print secret values to a terminal', {
              hint: 'write them to a file with -o FILE, pipe them, or pass --force',
            }),
          );
        }
        const options = await commandLoadOptions(flags);
        const result = await exportValues({
          ...options,
          audit: { source: 'cli' },
          format,
          name: flags.name,
          namespace: flags.namespace,
        });
        if (format === 'github') {
          // Masks first, on the step's stdout, so the runner hides the values before anything shows them.
          process.stdout.write(result.masks ?? '');
          appendFileSync(resolve(githubEnv!), result.text, { mode: 0o600 });
        } else if (flags.output) {
          const path = resolve(flags.output);
          if (existsSync(path) && !flags.force) {
            throw usageError(
              new EnvmuxError('CONFIG', `${flags.output} exists`, {
                hint: 'pass --force to replace it',
              }),
            );
          }
          writeFileAtomicSync(path, result.text, 0o600);
        } else {
          process.stdout.write(result.text);
        }
        process.stderr.write(
          `envmux export: ${result.keys.length} key${result.keys.length === 1 ? '' : 's'} as ${format}${
            flags.output || githubEnv ? ` to ${flags.output ?? '$GITHUB_ENV'}` : ''
          }\n`,
        );
        return EXIT.ok;
      }),
    );
}
