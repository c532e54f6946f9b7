// The retirement marker: its entries (a version and a due date each, never a value), the cap that
// keeps it within a tag's 256 characters, and the rule by which writes keep, replace or clear it.

import { describe, expect, it } from 'vitest';
import {
  formatRetireMarker,
  MARKER_ENTRIES,
  metadataToStore,
  parseRetireMarker,
} from '../../src/providers/retire-version.js';

const K = 'envmux.retire';

describe('the retirement marker', () => {
  it('reads space-separated version@date entries and ignores anything else', () => {
    expect(
      parseRetireMarker('1@2030-01-01T00:00:00.000Z  x@nope 2@2030-01-02T00:00:00.000Z'),
    ).toEqual([
      { version: '1', due: Date.parse('2030-01-01T00:00:00.000Z') },
      { version: '2', due: Date.parse('2030-01-02T00:00:00.000Z') },
    ]);
    expect(parseRetireMarker('')).toEqual([]);
    expect(parseRetireMarker(undefined)).toEqual([]);
  });

  it('writes one entry per version (the latest due), the last four by due date, within 256 characters', () => {
    const id = (n: number) => `${n}`.padStart(36, 'a'); // an AWS VersionId is 36 characters
    const entries = [5, 1, 3, 2, 4].map((n) => ({ version: id(n), due: Date.UTC(2030, 0, n) }));
    const value = formatRetireMarker([...entries, { version: id(1), due: Date.UTC(2029, 0, 1) }]);
    expect(parseRetireMarker(value).map((e) => e.version)).toEqual([2, 3, 4, 5].map(id));
    expect(MARKER_ENTRIES).toBe(4);
    expect(value.length).toBeLessThanOrEqual(256);
    expect(formatRetireMarker([])).toBe('');
  });

  it('a write keeps the marker, replaces it when it names one, and clears it with an empty one', () => {
    const current = { team: 'db', [K]: '1@2030-01-01T00:00:00.000Z' };
    expect(metadataToStore(undefined, current)).toEqual(current);
    expect(metadataToStore({ team: 'pay' }, current)).toEqual({ team: 'pay', [K]: current[K] });
    expect(metadataToStore({ [K]: '2@2030-01-02T00:00:00.000Z' }, current)).toEqual({
      [K]: '2@2030-01-02T00:00:00.000Z',
    });
    expect(metadataToStore({ team: 'db', [K]: '' }, current)).toEqual({ team: 'db' });
    expect(metadataToStore({ team: 'pay' }, { team: 'db' })).toEqual({ team: 'pay' });
  });
});
