// The register preload's worker: runs the asynchronous load (load-async.ts) and hands the result
// to the waiting main thread. Prints nothing; replies exactly once.

import { workerData } from 'node:worker_threads';
import type { EnvmuxError } from '../errors.js';
import { loadForRegister } from './load-async.js';
import type { SerializedError, WorkerReply, WorkerRequest } from './protocol.js';

const request = workerData as WorkerRequest;

function serialize(e: EnvmuxError): SerializedError {
  const { code, message, key, reference, file, line, provider, hint } = e;
  return { code, message, key, reference, file, line, provider, hint };
}

void loadForRegister(request.cwd, request.deadline).then((loaded) => {
  const reply: WorkerReply = {
    values: [...loaded.values],
    kept: loaded.kept,
    errors: loaded.errors.map(serialize),
    files: loaded.files,
    notices: loaded.notices,
  };
  request.port.postMessage(reply);
  Atomics.store(request.signal, 0, 1);
  Atomics.notify(request.signal, 0);
  // A provider's open sockets may keep this thread alive; its output is flushed by now.
  setTimeout(() => process.exit(0), 1000).unref();
});
