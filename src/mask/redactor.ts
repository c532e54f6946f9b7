// `envmux run` masking: a streaming redactor over bytes (an Aho-Corasick automaton) that replaces
// every occurrence of a secret pattern, holding back only what a later write could still complete.
// Built once per command (a Masker); never buffers a whole stream, never logs what it masks.

import { Transform } from 'node:stream';
import { MAX_MASK_BYTES, maskForms } from './patterns.js';

/** What replaces a masked run of bytes. */
export const DEFAULT_MASK = '***';

export interface RedactorOptions {
  /** The replacement text; default `***`. */
  mask?: string;
  /**
   * Use `patterns` exactly as given, instead of expanding each secret into its masked forms
   * ({@link maskPatterns}: lines, base64, URL and JSON forms; values under 4 characters skipped).
   */
  raw?: boolean;
  /** The size bound of the patterns (see {@link MAX_MASK_BYTES}). */
  maxBytes?: number;
}

/** A masked run of input bytes, as absolute stream offsets `[start, end)`. */
interface Run {
  start: number;
  end: number;
  /** The mask for this run was already written (the run continues past what was emitted). */
  masked: boolean;
}

/** No child (`only`), or several (the edges are in `edges`). */
const NONE = -1;
const SEVERAL = 256;

/**
 * The automaton: a trie of the patterns' UTF-8 bytes with failure links, in typed arrays sized by
 * the total pattern bytes (one node per byte at most). Edges of the root are a dense table (most
 * bytes of ordinary output leave the root unchanged); a node with one child keeps it inline;
 * branching nodes keep theirs in a map.
 */
class Automaton {
  /** Root transitions: child node, or 0 (stay at the root). */
  readonly rootNext = new Int32Array(256);
  /** The byte of a node's only child, NONE or SEVERAL. */
  private readonly only: Int16Array;
  private readonly onlyChild: Int32Array;
  /** Transitions of branching nodes, keyed `node * 256 + byte`. */
  private readonly edges = new Map<number, number>();
  /** The child bytes of branching nodes. */
  private readonly branches = new Map<number, number[]>();
  readonly fail: Int32Array;
  readonly depth: Int32Array;
  /** Length of the longest pattern ending at this node (itself or through failure links), or 0. */
  readonly outLength: Int32Array;
  /** How many trailing bytes a later write could still extend into a match at this node. */
  readonly hold: Int32Array;
  private size = 1;
  readonly longest: number;

  constructor(patterns: Buffer[]) {
    const total = patterns.reduce((n, p) => n + p.length, 1);
    this.only = new Int16Array(total).fill(NONE);
    this.onlyChild = new Int32Array(total);
    this.fail = new Int32Array(total);
    this.depth = new Int32Array(total);
    this.outLength = new Int32Array(total);
    this.hold = new Int32Array(total);
    let longest = 0;
    for (const bytes of patterns) {
      if (!bytes.length) continue;
      longest = Math.max(longest, bytes.length);
      let node = 0;
      for (const b of bytes) {
        let next = this.child(node, b);
        if (!next) {
          next = this.size++;
          this.depth[next] = this.depth[node]! + 1;
          this.addChild(node, b, next);
        }
        node = next;
      }
      this.outLength[node] = bytes.length;
    }
    this.longest = longest;
    this.link();
  }

  /** The child of `node` by byte `b`, or 0. */
  private child(node: number, b: number): number {
    if (node === 0) return this.rootNext[b]!;
    const only = this.only[node]!;
    if (only === b) return this.onlyChild[node]!;
    if (only === SEVERAL) return this.edges.get(node * 256 + b) ?? 0;
    return 0;
  }

  private addChild(node: number, b: number, child: number): void {
    if (node === 0) {
      this.rootNext[b] = child;
      return;
    }
    const only = this.only[node]!;
    if (only === NONE) {
      this.only[node] = b;
      this.onlyChild[node] = child;
      return;
    }
    if (only !== SEVERAL) {
      this.edges.set(node * 256 + only, this.onlyChild[node]!);
      this.branches.set(node, [only]);
      this.only[node] = SEVERAL;
    }
    this.edges.set(node * 256 + b, child);
    this.branches.get(node)!.push(b);
  }

  /** Failure links, outputs and hold-back depths, breadth first (a link points to a shallower node). */
  private link(): void {
    const queue = new Int32Array(this.size);
    let tail = 0;
    for (let b = 0; b < 256; b++) {
      const c = this.rootNext[b]!;
      if (c) queue[tail++] = c;
    }
    for (let head = 0; head < tail; head++) {
      const node = queue[head]!;
      const f = this.fail[node]!;
      this.outLength[node] ||= this.outLength[f]!;
      const only = this.only[node]!;
      this.hold[node] = only !== NONE ? this.depth[node]! : this.hold[f]!;
      if (only === NONE) continue;
      for (const b of only === SEVERAL ? this.branches.get(node)! : [only]) {
        const c = this.child(node, b);
        this.fail[c] = this.next(f, b);
        queue[tail++] = c;
      }
    }
  }

  /** The node after reading byte `b` at `node`. */
  next(node: number, b: number): number {
    for (;;) {
      if (node === 0) return this.rootNext[b]!;
      const only = this.only[node]!;
      if (only === b) return this.onlyChild[node]!;
      if (only === SEVERAL) {
        const c = this.edges.get(node * 256 + b);
        if (c !== undefined) return c;
      }
      node = this.fail[node]!;
    }
  }
}

/**
 * The automata of a set of secrets, built once (from the values `run` injects) and shared by every
 * stream and message it masks. Its size is bounded by {@link MAX_MASK_BYTES}.
 */
export class Masker {
  /** Byte-for-byte patterns. */
  readonly exact: Automaton;
  /** base64 cores, matched with line breaks inside them ignored (wrapped output). */
  readonly wrapped: Automaton;
  readonly mask: Buffer;
  /** Secrets whose encoded forms did not fit the size bound (their value is still masked). */
  readonly unencoded: string[];

  constructor(secrets: Iterable<string>, options: RedactorOptions = {}) {
    const forms = options.raw
      ? { exact: [...secrets], wrapped: [], unencoded: [] }
      : maskForms(secrets, options.maxBytes);
    this.exact = new Automaton(forms.exact.map((p) => Buffer.from(p, 'utf8')));
    this.wrapped = new Automaton(forms.wrapped.map((p) => Buffer.from(p, 'utf8')));
    this.unencoded = forms.unencoded;
    this.mask = Buffer.from(options.mask ?? DEFAULT_MASK, 'utf8');
  }

  /** Whether there is anything to mask. */
  get empty(): boolean {
    return !this.exact.longest && !this.wrapped.longest;
  }

  /** Mask a whole text (a message, a line). */
  redact(text: string): string {
    if (this.empty) return text;
    const redactor = new Redactor(this);
    return Buffer.concat([redactor.write(text), redactor.flush()]).toString('utf8');
  }
}

/** Line feed and carriage return: ignored inside a wrapped base64 match. */
const LF = 10;
const CR = 13;
/** At most this many line-break bytes in a row are ignored (`\r\n`). */
const MAX_BREAK = 2;

/**
 * Replaces secrets in a byte stream written in arbitrary pieces. `write` returns the output that is
 * final so far; at most {@link maxHoldBack} bytes are held back, because a later write could
 * still complete a secret that starts in them. `flush` returns the rest at the end of the stream.
 *
 * Semantics: every occurrence of every pattern is found (overlapping ones too; base64 cores also
 * across line breaks); each maximal group of overlapping occurrences becomes one mask. The output
 * equals {@link redact} of the whole input, however it was split. Input is treated as bytes, so a
 * multi-byte character is never altered unless it is part of a secret, and output can be split
 * anywhere a stream may be split. Work is linear in the input.
 */
export class Redactor {
  private readonly masker: Masker;
  private state = 0;
  /** State of the wrapped lane, line breaks skipped in a row, and its consumed-byte offsets. */
  private wrappedState = 0;
  private breaks = 0;
  private readonly consumed: Float64Array;
  private count = 0;
  /** Absolute offset of the next input byte. */
  private position = 0;
  /** Absolute offset of the first byte not yet emitted; `pending` holds the bytes from here. */
  private emitted = 0;
  private pending: Buffer = Buffer.alloc(0);
  private runs: Run[] = [];

  constructor(secrets: Iterable<string> | Masker, options: RedactorOptions = {}) {
    this.masker = secrets instanceof Masker ? secrets : new Masker(secrets, options);
    this.consumed = new Float64Array(Math.max(1, this.masker.wrapped.longest));
  }

  /** The most bytes ever held back between writes. */
  get maxHoldBack(): number {
    const exact = Math.max(0, this.masker.exact.longest - 1);
    return Math.max(exact, (MAX_BREAK + 1) * this.masker.wrapped.longest);
  }

  /** Bytes written but not yet emitted (never more than {@link maxHoldBack}). */
  get held(): number {
    return this.position - this.emitted;
  }

  /** Feed a piece of the stream; returns the output that can be emitted now (possibly empty). */
  write(chunk: Buffer | Uint8Array | string): Buffer {
    const bytes =
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const { exact, wrapped } = this.masker;
    if (this.masker.empty) {
      this.position += bytes.length;
      this.emitted = this.position;
      return bytes;
    }
    const { rootNext, outLength } = exact;
    const wrappedRoot = wrapped.rootNext;
    const ring = this.consumed;
    const size = ring.length;
    let state = this.state;
    let wstate = this.wrappedState;
    const base = this.position;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      // Fast path: at the root, a byte that starts no pattern keeps us there.
      if (state !== 0 || rootNext[b] !== 0) {
        state = state === 0 ? rootNext[b]! : exact.next(state, b);
        const length = outLength[state]!;
        if (length) this.addRun(base + i + 1 - length, base + i + 1);
      }
      if (wstate === 0 && wrappedRoot[b] === 0) {
        this.breaks = 0;
        continue;
      }
      if ((b === LF || b === CR) && wstate !== 0 && this.breaks < MAX_BREAK) {
        this.breaks++;
        continue;
      }
      this.breaks = 0;
      ring[this.count++ % size] = base + i;
      wstate = wstate === 0 ? wrappedRoot[b]! : wrapped.next(wstate, b);
      const length = wrapped.outLength[wstate]!;
      if (length) this.addRun(ring[(this.count - length) % size]!, base + i + 1);
    }
    this.state = state;
    this.wrappedState = wstate;
    this.position = base + bytes.length;
    const buffer = this.pending.length ? Buffer.concat([this.pending, bytes]) : bytes;
    let safe = this.position - exact.hold[state]!;
    const wrappedHold = wrapped.hold[wstate]!;
    if (wrappedHold) safe = Math.min(safe, ring[(this.count - wrappedHold) % size]!);
    return this.emit(buffer, safe);
  }

  /** End of the stream: everything still held back, masked. */
  flush(): Buffer {
    const out = this.emit(this.pending, this.position);
    this.state = 0;
    this.wrappedState = 0;
    this.breaks = 0;
    return out;
  }

  /** Record an occurrence; merge it with the runs it overlaps (they all end at or before `end`). */
  private addRun(start: number, end: number): void {
    let masked = false;
    for (let last = this.runs.at(-1); last && last.end > start; last = this.runs.at(-1)) {
      start = Math.min(start, last.start);
      masked ||= last.masked;
      this.runs.pop();
    }
    this.runs.push({ start, end, masked });
  }

  /** Emit `[emitted, safe)` of `buffer` (which starts at `emitted`), masking runs; keep the rest. */
  private emit(buffer: Buffer, safe: number): Buffer {
    const base = this.emitted;
    const parts: Buffer[] = [];
    let at = base;
    let kept = 0;
    for (const run of this.runs) {
      if (run.start >= safe) {
        this.runs[kept++] = run;
        continue;
      }
      if (run.start > at) parts.push(buffer.subarray(at - base, run.start - base));
      if (!run.masked) parts.push(this.masker.mask);
      at = Math.min(run.end, safe);
      if (run.end > safe) {
        run.start = safe;
        run.masked = true;
        this.runs[kept++] = run;
      }
    }
    this.runs.length = kept;
    if (safe > at) parts.push(buffer.subarray(at - base, safe - base));
    this.pending = Buffer.from(buffer.subarray(safe - base));
    this.emitted = safe;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}

/** Mask `secrets` in a whole text at once (the same result as streaming it through a Redactor). */
export function redact(
  text: string,
  secrets: Iterable<string> | Masker,
  options?: RedactorOptions,
): string {
  return (secrets instanceof Masker ? secrets : new Masker(secrets, options)).redact(text);
}

/** A Transform stream that masks `secrets` (see {@link Redactor}). */
export function createRedactStream(
  secrets: Iterable<string> | Masker | Redactor,
  options?: RedactorOptions,
): Transform {
  const redactor = secrets instanceof Redactor ? secrets : new Redactor(secrets, options);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const out = redactor.write(chunk);
      callback(null, out.length ? out : undefined);
    },
    flush(callback) {
      const out = redactor.flush();
      callback(null, out.length ? out : undefined);
    },
  });
}
