// `envmux run` masking: a streaming redactor over bytes (an Aho-Corasick automaton) that replaces
// every occurrence of a secret pattern, holding back only what a later write could still complete.
// Never buffers a whole stream, never rescans emitted output, never logs what it masks.

import { Transform } from 'node:stream';
import { maskPatterns } from './patterns.js';

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
}

/** A masked run of input bytes, as absolute stream offsets `[start, end)`. */
interface Run {
  start: number;
  end: number;
  /** The mask for this run was already written (the run continues past what was emitted). */
  masked: boolean;
}

/**
 * The automaton: a trie of the patterns' UTF-8 bytes with failure links. Edges of the root are a
 * dense table (most bytes of ordinary output leave the root unchanged); deeper edges are sparse.
 */
class Automaton {
  /** Root transitions: child node, or 0 (stay at the root). */
  readonly rootNext = new Int32Array(256);
  /** Deeper transitions, keyed `node * 256 + byte`. */
  private readonly edges = new Map<number, number>();
  readonly fail: number[] = [0];
  readonly depth: number[] = [0];
  /** Length of the longest pattern ending at this node (itself or through failure links), or 0. */
  readonly outLength: number[] = [0];
  /** How many trailing bytes a later write could still extend into a match at this node. */
  readonly hold: number[] = [0];
  private readonly hasChildren: boolean[] = [false];
  readonly longest: number;

  constructor(patterns: Buffer[]) {
    let longest = 0;
    for (const bytes of patterns) {
      if (!bytes.length) continue;
      longest = Math.max(longest, bytes.length);
      let node = 0;
      for (const b of bytes) {
        let next = this.child(node, b);
        if (next === undefined) {
          next = this.fail.length;
          this.fail.push(0);
          this.depth.push(this.depth[node]! + 1);
          this.outLength.push(0);
          this.hold.push(0);
          this.hasChildren.push(false);
          this.hasChildren[node] = true;
          if (node === 0) this.rootNext[b] = next;
          else this.edges.set(node * 256 + b, next);
        }
        node = next;
      }
      this.outLength[node] = bytes.length;
    }
    this.longest = longest;
    this.link();
  }

  private child(node: number, b: number): number | undefined {
    if (node === 0) return this.rootNext[b] || undefined;
    return this.edges.get(node * 256 + b);
  }

  /** Failure links, outputs and hold-back depths, breadth first (a link points to a shallower node). */
  private link(): void {
    const queue: number[] = [];
    for (let b = 0; b < 256; b++) {
      const c = this.rootNext[b]!;
      if (c) queue.push(c);
    }
    this.hold[0] = 0;
    const childrenOf = new Map<number, Array<[number, number]>>();
    for (const [key, c] of this.edges) {
      const parent = Math.floor(key / 256);
      let list = childrenOf.get(parent);
      if (!list) childrenOf.set(parent, (list = []));
      list.push([key % 256, c]);
    }
    for (let i = 0; i < queue.length; i++) {
      const node = queue[i]!;
      const f = this.fail[node]!;
      this.outLength[node] ||= this.outLength[f]!;
      this.hold[node] = this.hasChildren[node] ? this.depth[node]! : this.hold[f]!;
      for (const [b, c] of childrenOf.get(node) ?? []) {
        this.fail[c] = this.next(f, b);
        queue.push(c);
      }
    }
  }

  /** The node after reading byte `b` at `node`. */
  next(node: number, b: number): number {
    for (;;) {
      if (node === 0) return this.rootNext[b]!;
      const c = this.edges.get(node * 256 + b);
      if (c !== undefined) return c;
      node = this.fail[node]!;
    }
  }
}

/**
 * Replaces secrets in a byte stream written in arbitrary pieces. `write` returns the output that is
 * final so far; at most (longest pattern − 1) bytes are held back, because a later write could
 * still complete a secret that starts in them. `flush` returns the rest at the end of the stream.
 *
 * Semantics: every occurrence of every pattern is found (overlapping ones too); each maximal group
 * of overlapping occurrences becomes one mask. The output equals {@link redact} of the whole input,
 * however it was split. Input is treated as bytes, so a multi-byte character is never altered
 * unless it is part of a secret, and output can be split anywhere a stream may be split.
 */
export class Redactor {
  private readonly automaton: Automaton;
  private readonly mask: Buffer;
  private state = 0;
  /** Absolute offset of the next input byte. */
  private position = 0;
  /** Absolute offset of the first byte not yet emitted; `pending` holds the bytes from here. */
  private emitted = 0;
  private pending: Buffer = Buffer.alloc(0);
  private runs: Run[] = [];

  constructor(secrets: Iterable<string>, options: RedactorOptions = {}) {
    const patterns = options.raw ? [...secrets] : maskPatterns(secrets);
    this.automaton = new Automaton(patterns.map((p) => Buffer.from(p, 'utf8')));
    this.mask = Buffer.from(options.mask ?? DEFAULT_MASK, 'utf8');
  }

  /** The most bytes ever held back between writes (longest pattern − 1). */
  get maxHoldBack(): number {
    return Math.max(0, this.automaton.longest - 1);
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
    if (!this.automaton.longest) {
      this.position += bytes.length;
      this.emitted = this.position;
      return bytes;
    }
    const { rootNext, outLength } = this.automaton;
    let state = this.state;
    const base = this.position;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      // Fast path: at the root, a byte that starts no pattern keeps us there.
      if (state === 0) {
        const c = rootNext[b]!;
        if (c === 0) continue;
        state = c;
      } else {
        state = this.automaton.next(state, b);
      }
      const length = outLength[state]!;
      if (length) this.addRun(base + i + 1 - length, base + i + 1);
    }
    this.state = state;
    this.position = base + bytes.length;
    const buffer = this.pending.length ? Buffer.concat([this.pending, bytes]) : bytes;
    return this.emit(buffer, this.position - this.automaton.hold[state]!);
  }

  /** End of the stream: everything still held back, masked. */
  flush(): Buffer {
    const out = this.emit(this.pending, this.position);
    this.state = 0;
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
      if (!run.masked) parts.push(this.mask);
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
export function redact(text: string, secrets: Iterable<string>, options?: RedactorOptions): string {
  const redactor = new Redactor(secrets, options);
  return Buffer.concat([redactor.write(text), redactor.flush()]).toString('utf8');
}

/** A Transform stream that masks `secrets` (see {@link Redactor}). */
export function createRedactStream(
  secrets: Iterable<string> | Redactor,
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
