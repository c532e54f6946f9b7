// Colour for the CLI's error, warning and summary lines: only when the stream is a terminal, never
// with NO_COLOR set (non-empty), always with FORCE_COLOR set (not 0/false), never with TERM=dumb.
// No dependency; escape codes only wrap envmux's own words (codes, labels), never a message.

type Env = Record<string, string | undefined>;

/** Whether lines written to `stream` get colour. */
export function colourEnabled(
  stream: { isTTY?: boolean } = process.stderr,
  env: Env = process.env,
): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR) return false;
  return !!stream.isTTY && env.TERM !== 'dumb';
}

const CODES = { red: [31, 39], yellow: [33, 39], green: [32, 39], dim: [2, 22], bold: [1, 22] };

/** The styles: each wraps its text in escape codes when colour is on for `stream`, else returns it. */
export type Paint = Record<keyof typeof CODES, (text: string) => string>;

/** Styles for `stream` (default stderr), decided once per call. */
export function paint(stream: { isTTY?: boolean } = process.stderr, env: Env = process.env): Paint {
  const on = colourEnabled(stream, env);
  const style =
    ([open, close]: number[]) =>
    (text: string) =>
      on && text ? `\x1b[${open}m${text}\x1b[${close}m` : text;
  return {
    red: style(CODES.red),
    yellow: style(CODES.yellow),
    green: style(CODES.green),
    dim: style(CODES.dim),
    bold: style(CODES.bold),
  };
}

/** `envmux: CODE: message` and its hint, the code in red and the hint dimmed where colour is on. */
export function errorLine(code: string, message: string, hint?: string): string {
  const p = paint();
  return `envmux: ${p.red(code)}: ${message}${hint ? `\n  ${p.dim(`hint: ${hint}`)}` : ''}\n`;
}
