// What `envmux run` masks for one secret: the value, each of its lines, and the forms a program
// commonly prints it in (base64 at any alignment, URL-encoded, JSON-escaped). Never logs a value.

/** Values (and lines of values) shorter than this are not masked: too common to hide usefully. */
export const MIN_MASKED_LENGTH = 4;

/**
 * Every string to mask for these secrets (deduplicated, each at least
 * {@link MIN_MASKED_LENGTH} characters):
 * - the value itself, and each line of a multi-line value (a PEM key printed line by line);
 * - its base64 and base64url forms, as the stable core of the encoding at each of the three byte
 *   alignments, so the value is caught also inside a longer encoded text (`user:password`, or
 *   `echo "$X" | base64` with its trailing newline);
 * - its `encodeURIComponent` and form-urlencoded forms, and its JSON string escape.
 */
export function maskPatterns(secrets: Iterable<string>): string[] {
  const out = new Set<string>();
  const add = (s: string) => {
    if (s.length >= MIN_MASKED_LENGTH) out.add(s);
  };
  for (const secret of secrets) {
    if (secret.length < MIN_MASKED_LENGTH) continue;
    const lines = secret.includes('\n')
      ? secret.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line))
      : [];
    for (const text of [secret, ...lines]) {
      if (text.length < MIN_MASKED_LENGTH) continue;
      add(text);
      add(encodeURIComponent(text));
      add(new URLSearchParams({ v: text }).toString().slice(2));
      add(JSON.stringify(text).slice(1, -1));
      for (const core of base64Cores(text)) {
        add(core);
        add(core.replace(/\+/g, '-').replace(/\//g, '_'));
      }
    }
  }
  return [...out];
}

/**
 * The base64 characters that depend only on the bytes of `text`, for each of the three offsets
 * (mod 3) at which `text` can start inside a longer encoded byte string. Characters that mix in
 * bits of a neighbouring byte are left out, so the core matches wherever the value sits.
 */
export function base64Cores(text: string): string[] {
  const bytes = Buffer.from(text, 'utf8');
  const cores: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift), bytes]);
    const encoded = padded.toString('base64');
    // Character i covers bits 6i..6i+5: keep those entirely inside the value's bytes.
    const start = Math.ceil((8 * shift) / 6);
    const end = Math.floor((8 * padded.length) / 6);
    if (end > start) cores.push(encoded.slice(start, end));
  }
  return cores;
}
