// The CLI on a terminal and off it, from the packed package: completion scripts that parse
// (bash -n, zsh -n, fish -n where installed) and complete commands, subcommands, aliases, options
// and choices in bash; colour only on a terminal and never with NO_COLOR (FORCE_COLOR forces it);
// the copy progress bar drawn on a terminal (a pty from `script`) and nothing drawn otherwise.

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanEnv, makeCase, nodeBin, runCli } from './consumer.js';

const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const ESC = '\x1b[';

describe('completion scripts', { timeout: 60_000 }, () => {
  let dir: string;
  const script = (shell: string) => {
    const r = runCli(['completion', shell], dir);
    expect(r.status, r.stderr).toBe(0);
    writeFileSync(join(dir, `envmux.${shell}`), r.stdout);
    return join(dir, `envmux.${shell}`);
  };
  beforeAll(() => {
    dir = makeCase({});
  });

  it('bash: the script parses and completes commands, subcommands, aliases, options and choices', () => {
    const file = script('bash');
    expect(spawnSync('bash', ['-n', file]).status).toBe(0);
    const complete = (...words: string[]) => {
      const r = spawnSync(
        'bash',
        [
          '-c',
          `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _envmux; printf '%s\\n' "\${COMPREPLY[@]}"`,
          'complete',
          file,
          ...words,
        ],
        { encoding: 'utf8' },
      );
      expect(r.stderr).toBe('');
      return r.stdout.split('\n').filter(Boolean);
    };
    expect(complete('envmux', 'co')).toEqual(['copy', 'completion']);
    expect(complete('envmux', 're')).toEqual(['restore']);
    expect(complete('envmux', 'vault', 'in')).toEqual(['init']);
    expect(complete('envmux', 'ls', '--pro')).toEqual(['--provider']);
    expect(complete('envmux', 'copy', '--from', 'local', '--all')).toEqual(['--all-versions']);
    expect(complete('envmux', 'backup', '--act')).toEqual(['--actor']);
    expect(complete('envmux', 'completion', '')).toEqual(['bash', 'zsh', 'fish']);
    const bad = runCli(['completion', 'tcsh'], dir);
    expect(bad.status).toBe(2);
  });

  for (const shell of ['zsh', 'fish']) {
    const installed = has(shell);
    if (!installed) console.warn(`${shell} is not installed: its completion script was not parsed`);
    it.skipIf(!installed)(`${shell}: the script parses (${shell} -n)`, () => {
      const r = spawnSync(shell, ['-n', script(shell)], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  }
});

describe('colour and progress', { timeout: 120_000 }, () => {
  let dir: string;
  const cli = join(inject('consumerDir'), 'node_modules/envmux/dist/cli.cjs');
  /** Run the CLI on a pseudo-terminal (stdout and stderr both the terminal). */
  const onTerminal = (args: string[], env: Record<string, string> = {}) => {
    const command = [nodeBin, cli, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const r = spawnSync('script', ['-qec', command, '/dev/null'], {
      cwd: dir,
      env: cleanEnv({ TERM: 'xterm', ...env }),
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: r.status, output: String(r.stdout) };
  };

  beforeAll(() => {
    dir = makeCase({});
    expect(runCli(['vault', 'init'], dir).status).toBe(0);
    for (let i = 0; i < 40; i++) {
      const r = runCli(['set', `app/k${i}`, '--provider', 'local'], dir, {}, { input: `v-${i}` });
      expect(r.status, r.stderr).toBe(0);
    }
  });

  it('off a terminal: no escape codes and no progress bar; FORCE_COLOR forces colour', () => {
    const error = runCli(['get', 'missing/name', '--provider', 'local'], dir);
    expect(error.status).toBe(1);
    expect(error.stderr).toMatch(/^envmux: NOT_FOUND: /);
    expect(error.stderr).not.toContain(ESC);
    const copy = runCli(['copy', '--from', 'local', '--to', 'memory'], dir);
    expect(copy.status).toBe(0);
    expect(copy.stderr).toBe(
      'envmux copy: local → memory: 40 secrets: 40 created, 0 updated, 0 skipped, 0 failed\n',
    );
    const forced = runCli(['get', 'missing/name', '--provider', 'local'], dir, {
      FORCE_COLOR: '1',
    });
    expect(forced.stderr).toContain(`envmux: ${ESC}31mNOT_FOUND${ESC}39m: `);
  });

  const pty = has('script');
  if (!pty) console.warn('`script` is not installed: the terminal checks were not run');

  it.skipIf(!pty)('on a terminal: coloured error and summary, and a progress bar on copy', () => {
    const error = onTerminal(['get', 'missing/name', '--provider', 'local']);
    expect(error.output).toContain(`envmux: ${ESC}31mNOT_FOUND${ESC}39m: `);
    const copy = onTerminal(['copy', '--from', 'local', '--to', 'memory', '--concurrency', '1']);
    expect(copy.status).toBe(0);
    expect(copy.output).toMatch(/copy \[[\u2588\u2591]+\] \d+\/40/);
    expect(copy.output).toContain(`${ESC}32menvmux copy${ESC}39m: local → memory: 40 secrets`);
  });

  it.skipIf(!pty)('on a terminal with NO_COLOR: no colour', () => {
    const error = onTerminal(['get', 'missing/name', '--provider', 'local'], { NO_COLOR: '1' });
    expect(error.output).toMatch(/envmux: NOT_FOUND: /);
    expect(error.output).not.toContain(`${ESC}31m`);
    const copy = onTerminal(['copy', '--from', 'local', '--to', 'memory'], { NO_COLOR: '1' });
    expect(copy.output).not.toContain(`${ESC}32m`);
  });
});
