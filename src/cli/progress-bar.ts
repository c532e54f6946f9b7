// The progress bar of long store commands (copy, restore, backup): cli-progress on stderr when it is
// a terminal, loaded only then (never on the library or preload path); nothing at all otherwise.
// Shows counts only, never a name or a value.

/** A running bar: `update(done, total)` as items finish; `stop()` clears it. */
export interface ProgressBar {
  update(done: number, total: number): void;
  stop(): void;
}

type Stream = NodeJS.WriteStream & { isTTY?: boolean };

/**
 * A bar labelled `label` on `stream` (default stderr), or `undefined` when the stream is not a
 * terminal (nothing drawn: logs and pipes get the summary line only).
 */
export async function progressBar(
  label: string,
  stream: Stream = process.stderr,
): Promise<ProgressBar | undefined> {
  if (!stream.isTTY) return undefined;
  const mod = (await import('cli-progress')) as typeof import('cli-progress') & {
    default?: typeof import('cli-progress');
  };
  const lib = mod.default ?? mod;
  const bar = new lib.SingleBar(
    {
      stream,
      format: `${label} [{bar}] {value}/{total} | {eta_formatted} left`,
      hideCursor: true,
      clearOnComplete: true,
      barsize: 30,
      fps: 10,
    },
    lib.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, done);
        started = true;
      } else bar.update(done);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
