// The CLI's colour decision: a terminal only, never with NO_COLOR, always with FORCE_COLOR (not 0),
// never with TERM=dumb; and no escape code at all when it is off.

import { describe, expect, it } from 'vitest';
import { colourEnabled, paint } from '../../src/cli/colour.js';

const tty = { isTTY: true };
const pipe = { isTTY: false };

describe('colour', () => {
  it('is on for a terminal only', () => {
    expect(colourEnabled(tty, {})).toBe(true);
    expect(colourEnabled(pipe, {})).toBe(false);
    expect(paint(pipe, {}).red('CODE')).toBe('CODE');
    expect(paint(tty, {}).red('CODE')).toBe('\x1b[31mCODE\x1b[39m');
  });

  it('honours NO_COLOR, FORCE_COLOR and TERM=dumb', () => {
    expect(colourEnabled(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colourEnabled(tty, { NO_COLOR: '' })).toBe(true);
    expect(colourEnabled(tty, { TERM: 'dumb' })).toBe(false);
    expect(colourEnabled(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(colourEnabled(tty, { FORCE_COLOR: '0' })).toBe(false);
    expect(colourEnabled(pipe, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(true);
    expect(paint(tty, { NO_COLOR: '1' }).green('ok')).toBe('ok');
  });
});
