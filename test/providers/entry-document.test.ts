// The map-entry document (src/providers/entry-document.ts) that `vault` and `k8s` answer: what
// `get` returns for a data map, what `set` writes for a value, and the field rule, table-driven.

import { describe, expect, it } from 'vitest';
import { toEnvmuxError } from '../../src/errors.js';
import { documentOf, mapOf, pickEntryField } from '../../src/providers/entry-document.js';

describe('documentOf / mapOf', () => {
  it.each([
    // data map, what get answers
    [{ value: 'plain' }, 'plain'],
    [{ value: '' }, ''],
    [{ value: '[1,2]' }, '[1,2]'],
    [{ value: '{"a":"b"}' }, '{"value":"{\\"a\\":\\"b\\"}"}'],
    [{ password: 'pw' }, '{"password":"pw"}'],
    [{ user: 'u', value: 'v' }, '{"user":"u","value":"v"}'],
    [{}, '{}'],
  ])('documentOf(%j) = %s', (data, answer) => {
    expect(documentOf(data)).toBe(answer);
  });

  it.each([
    // value written, data map stored
    ['plain', { value: 'plain' }],
    ['{"user":"u","password":"p"}', { user: 'u', password: 'p' }],
    ['{"db":{"port":5432}}', { db: { port: 5432 } }],
    ['{"value":"x"}', { value: '{"value":"x"}' }],
    ['{}', { value: '{}' }],
    [' {"a":"b"}', { value: ' {"a":"b"}' }],
  ])('mapOf(%s) = %j', (value, stored) => {
    expect(mapOf(value)).toEqual(stored);
  });

  it('reads back what it writes: the value itself, or the same JSON object', () => {
    for (const value of ['plain', '{"user":"u"}', '{"value":"x"}', '{}', '[]', '{"a":{"b":1}}']) {
      const stored = mapOf(value);
      const answer = documentOf(stored);
      if (stored.value === value) expect(pickEntryField(answer, undefined, 'n')).toBe(value);
      else expect(JSON.parse(answer)).toEqual(JSON.parse(value));
    }
  });
});

describe('pickEntryField', () => {
  it.each([
    // answer, field, result
    ['plain', undefined, 'plain'],
    ['plain', 'value', 'plain'],
    ['{"password":"pw"}', undefined, 'pw'],
    ['{"password":"pw"}', 'password', 'pw'],
    ['{"port":5432}', undefined, '5432'],
    ['{"db":{"port":5432}}', undefined, '{"port":5432}'],
    ['{"db":{"port":5432}}', 'db.port', '5432'],
    ['{"a":"1","b":"2"}', 'b', '2'],
    ['{"a":"1","b":"2"}', 'c', undefined],
    ['[1,2]', '0', '1'],
  ] as const)('%s #%s → %s', (answer, field, result) => {
    expect(pickEntryField(answer, field, 'app/db')).toBe(result);
  });

  it.each([
    ['{"user":"secret-user","password":"secret-pw"}', undefined, 'user, password'],
    ['{}', undefined, 'no keys'],
    ['plain-secret', 'password', 'not JSON'],
  ] as const)('%s #%s is INVALID_REFERENCE naming %s, never a value', (answer, field, shown) => {
    let error: unknown;
    try {
      pickEntryField(answer, field, 'app/db');
    } catch (e) {
      error = e;
    }
    const e = toEnvmuxError(error);
    expect(e.code).toBe('INVALID_REFERENCE');
    expect(e.message).toContain(shown);
    for (const secret of ['secret-user', 'secret-pw', 'plain-secret']) {
      expect(JSON.stringify(e) + e.message + String(e.hint)).not.toContain(secret);
    }
  });
});
