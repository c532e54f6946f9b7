import { describe, expect, it, vi } from 'vitest';
import { waitingFor } from '../../src/cli/command-env.js';
import { showsWaitingLine, startWaitingLine } from '../../src/cli/waiting-line.js';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, writes, write: (s: string) => writes.push(s) > 0 };
}

describe('the waiting line', () => {
  it('shows only on a terminal, and not under NO_COLOR or CI', () => {
    expect(showsWaitingLine(fakeStream(true), {})).toBe(true);
    expect(showsWaitingLine(fakeStream(false), {})).toBe(false);
    expect(showsWaitingLine({}, {})).toBe(false);
    expect(showsWaitingLine(fakeStream(true), { NO_COLOR: '1' })).toBe(false);
    expect(showsWaitingLine(fakeStream(true), { CI: 'true' })).toBe(false);
    // An empty NO_COLOR / CI is unset (no-color.org).
    expect(showsWaitingLine(fakeStream(true), { NO_COLOR: '', CI: '' })).toBe(true);
  });

  it('appears after the delay, names the store, and is cleared when done', () => {
    vi.useFakeTimers();
    try {
      const stream = fakeStream(true);
      let label = 'aws';
      const stop = startWaitingLine(stream, () => label, { delay: 1000, interval: 100 });
      vi.advanceTimersByTime(999);
      expect(stream.writes).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(stream.writes).toEqual(['\r\x1b[2K⠋ envmux: waiting for aws']);
      label = 'vault';
      vi.advanceTimersByTime(100);
      expect(stream.writes.at(-1)).toBe('\r\x1b[2K⠙ envmux: waiting for vault');
      stop();
      expect(stream.writes.at(-1)).toBe('\r\x1b[2K');
      const count = stream.writes.length;
      vi.advanceTimersByTime(5000);
      stop();
      expect(stream.writes.length).toBe(count);
    } finally {
      vi.useRealTimers();
    }
  });

  it('writes nothing when the load ends before the delay', () => {
    vi.useFakeTimers();
    try {
      const stream = fakeStream(true);
      const stop = startWaitingLine(stream, () => 'aws', { delay: 1000 });
      vi.advanceTimersByTime(500);
      stop();
      vi.advanceTimersByTime(5000);
      expect(stream.writes).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('names the stores the requests in flight wait for, the chain for secret:', () => {
    const requests = [
      { scheme: 'secret', name: 'a' },
      { scheme: 'aws', name: 'b' },
      { scheme: 'secret', name: 'c' },
    ];
    expect(waitingFor(requests, ['local', 'aws', 'env'])).toBe('local, aws, env (3 secrets)');
    expect(waitingFor(requests.slice(1, 2), undefined)).toBe('aws (1 secret)');
    expect(waitingFor(requests.slice(0, 1), undefined)).toBe('the chain (1 secret)');
    expect(waitingFor([], undefined)).toBe('the load');
  });
});
