// How every `envmux` command reports a failure: `envmux: CODE: message`, then the hint, on stderr,
// exit code 1. Never a stack trace unless ENVMUX_DEBUG is set (docs/architecture.md, "Error codes").

import { isEnvmuxError, toEnvmuxError } from '../errors.js';
import { errorLine } from './colour.js';

/** The exit code of a command that failed (usage errors from the option parser included). */
export const EXIT_FAILURE = 1;

/** Print `error` as one coded line and its hint, and set the exit code. */
export function reportError(error: unknown): void {
  const e = isEnvmuxError(error) ? error : toEnvmuxError(error);
  let text = errorLine(e.code, e.message, e.hint);
  if (!isEnvmuxError(error) && debugEnabled() && error instanceof Error && error.stack) {
    text += `${error.stack}\n`;
  }
  process.stderr.write(text);
  process.exitCode = EXIT_FAILURE;
}

/** A failure envmux did not expect (a bug): the one line, and the stack only under ENVMUX_DEBUG. */
export function reportUnexpected(error: unknown): void {
  if (isEnvmuxError(error)) {
    reportError(error);
    return;
  }
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stderr.write(
    `envmux: internal error: ${detail.split('\n')[0]?.slice(0, 300)}\n  hint: ENVMUX_DEBUG=1 shows the stack trace; please report it\n`,
  );
  if (debugEnabled() && error instanceof Error && error.stack) {
    process.stderr.write(`${error.stack}\n`);
  }
  process.exitCode = EXIT_FAILURE;
}

function debugEnabled(): boolean {
  const value = process.env.ENVMUX_DEBUG;
  return !!value && !['0', 'false', 'no', 'off'].includes(value.toLowerCase());
}
