// Boolean environment variables (ENVMUX_STRICT, ENVMUX_DISABLE, ENVMUX_DEBUG, …): one parser, so
// every variable accepts the same words and a value it does not understand is a CONFIG error
// naming the variable, never silently true (docs/architecture.md, "Configuration").

import { EnvmuxError } from '../errors.js';

const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off'];

/**
 * The boolean value of environment variable `name`: `1/true/yes/on` or `0/false/no/off` (any case,
 * surrounding blanks ignored); `fallback` when unset or empty. Throws CONFIG for anything else.
 */
export function parseBoolean(
  env: Record<string, string | undefined>,
  name: string,
  fallback: boolean,
): boolean {
  const raw = env[name];
  if (raw === undefined) return fallback;
  const value = raw.trim().toLowerCase();
  if (value === '') return fallback;
  if (TRUE.includes(value)) return true;
  if (FALSE.includes(value)) return false;
  throw new EnvmuxError('CONFIG', `${name}="${raw.slice(0, 40)}" is not a boolean`, {
    hint: `set ${name} to one of ${TRUE.join(', ')} or ${FALSE.join(', ')}`,
  });
}
