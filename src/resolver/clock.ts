// A monotonic clock in milliseconds. `performance.now()` would do the same, but the first read of
// the `performance` global loads node:perf_hooks, about 3 ms of every process start; process.hrtime
// is already loaded.

/** Milliseconds on a monotonic clock (differences only; the origin is arbitrary). */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}
