// Stage 5: resolved strings → the typed config, through any Standard Schema validator (zod 4,
// valibot, arktype). Every bad key is named with its rule and source; no value is ever echoed:
// issues are rebuilt from path and code (docs/architecture.md, "Audit").

import { EnvmuxAggregateError, EnvmuxError } from '../errors.js';
import { ownString } from './own-string.js';
import type { EnvEntry } from './parse.js';
import { SeenValues } from './scrub.js';

/** The Standard Schema v1 interface (standardschema.dev), copied as its authors recommend. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardIssue> };

interface StandardIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/** The output type of a Standard Schema. */
export type InferOutput<S> = S extends StandardSchemaV1<unknown, infer O> ? O : never;

/**
 * Validate `input` with `schema`. Throws one VALIDATION_FAILED error naming every bad key. Issue
 * messages are rebuilt from the issue's path, code and the schema's own expectations (type, format,
 * bounds), never from the validator's message text, which may quote the input; a schema that throws
 * (a transform's `JSON.parse`) is a VALIDATION_FAILED naming the key whose check threw.
 */
export async function validate<S extends StandardSchemaV1>(
  schema: S,
  input: Record<string, string | undefined>,
  sources: Map<string, EnvEntry>,
  secrets: Iterable<string> | SeenValues,
): Promise<InferOutput<S>> {
  if (typeof schema?.['~standard']?.validate !== 'function') {
    throw new EnvmuxError('CONFIG', 'schema is not a Standard Schema validator', {
      hint: 'pass a zod 4 object, e.g. z.object({ PORT: z.coerce.number() })',
    });
  }
  const seen = secrets instanceof SeenValues ? secrets : seenOf(secrets);
  const problem = (key: string | undefined, message: string) => {
    const entry = key === undefined ? undefined : sources.get(key);
    const where =
      key === undefined || entry
        ? undefined
        : ownString(input, key) === undefined
          ? 'not set'
          : 'from the environment';
    return new EnvmuxError('VALIDATION_FAILED', message + (where ? ` (${where})` : ''), {
      key,
      file: entry?.file,
      line: entry?.line || undefined,
      retryable: false,
    });
  };
  let result: StandardResult<unknown>;
  try {
    result = await schema['~standard'].validate(input);
  } catch (error) {
    const keys = await keysThatThrow(schema, input);
    const what = `the schema threw while checking ${keys.length ? 'this value' : 'the configuration'} (${safe(errorName(error), seen)})`;
    const errors = keys.length ? keys.map((k) => problem(k, what)) : [problem(undefined, what)];
    throw new EnvmuxAggregateError(errors, 'the configuration is not valid');
  }
  if (!result.issues) return result.value as InferOutput<S>;
  const errors = result.issues.map((issue) => {
    const path = (issue.path ?? []).map((p) => (typeof p === 'object' && p !== null ? p.key : p));
    const key = path.length ? safe(String(path[0]), seen) : '(root)';
    const rest = path.slice(1).map((p) => safe(String(p), seen));
    const text = describeIssue(issue as unknown as Record<string, unknown>, seen);
    return problem(key, rest.length ? `${rest.join('.')}: ${text}` : text);
  });
  throw new EnvmuxAggregateError(errors, 'the configuration is not valid');
}

/** An issue in our words, from its code and the schema's expectations (zod 4 and valibot fields). */
function describeIssue(issue: Record<string, unknown>, seen: SeenValues): string {
  const value = (name: string) => {
    const v = issue[name];
    if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
    return typeof v === 'string' ? safe(v, seen) : undefined;
  };
  const unit = (origin: string | undefined) =>
    origin === 'string' ? ' characters' : origin === 'array' || origin === 'set' ? ' items' : '';
  const origin = value('origin');
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${value('expected') ?? 'another type'}`;
    case 'too_small':
      return `too small: expected ${origin === 'string' ? 'a length ' : ''}${issue.inclusive === false ? '>' : '>='} ${value('minimum') ?? '?'}${unit(origin)}`;
    case 'too_big':
      return `too big: expected ${origin === 'string' ? 'a length ' : ''}${issue.inclusive === false ? '<' : '<='} ${value('maximum') ?? '?'}${unit(origin)}`;
    case 'invalid_format':
      return value('format') === 'regex'
        ? `does not match the pattern${value('pattern') ? ` ${value('pattern')}` : ''}`
        : `is not a valid ${value('format') ?? 'value'}`;
    case 'not_multiple_of':
      return `is not a multiple of ${value('divisor') ?? '?'}`;
    case 'invalid_value': {
      const allowed = Array.isArray(issue.values) ? issue.values : [];
      const shown = allowed
        .filter((v) => ['string', 'number', 'boolean'].includes(typeof v))
        .slice(0, 10)
        .map((v) => safe(JSON.stringify(v), seen));
      return shown.length ? `expected one of ${shown.join(', ')}` : 'is not an allowed value';
    }
    case 'unrecognized_keys':
      return 'has keys the schema does not allow';
    case 'invalid_union':
      return 'matches none of the allowed types';
    case 'invalid_key':
      return 'has an invalid key';
    case 'invalid_element':
      return 'has an invalid element';
    case 'custom':
      return 'failed a check of the schema';
    default: {
      // Other Standard Schema libraries (valibot: `expected` holds the schema's requirement).
      const expected = value('expected');
      return expected ? `expected ${expected}` : 'is not valid';
    }
  }
}

/** Text from a validator: scrubbed of every seen value and kept short. */
function safe(text: string, seen: SeenValues): string {
  const clean = seen.text(text);
  return clean.length > 100 ? `${clean.slice(0, 100)}…` : clean;
}

function errorName(error: unknown): string {
  const name = error instanceof Error ? error.name : typeof error;
  return /^[\w$.-]{1,60}$/.test(name) ? name : 'an exception';
}

function seenOf(values: Iterable<string>): SeenValues {
  const seen = new SeenValues();
  for (const v of values) seen.add(v);
  return seen;
}

/**
 * After a schema threw: the keys of an object schema (zod `shape`, valibot `entries`) whose own
 * check throws, each tried alone. Empty when the schema has no per-key parts.
 */
async function keysThatThrow(
  schema: StandardSchemaV1,
  input: Record<string, string | undefined>,
): Promise<string[]> {
  const s = schema as unknown as { shape?: unknown; entries?: unknown };
  const parts = [s.shape, s.entries].find((p) => p && typeof p === 'object') as
    | Record<string, unknown>
    | undefined;
  if (!parts) return [];
  const keys: string[] = [];
  for (const key of Object.keys(parts)) {
    const part = parts[key] as Partial<StandardSchemaV1> | undefined;
    const check = part?.['~standard']?.validate;
    if (typeof check !== 'function') continue;
    try {
      await check(ownString(input, key));
    } catch {
      keys.push(key);
    }
  }
  return keys;
}
