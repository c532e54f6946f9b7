// The streaming redactor of `envmux run`: masked forms of a secret, and the streaming guarantee —
// however the output is split into writes, the result equals masking the whole text at once.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  base64Cores,
  MIN_MASKED_LENGTH,
  maskForms,
  maskPatterns,
} from '../../src/mask/patterns.js';
import { createRedactStream, Masker, Redactor, redact } from '../../src/mask/redactor.js';

/** The specification: every occurrence of every pattern; overlapping occurrences form one mask. */
function oracle(input: Buffer, patterns: string[], mask = '***'): Buffer {
  const spans: Array<[number, number]> = [];
  for (const p of patterns) {
    const bytes = Buffer.from(p);
    if (!bytes.length) continue;
    for (let i = input.indexOf(bytes); i !== -1; i = input.indexOf(bytes, i + 1)) {
      spans.push([i, i + bytes.length]);
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  const parts: Buffer[] = [];
  let at = 0;
  for (let k = 0; k < spans.length; ) {
    let [start, end] = spans[k]!;
    for (k++; k < spans.length && spans[k]![0] < end; k++) end = Math.max(end, spans[k]![1]);
    parts.push(input.subarray(at, start), Buffer.from(mask));
    at = end;
  }
  parts.push(input.subarray(at));
  return Buffer.concat(parts);
}

/** Stream `input` through a redactor in pieces cut at `cuts`; checks the hold-back bound. */
function streamed(redactor: Redactor, input: Buffer, cuts: number[]): Buffer {
  const points = [...new Set(cuts.map((c) => Math.min(c, input.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const point of [...points, input.length]) {
    out.push(redactor.write(input.subarray(at, point)));
    expect(redactor.held).toBeLessThanOrEqual(redactor.maxHoldBack);
    at = point;
  }
  out.push(redactor.flush());
  return Buffer.concat(out);
}

describe('masked forms of a secret', () => {
  const pem = '-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\n0Z1Xy\n-----END KEY-----';
  const cases: Array<[string, string[], string, string]> = [
    ['a plain value', ['hunter2-pw'], 'password=hunter2-pw;', 'password=***;'],
    ['two occurrences', ['s3cr3t'], 's3cr3t and s3cr3t', '*** and ***'],
    ['a value shorter than 4 characters is not masked', ['abc'], 'abc abcd', 'abc abcd'],
    ['exactly 4 characters is masked', ['abcd'], 'abc abcd', 'abc ***'],
    [
      'each line of a multi-line value',
      [pem],
      `key line: MIIBOgIBAAJBAKj34GkxFhD9\nlast: 0Z1Xy\n`,
      'key line: ***\nlast: ***\n',
    ],
    ['a whole multi-line value', [pem], `<${pem}>`, '<***>'],
    ['CRLF lines', ['line-one\r\nline-two'], 'x line-two x', 'x *** x'],
    [
      'base64',
      ['correct horse battery'],
      `b64=${Buffer.from('correct horse battery').toString('base64')}`,
      'b64=***',
    ],
    [
      'base64 with a trailing newline (echo | base64)',
      ['pa55word!'],
      Buffer.from('pa55word!\n').toString('base64'),
      '***Cg==',
    ],
    [
      'base64 inside basic auth',
      ['pa55word!'],
      `Authorization: Basic ${Buffer.from('admin:pa55word!').toString('base64')}`,
      'Authorization: Basic YWRtaW46***',
    ],
    [
      'base64url',
      ['\u00ff\u00fe\u00fd?>>?'],
      `${Buffer.from('\u00ff\u00fe\u00fd?>>?').toString('base64url')}.`,
      '***w.',
    ],
    ['URL-encoded', ['p@ss w/rd&x'], `?pw=${encodeURIComponent('p@ss w/rd&x')}`, '?pw=***'],
    ['form-encoded', ['p@ss w/rd&x'], '?pw=p%40ss+w%2Frd%26x', '?pw=***'],
    ['JSON-escaped', ['say "hi"\\now'], JSON.stringify({ v: 'say "hi"\\now' }), '{"v":"***"}'],
    ['overlapping secrets merge', ['abcdef', 'defghi'], '0abcdefghi1', '0***1'],
    ['adjacent secrets stay two masks', ['abcd', 'efgh'], 'abcdefgh', '******'],
    [
      'one secret inside another',
      ['secret-long-value', 'long'],
      'a long secret-long-value',
      'a *** ***',
    ],
    ['multi-byte characters', ['пароль-🔑'], 'ключ: пароль-🔑 ✓', 'ключ: *** ✓'],
    ['nothing to mask', [], 'plain output', 'plain output'],
  ];

  it.each(cases)('%s', (_, secrets, input, expected) => {
    expect(redact(input, secrets)).toBe(expected);
  });

  it('base64 cores match the encoding at every alignment', () => {
    const value = 'alignment-check';
    for (let prefix = 0; prefix < 6; prefix++) {
      const encoded = Buffer.from(`${'x'.repeat(prefix)}${value}\n`).toString('base64');
      expect(base64Cores(value).some((core) => encoded.includes(core))).toBe(true);
    }
  });

  it('skips values and lines under the minimum length', () => {
    expect(MIN_MASKED_LENGTH).toBe(4);
    expect(maskPatterns(['ab', 'x\nlong-line\ny'])).not.toContain('x');
    expect(maskPatterns(['ab'])).toEqual([]);
  });
});

/** `base64` (coreutils): the encoding wrapped at 76 columns. */
const wrap76 = (bytes: string) =>
  Buffer.from(bytes).toString('base64').replace(/.{76}/g, '$&\n').replace(/\n$/, '');

describe('forms written differently', () => {
  const long = 'a-long-secret-value-over-57-bytes-so-base64-wraps-it-0123456789-end';
  const odd = 'pässwörd/x<y>&z w~!';
  const cases: Array<[string, string, string, RegExp | string]> = [
    [
      'base64 wrapped at 76 columns (echo "$X" | base64)',
      long,
      `${wrap76(`${long}\n`)}\n`,
      /^\*\*\*[A-Za-z0-9+/=]{0,4}\n$/,
    ],
    [
      'base64 wrapped with CRLF (MIME)',
      long,
      wrap76(`user:${long}`).replace(/\n/g, '\r\n'),
      /^[A-Za-z0-9+/]{0,8}\*\*\*[A-Za-z0-9+/=]{0,4}$/,
    ],
    [
      'base64 wrapped at 64 columns (PEM)',
      long,
      Buffer.from(long).toString('base64').replace(/.{64}/g, '$&\n'),
      /^\*\*\*[A-Za-z0-9+/=]{0,4}$/,
    ],
    [
      'JSON \\uXXXX, lowercase (Python json.dumps)',
      odd,
      '"p\\u00e4ssw\\u00f6rd/x<y>&z w~!"',
      '"***"',
    ],
    ['JSON \\uXXXX, uppercase', odd, '"p\\u00E4ssw\\u00F6rd/x<y>&z w~!"', '"***"'],
    ['JSON \\/ (PHP json_encode)', odd, '"p\\u00e4ssw\\u00f6rd\\/x<y>&z w~!"', '"***"'],
    ['JSON \\/ with raw UTF-8', odd, '"pässwörd\\/x<y>&z w~!"', '"***"'],
    ['JSON HTML-safe (Go)', odd, '"pässwörd/x\\u003cy\\u003e\\u0026z w~!"', '"***"'],
    [
      'lowercase %xx',
      odd,
      encodeURIComponent(odd).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
      '***',
    ],
    ['Python quote() (safe "/")', odd, 'p%C3%A4ssw%C3%B6rd/x%3Cy%3E%26z%20w~%21', '***'],
    ['Python quote_plus()', odd, 'p%C3%A4ssw%C3%B6rd%2Fx%3Cy%3E%26z+w~%21', '***'],
    ['Python quote_plus(), lowercase', odd, 'p%c3%a4ssw%c3%b6rd%2fx%3cy%3e%26z+w~%21', '***'],
    ['encodeURI', odd, encodeURI(odd), '***'],
  ];
  it.each(cases)('%s', (_, secret, input, expected) => {
    const out = redact(input, [secret]);
    if (typeof expected === 'string') expect(out).toBe(expected);
    else expect(out).toMatch(expected);
  });

  it('does not claim hex, reversed or case-changed forms', () => {
    const secret = 'Secret-Value';
    for (const form of [
      Buffer.from(secret).toString('hex'),
      [...secret].reverse().join(''),
      secret.toUpperCase(),
    ]) {
      expect(redact(form, [secret])).toBe(form);
    }
  });

  it('ignores at most one line break in a row inside a wrapped base64 match', () => {
    const core = base64Cores(long)[0]!;
    const broken = `${core.slice(0, 20)}\n\n\n${core.slice(20)}`;
    expect(redact(broken, [long])).not.toBe('***');
  });

  it('bounds the patterns: values always, encoded forms smallest value first while they fit', () => {
    const small = 'small-secret';
    const big = 'B'.repeat(5000);
    const forms = maskForms([big, small], 6000);
    expect(forms.exact).toContain(big);
    expect(forms.exact).toContain(small);
    expect(forms.unencoded).toEqual([big]);
    expect(forms.wrapped.length).toBeGreaterThan(0);
    const masker = new Masker([big, small], { maxBytes: 6000 });
    expect(masker.unencoded).toEqual([big]);
    expect(masker.redact(`${Buffer.from(small).toString('base64')} ${big}`)).toBe('*** ***');
  });

  it('builds one masker for a 1 MB value within the bound', () => {
    const value = JSON.stringify(
      Object.fromEntries(
        Array.from({ length: 20_000 }, (_, i) => [`k${i}`, `v-${i}-${'x'.repeat(32)}`]),
      ),
    );
    const masker = new Masker([value]);
    expect(masker.unencoded).toEqual([value]);
    expect(masker.redact(`<${value}>`)).toBe('<***>');
  });
});

describe('streaming', () => {
  it('masks a value split across writes at every offset', () => {
    const secret = 'Zq9-ключ-x7';
    const input = Buffer.from(`before ${secret} after\n`);
    const expected = redact(input.toString(), [secret]);
    expect(expected).toBe('before *** after\n');
    const start = input.indexOf(secret);
    const end = start + Buffer.byteLength(secret);
    for (let a = start; a <= end; a++) {
      for (let b = a; b <= end; b++) {
        const out = streamed(new Redactor([secret]), input, [a, b]);
        expect(out.toString()).toBe(expected);
      }
    }
  });

  it('masks a value written one byte at a time, holding back at most longest − 1 bytes', () => {
    const secret = 'one-byte-at-a-time';
    const input = Buffer.from(`x${secret}y${secret}`);
    const redactor = new Redactor([secret], { raw: true });
    expect(redactor.maxHoldBack).toBe(secret.length - 1);
    const cuts = Array.from({ length: input.length }, (_, i) => i);
    expect(streamed(redactor, input, cuts).toString()).toBe('x***y***');
  });

  it('emits text that cannot start a secret immediately', () => {
    const redactor = new Redactor(['secret-value']);
    expect(redactor.write('hello world\n').toString()).toBe('hello world\n');
    expect(redactor.write('partial secret-va').toString()).toBe('partial ');
    expect(redactor.write('lue!').toString()).toBe('***!');
    expect(redactor.flush().length).toBe(0);
  });

  it('releases a held-back prefix at the end of the stream', () => {
    const redactor = new Redactor(['secret-value']);
    expect(redactor.write('tail secret-v').toString()).toBe('tail ');
    expect(redactor.flush().toString()).toBe('secret-v');
  });

  it('works as a Transform stream', async () => {
    const stream = createRedactStream(['streamed-secret']);
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const done = new Promise((resolve) => stream.on('end', resolve));
    for (const piece of ['a streamed-', 'sec', 'ret b ', 'streamed-sec']) stream.write(piece);
    stream.end();
    await done;
    expect(Buffer.concat(chunks).toString()).toBe('a *** b streamed-sec');
  });

  it('handles a large output with many secrets', () => {
    const secrets = Array.from({ length: 200 }, (_, i) => `secret-${i}-${'x'.repeat(i % 17)}`);
    const line = 'ordinary log line with some words and numbers 1234567890\n';
    const parts: string[] = [];
    for (let i = 0; i < 20_000; i++) parts.push(i % 100 === 0 ? `${secrets[i % 200]}\n` : line);
    const input = Buffer.from(parts.join(''));
    const cuts = Array.from({ length: 300 }, (_, i) => i * 4093);
    const out = streamed(new Redactor(secrets, { raw: true }), input, cuts);
    expect(out.equals(oracle(input, secrets))).toBe(true);
  });
});

describe('properties', () => {
  // A tiny alphabet makes overlaps, repeats and near-misses common; no '*' so a mask can never
  // combine with its neighbours into a secret.
  const char = fc.constantFrom('a', 'b', 'c', 'é', '\n', '🔑');
  const text = (min: number, max: number) =>
    fc.array(char, { minLength: min, maxLength: max }).map((cs) => cs.join(''));

  it('streaming equals masking the whole text, for any split (raw patterns)', () => {
    fc.assert(
      fc.property(
        fc.array(text(1, 6), { minLength: 1, maxLength: 4 }),
        fc.array(fc.oneof(text(0, 5), fc.nat({ max: 3 })), { maxLength: 12 }),
        fc.array(fc.nat({ max: 200 }), { maxLength: 10 }),
        (secrets, pieces, cuts) => {
          const input = Buffer.from(
            pieces.map((p) => (typeof p === 'number' ? secrets[p % secrets.length] : p)).join(''),
          );
          const expected = oracle(input, secrets);
          const out = streamed(new Redactor(secrets, { raw: true }), input, cuts);
          expect(out.equals(expected)).toBe(true);
          const shown = out.toString();
          for (const s of secrets) expect(shown.includes(s)).toBe(false);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('never shows a secret (≥ 4 characters) or its base64 form, for any split', () => {
    fc.assert(
      fc.property(
        fc.array(text(4, 12), { minLength: 1, maxLength: 3 }),
        fc.array(fc.oneof(text(0, 6), fc.nat({ max: 5 })), { maxLength: 10 }),
        fc.array(fc.nat({ max: 300 }), { maxLength: 10 }),
        (secrets, pieces, cuts) => {
          const input = Buffer.from(
            pieces
              .map((p) => {
                if (typeof p !== 'number') return p;
                const s = secrets[p % secrets.length]!;
                if (p === 5) return wrap76(s.repeat(8));
                return p >= 3 ? Buffer.from(s).toString('base64') : s;
              })
              .join(''),
          );
          const out = streamed(new Redactor(secrets), input, cuts).toString();
          expect(out).toBe(redact(input.toString(), secrets));
          for (const s of secrets) {
            const whole = s.split('\n').filter((l) => l.length >= MIN_MASKED_LENGTH);
            for (const line of whole) expect(out.includes(line)).toBe(false);
            expect(out.includes(Buffer.from(s).toString('base64'))).toBe(false);
            expect(out.includes(wrap76(s.repeat(8)))).toBe(false);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
