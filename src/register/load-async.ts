// The preload's asynchronous load (config file, async providers, retries): what the worker thread
// runs, and what `node --import envmux/register` awaits on the main thread. Prints nothing.

import { EnvmuxError, isEnvmuxError } from '../errors.js';
import { type LoadOptions, loadEnvironment, withConfigFile } from '../resolver/load.js';
import type { StandardSchemaV1 } from '../resolver/validate.js';
import type { RegisterResolution } from './resolve-in-thread.js';

/** Load the env files of `cwd` with the config file's options; problems come back in `errors`. */
export async function loadForRegister(cwd: string, deadline: number): Promise<RegisterResolution> {
  try {
    const given: LoadOptions<StandardSchemaV1 | undefined> = { cwd, deadline };
    const options = await withConfigFile(given);
    // The config file's audit settings (a file, a sink) hold; entries say they came from the preload.
    const audit =
      options.audit === false ? false : { ...options.audit, source: 'register' as const };
    const notices: string[] = [];
    const onNotice = (line: string) => notices.push(line);
    const loaded = await loadEnvironment({ ...options, audit, onNotice });
    const { values, kept, errors, sources, files } = loaded;
    return { values, kept, errors, sources, files, notices };
  } catch (error) {
    const e = isEnvmuxError(error)
      ? error
      : new EnvmuxError('CONFIG', `envmux failed: ${(error as Error)?.message ?? error}`);
    return { values: new Map(), kept: [], errors: [e], sources: new Map(), files: [] };
  }
}
