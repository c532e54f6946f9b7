#!/usr/bin/env node
// The `envmux` command: one file per command under src/cli, each on top of the library API.

import { Command } from 'commander';
import { version } from './version.js';

export function createProgram(): Command {
  const program = new Command()
    .name('envmux')
    .description('Resolve secret references in .env files from any secret store')
    .version(version, '-v, --version')
    .showHelpAfterError();
  return program;
}

export async function main(argv = process.argv): Promise<void> {
  await createProgram().parseAsync(argv);
}

void main();
