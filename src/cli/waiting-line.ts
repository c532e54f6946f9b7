// The "waiting for <store>" line `run` and `check` show on stderr while a load takes more than
// about a second: terminals only (not pipes, NO_COLOR or CI), redrawn in place, cleared when done.

/** What the line writes to (process.stderr). */
export interface LineStream {
  isTTY?: boolean;
  write(text: string): boolean;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const CLEAR = '\r\x1b[2K';

/** Whether to show the line: `stream` is a terminal and neither NO_COLOR nor CI is set (non-empty). */
export function showsWaitingLine(
  stream: { isTTY?: boolean },
  env: Record<string, string | undefined>,
): boolean {
  return stream.isTTY === true && !env.NO_COLOR && !env.CI;
}

/**
 * Show `envmux: waiting for <label()>` on `stream` after `delay` ms (default 1000), redrawn every
 * `interval` ms; returns the function that stops it and clears the line (nothing if never shown).
 */
export function startWaitingLine(
  stream: LineStream,
  label: () => string,
  options: { delay?: number; interval?: number } = {},
): () => void {
  let frame = 0;
  let shown = false;
  let ticker: ReturnType<typeof setInterval> | undefined;
  const draw = () => {
    shown = true;
    stream.write(`${CLEAR}${FRAMES[frame++ % FRAMES.length]} envmux: waiting for ${label()}`);
  };
  const start = setTimeout(() => {
    draw();
    ticker = setInterval(draw, options.interval ?? 100);
    ticker.unref?.();
  }, options.delay ?? 1000);
  start.unref?.();
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(start);
    if (ticker) clearInterval(ticker);
    if (shown) stream.write(CLEAR);
  };
}
