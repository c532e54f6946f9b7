// Stage 5: resolved strings → the typed config, through any Standard Schema validator (zod 4,
// valibot, arktype). Every bad key is named with its rule and source; no value is ever echoed.

import { EnvmuxAggregateError, EnvmuxError } from '../errors.js';
import type { EnvEntry } from './parse.js';

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
 * Validate `input` with `schema`. Throws one VALIDATION_FAILED error naming every bad key, with
 * messages from which every value in `secrets` has been masked.
 */
export async function validate<S extends StandardSchemaV1>(
  schema: S,
  input: Record<string, string | undefined>,
  sources: Map<string, EnvEntry>,
  secrets: Iterable<string>,
): Promise<InferOutput<S>> {
  if (typeof schema?.['~standard']?.validate !== 'function') {
    throw new EnvmuxError('CONFIG', 'schema is not a Standard Schema validator', {
      hint: 'pass a zod 4 object, e.g. z.object({ PORT: z.coerce.number() })',
    });
  }
  const result = await schema['~standard'].validate(input);
  if (!result.issues) return result.value as InferOutput<S>;
  const masked = [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  const scrub = (text: string) => masked.reduce((t, s) => t.split(s).join('***'), text);
  const errors = result.issues.map((issue) => {
    const first = issue.path?.[0];
    const key = String(
      typeof first === 'object' && first !== null ? first.key : (first ?? '(root)'),
    );
    const entry = sources.get(key);
    const where = entry ? undefined : input[key] === undefined ? 'not set' : 'from the environment';
    return new EnvmuxError(
      'VALIDATION_FAILED',
      scrub(issue.message) + (where ? ` (${where})` : ''),
      {
        key,
        file: entry?.file,
        line: entry?.line || undefined,
        retryable: false,
      },
    );
  });
  throw new EnvmuxAggregateError(errors, 'the configuration is not valid');
}
