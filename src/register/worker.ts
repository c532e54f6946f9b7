// The register preload's worker: runs a full load (config file, async providers, retries) and
// hands the result to the waiting main thread. Prints nothing; replies exactly once.

import { workerData } from 'node:worker_threads';
import { EnvmuxError, isEnvmuxError } from '../errors.js';
import { type LoadOptions, loadEnvironment, withConfigFile } from '../resolver/load.js';
import type { StandardSchemaV1 } from '../resolver/validate.js';
import type { SerializedError, WorkerReply, WorkerRequest } from './protocol.js';

const request = workerData as WorkerRequest;

type WorkerLoadOptions = LoadOptions<StandardSchemaV1 | undefined>;

function serialize(error: unknown): SerializedError {
  const e = isEnvmuxError(error)
    ? error
    : new EnvmuxError('CONFIG', `envmux failed: ${(error as Error)?.message ?? error}`);
  const { code, message, key, reference, file, line, provider, hint } = e;
  return { code, message, key, reference, file, line, provider, hint };
}

async function main(): Promise<WorkerReply> {
  try {
    const given: WorkerLoadOptions = { cwd: request.cwd, deadline: request.deadline };
    const options = await withConfigFile(given);
    // The config file's audit settings (a file, a sink) hold; entries say they came from the preload.
    const audit =
      options.audit === false ? false : { ...options.audit, source: 'register' as const };
    const loaded = await loadEnvironment({ ...options, audit });
    return {
      values: [...loaded.values],
      kept: loaded.kept,
      errors: loaded.errors.map(serialize),
      files: loaded.files,
    };
  } catch (error) {
    return { values: [], kept: [], errors: [serialize(error)], files: [] };
  }
}

void main().then((reply) => {
  request.port.postMessage(reply);
  Atomics.store(request.signal, 0, 1);
  Atomics.notify(request.signal, 0);
  // A provider's open sockets may keep this thread alive; its output is flushed by now.
  setTimeout(() => process.exit(0), 1000).unref();
});
