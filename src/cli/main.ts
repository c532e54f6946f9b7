#!/usr/bin/env node
// The `envmux` command. One file per command under src/cli, each exporting `register(program)` and
// built on the library API. Output: values only from explicit `get`/`export`; diagnostics on stderr.

import { Command } from 'commander';
import { addActorOption } from './actor-option.js';
import { register as audit } from './audit.js';
import { register as backup } from './backup.js';
import { register as check } from './check.js';
import { register as completion } from './completion.js';
import { register as copy } from './copy.js';
import { register as doctor } from './doctor.js';
import { register as explain } from './explain.js';
import { register as exportCommand } from './export.js';
import { register as generate } from './generate.js';
import { register as get } from './get.js';
import { register as list } from './list.js';
import { register as migrate } from './migrate.js';
import { register as plan } from './plan.js';
import { reportUnexpected } from './report-error.js';
import { register as restore } from './restore.js';
import { register as rm } from './rm.js';
import { register as rotate } from './rotate.js';
import { register as run } from './run.js';
import { register as serve } from './serve.js';
import { register as set } from './set.js';
import { register as status } from './status.js';
import { register as vault } from './vault.js';
import { version } from './version.js';
import { register as versions } from './versions.js';

/** Each command module adds itself to the program. */
const COMMANDS: Array<(program: Command) => void> = [
  run,
  check,
  vault,
  generate,
  get,
  set,
  rm,
  list,
  versions,
  rotate,
  status,
  copy,
  backup,
  restore,
  migrate,
  exportCommand,
  doctor,
  explain,
  plan,
  audit,
  serve,
  completion,
];

/** `envmux vault init` for a subcommand, `envmux` for the program. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** A usage error is one line and a pointer to the command's `--help`, never the whole help. */
function pointToHelp(command: Command): void {
  command.showHelpAfterError(`  see: ${commandPath(command)} --help`);
  for (const sub of command.commands) pointToHelp(sub);
}

export function createProgram(): Command {
  const program = new Command()
    .name('envmux')
    .description('Resolve secret references in .env files from any secret store')
    .version(version, '-v, --version')
    .configureOutput({
      outputError: (text, write) => write(`envmux: ${text.replace(/^error: /, '')}`),
    });
  for (const add of COMMANDS) add(program);
  addActorOption(program);
  pointToHelp(program);
  return program;
}

export async function main(argv = process.argv): Promise<void> {
  // Last resort: whatever a command throws (an option parser, a bug) is one coded line.
  process.on('uncaughtException', reportUnexpected);
  process.on('unhandledRejection', reportUnexpected);
  try {
    await createProgram().parseAsync(argv);
  } catch (error) {
    reportUnexpected(error);
  }
}

void main();
