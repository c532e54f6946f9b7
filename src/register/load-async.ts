// The preload's asynchronous load (config file, async providers, retries): what the worker thread
// runs, and what `node --import envmux/register` awaits on the main thread. Prints nothing.

import { EnvmuxError, isEnvmuxError } from '../errors.js';
import { loadEnvironment, withConfigFile } from '../resolver/load.js';
import type { RegisterResolution } from './resolve-in-thread.js';

/** Load the env files of `cwd` with the config file's options; problems come back in `errors`. */
export async function loadForRegister(cwd: string, deadline: number): Promise<RegisterResolution> {
  try {
    const options = await withConfigFile({ cwd, deadline });
    const loaded = await loadEnvironment({ ...options, audit: { source: 'register' } });
    const { values, kept, errors, sources, files } = loaded;
    return { values, kept, errors, sources, files };
  } catch (error) {
    const e = isEnvmuxError(error)
      ? error
      : new EnvmuxError('CONFIG', `envmux failed: ${(error as Error)?.message ?? error}`);
    return { values: new Map(), kept: [], errors: [e], sources: new Map(), files: [] };
  }
}
