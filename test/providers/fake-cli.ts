// Puts a test's stand-in CLI (a `#!/usr/bin/env node` script) on a temp PATH with a JSON state file
// it reads on every run, so a test can change the store's state (locked, signed out) between calls.

import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface FakeCli<S> {
  /** PATH with the fake first. */
  path: string;
  /** The fake's executable. */
  bin: string;
  stateFile: string;
  /** One line per run: its argv as JSON. */
  logFile: string;
  state: S;
  /** Write `state` back after a change. */
  save(): void;
  /** The argv of every run so far. */
  runs(): string[][];
  close(): void;
}

/** Install `script` as `name` in a temp bin dir, with `state` in FAKE_<NAME>_STATE. */
export function installFakeCli<S extends object>(
  name: string,
  script: string,
  state: S,
): FakeCli<S> {
  const dir = mkdtempSync(join(tmpdir(), `envmux-fake-${name}-`));
  const bin = join(dir, name);
  copyFileSync(script, bin);
  chmodSync(bin, 0o755);
  const stateFile = join(dir, 'state.json');
  const logFile = join(dir, 'runs.log');
  writeFileSync(logFile, '');
  const fake: FakeCli<S> = {
    path: `${dir}${delimiter}${process.env.PATH}`,
    bin,
    stateFile,
    logFile,
    state,
    save() {
      writeFileSync(stateFile, JSON.stringify({ ...fake.state, log: logFile }));
    },
    runs() {
      return readFileSync(logFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as string[]);
    },
    close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  fake.save();
  return fake;
}
