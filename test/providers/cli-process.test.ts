// The spawn helper every CLI store shares: no shell, stdin for secrets, the timeout kills the child,
// output past the bound is an error, a missing executable is CONFIG, stderr text never reaches a message.

import { describe, expect, it } from 'vitest';
import { toEnvmuxError } from '../../src/errors.js';
import { type CliRequest, cliFailure, runCli } from '../../src/providers/cli-process.js';

const node = process.execPath;
const base = (args: string[], extra: Partial<CliRequest> = {}): CliRequest => ({
  provider: 'test',
  command: node,
  args,
  env: { PATH: process.env.PATH },
  timeoutMs: 10_000,
  maxOutputBytes: 1024,
  install: 'install the test tool',
  ...extra,
});
const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return undefined;
  } catch (error) {
    return toEnvmuxError(error).code;
  }
};

describe('runCli', () => {
  it('passes stdin, runs without a shell (metacharacters stay data), returns the exit code', async () => {
    const r = await runCli(
      base(
        [
          '-e',
          'let s="";process.stdin.on("data",c=>s+=c).on("end",()=>{process.stdout.write(s+"|"+process.argv[1]);process.exit(3)})',
          '$(id) `id` ; echo hi',
        ],
        { input: 'secret-from-stdin\n' },
      ),
    );
    expect(r.stdout).toBe('secret-from-stdin\n|$(id) `id` ; echo hi');
    expect(r.code).toBe(3);
  });

  it('kills a child that outlives the timeout → TIMEOUT, within the timeout plus start-up', async () => {
    const started = Date.now();
    expect(
      await codeOf(runCli(base(['-e', 'setInterval(() => {}, 1000)'], { timeoutMs: 1_000 }))),
    ).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('an abort signal kills the child → TIMEOUT', async () => {
    const controller = new AbortController();
    const run = runCli(base(['-e', 'setInterval(() => {}, 1000)'], { signal: controller.signal }));
    setTimeout(() => controller.abort(), 200);
    expect(await codeOf(run)).toBe('TIMEOUT');
  });

  it('more output than the bound → UNAVAILABLE, child killed', async () => {
    const error = await runCli(
      base(['-e', 'for(;;) process.stdout.write("x".repeat(4096))']),
    ).catch(toEnvmuxError);
    expect(toEnvmuxError(error).code).toBe('UNAVAILABLE');
    expect(toEnvmuxError(error).message).toContain('more than 1024 bytes');
  });

  it('a missing executable → CONFIG with the install hint', async () => {
    const error = await runCli(base([], { command: 'envmux-no-such-tool' })).catch(toEnvmuxError);
    expect(toEnvmuxError(error).code).toBe('CONFIG');
    expect(toEnvmuxError(error).hint).toBe('install the test tool');
  });
});

describe('cliFailure', () => {
  const request = { provider: 'test', command: 'tool' };
  it('maps by rule with a fixed message; unknown stderr is UNAVAILABLE with the exit code only', () => {
    const stderr = 'Vault is locked. value=leak-canary-77';
    const locked = cliFailure(request, { stdout: '', stderr, code: 1 }, [
      [/Vault is locked/, 'LOCKED', 'locked'],
    ]);
    expect(locked.code).toBe('LOCKED');
    const other = cliFailure(request, { stdout: '', stderr, code: 2 }, []);
    expect(other.code).toBe('UNAVAILABLE');
    expect(other.message).toContain('exit 2');
    for (const e of [locked, other])
      expect(JSON.stringify({ ...e.toJSON(), s: String(e) })).not.toContain('leak-canary');
  });
});
