// The one way CLI-backed stores (pass, op, bw) run their tool: an argument array (never a shell),
// secrets through stdin or the environment, a timeout, bounded output. Never puts output in an error.

import { spawn } from 'node:child_process';
import { EnvmuxError, type ErrorCode } from '../errors.js';
import { killProcessTree } from './process-tree.js';

/** One run of a store's CLI. */
export interface CliRequest {
  /** The provider id, for errors. */
  provider: string;
  /** The executable (`pass`, `op`, `bw`), looked up on PATH. */
  command: string;
  /** Arguments, passed as an array; never a secret (docs/architecture.md, "Invariants"). */
  args: string[];
  /** Written to the child's stdin, then stdin is closed (the way secrets reach the tool). */
  input?: string;
  /** The child's whole environment. */
  env: Record<string, string | undefined>;
  /** Kill the child after this many ms → `TIMEOUT`. */
  timeoutMs: number;
  /** Most bytes of stdout (and of stderr) kept; more → `UNAVAILABLE`, the child is killed. */
  maxOutputBytes: number;
  /** What to install when the executable is missing (the `CONFIG` hint). */
  install: string;
  signal?: AbortSignal;
}

/** What the child printed and how it ended. */
export interface CliResult {
  stdout: string;
  stderr: string;
  /** Exit code; `null` when a signal ended it. */
  code: number | null;
}

/** The processes this module has spawned (tests count them to compare strategies). */
export const cliStats = { spawned: 0 };

/** The tools still running; killed with what they started when this process exits. */
const running = new Set<number>();
let exitHook = false;

function track(pid: number | undefined): void {
  if (pid === undefined) return;
  running.add(pid);
  if (exitHook) return;
  exitHook = true;
  // A process that ends (a failed load, a timeout the resolver gave up on) leaves no tool behind.
  process.on('exit', () => {
    for (const tool of running) killProcessTree(tool);
  });
}

/**
 * Run a store's CLI and collect its output. Rejects only for what is not the tool's answer: a
 * missing executable (`CONFIG`), the timeout or an abort (`TIMEOUT`), too much output
 * (`UNAVAILABLE`). A non-zero exit resolves; the caller maps its stderr with {@link cliFailure}.
 */
export function runCli(request: CliRequest): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    if (request.signal?.aborted) {
      reject(timeoutError(request, 'the call was aborted'));
      return;
    }
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(request.env)) if (v !== undefined) env[k] = v;
    const child = spawn(request.command, request.args, {
      env,
      shell: false,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    cliStats.spawned++;
    track(child.pid);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let failure: EnvmuxError | undefined;
    let settled = false;
    const fail = (error: EnvmuxError) => {
      failure ??= error;
      if (child.pid !== undefined) killProcessTree(child.pid);
      // Settle now, and let go of the pipes: a process that escaped the kill (one that left the
      // tree) could hold them open for ever, and with them this process.
      child.stdin.destroy();
      child.stdout.destroy();
      child.stderr.destroy();
      finish(() => reject(failure));
    };
    const timer = setTimeout(
      () => fail(timeoutError(request, `no answer within ${request.timeoutMs} ms`)),
      request.timeoutMs,
    );
    const onAbort = () => fail(timeoutError(request, 'the call was aborted'));
    request.signal?.addEventListener('abort', onAbort, { once: true });
    function finish(action: () => void) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
      action();
    }
    child.on('exit', () => {
      if (child.pid !== undefined) running.delete(child.pid);
    });
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > request.maxOutputBytes) fail(tooMuch(request));
      else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errBytes += chunk.length;
      if (errBytes <= request.maxOutputBytes) err.push(chunk);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      finish(() =>
        reject(
          error.code === 'ENOENT'
            ? new EnvmuxError(
                'CONFIG',
                `provider "${request.provider}" needs the "${request.command}" command, which is not on PATH`,
                { provider: request.provider, hint: request.install, retryable: false },
              )
            : new EnvmuxError(
                'UNAVAILABLE',
                `provider "${request.provider}" could not run "${request.command}" (${error.code ?? 'error'})`,
                { provider: request.provider },
              ),
        ),
      );
    });
    child.on('close', (code) => {
      finish(() => {
        if (failure) reject(failure);
        else
          resolve({
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(err).toString('utf8'),
            code,
          });
      });
    });
    // A tool that exits before reading stdin gives EPIPE; its exit code tells the story.
    child.stdin.on('error', () => {});
    child.stdin.end(request.input ?? '');
  });
}

function timeoutError(request: CliRequest, why: string): EnvmuxError {
  return new EnvmuxError(
    'TIMEOUT',
    `"${request.command}" of provider "${request.provider}": ${why}`,
    {
      provider: request.provider,
      hint: 'is the tool waiting for a prompt (a locked vault, a sign-in)? unlock it first',
    },
  );
}

function tooMuch(request: CliRequest): EnvmuxError {
  return new EnvmuxError(
    'UNAVAILABLE',
    `"${request.command}" of provider "${request.provider}" printed more than ${request.maxOutputBytes} bytes`,
    {
      provider: request.provider,
      retryable: false,
      hint: 'a secret this large is not an env value',
    },
  );
}

/** One stderr pattern of a tool and the code it means; `NOT_FOUND` means "answer `undefined`". */
export type StderrRule = [RegExp, ErrorCode, string];

/**
 * The coded error a failed run means, from the tool's stderr: the first matching rule's code and
 * its fixed message (never the stderr text, which may quote a value), or `NOT_FOUND` for the
 * caller to turn into `undefined`. Unmatched output → `UNAVAILABLE` with the exit code only.
 */
export function cliFailure(
  request: Pick<CliRequest, 'provider' | 'command'>,
  result: CliResult,
  rules: StderrRule[],
): EnvmuxError {
  for (const [pattern, code, message] of rules) {
    if (pattern.test(result.stderr)) {
      return new EnvmuxError(code, `${request.command}: ${message}`, {
        provider: request.provider,
        hint: HINTS[code],
      });
    }
  }
  return new EnvmuxError(
    'UNAVAILABLE',
    `"${request.command}" of provider "${request.provider}" failed (exit ${result.code ?? 'by signal'})`,
    { provider: request.provider, hint: `run "${request.command}" by hand to see why` },
  );
}

const HINTS: Partial<Record<ErrorCode, string>> = {
  LOCKED: 'unlock the store first, then run again',
  AUTH_FAILED: 'sign in first, then run again',
  THROTTLED: 'wait and try again',
};
