// The bridge from the synchronous preload to asynchronous stores: a worker thread runs the full load
// while this thread sleeps in Atomics.wait (no busy loop), so the app's first line sees a complete
// process.env. Kept small: the preload imports it directly when a JS config file exists.

import { EnvmuxError } from '../errors.js';
import { parseDuration } from '../resolver/durations.js';
import type { Resolution } from '../resolver/resolve.js';
import type { WorkerReply, WorkerRequest } from './protocol.js';

/** Resolve in a worker thread; this thread sleeps in Atomics.wait until it answers or the deadline. */
export function resolveInWorker(
  env: NodeJS.ProcessEnv,
): Resolution & { files: string[]; notices?: string[] } {
  const { Worker, MessageChannel, receiveMessageOnPort } = process.getBuiltinModule(
    'node:worker_threads',
  ) as typeof import('node:worker_threads');
  const path = process.getBuiltinModule('node:path') as typeof import('node:path');
  const deadline = parseDuration(env.ENVMUX_DEADLINE, 15_000);
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const request: WorkerRequest = { signal, port: port2, cwd: process.cwd(), deadline };
  const worker = new Worker(path.join(__dirname, 'register-worker.mjs'), {
    workerData: request,
    transferList: [port2],
    // The worker must not preload envmux again (execArgv and NODE_OPTIONS are inherited).
    execArgv: [],
    env: { ...env, NODE_OPTIONS: '' },
    stdout: true,
  });
  // Whatever a custom provider prints goes to stderr: stdout belongs to the app.
  worker.stdout.pipe(process.stderr);
  worker.unref();
  // Wait without spinning: one Atomics.wait with the load's deadline plus a grace period.
  const outcome = Atomics.wait(signal, 0, 0, deadline + 2000);
  const message = receiveMessageOnPort(port1)?.message as WorkerReply | undefined;
  port1.close();
  // No terminate(): the worker ends itself once its output is flushed (terminating it here would
  // drop what it wrote to stderr — SDK warnings, a provider's diagnostics).
  if (!message) {
    const why =
      outcome === 'timed-out'
        ? `no answer within ${deadline} ms`
        : 'the worker stopped without an answer';
    throw new EnvmuxError('TIMEOUT', `resolving references in the worker failed: ${why}`, {
      hint: 'check provider connectivity, or raise ENVMUX_DEADLINE',
    });
  }
  const errors = message.errors.map((e) => {
    const { code, message: text, ...context } = e;
    return new EnvmuxError(code, text, context);
  });
  return {
    values: new Map(message.values),
    kept: message.kept,
    errors,
    sources: new Map(),
    files: message.files,
    notices: message.notices,
  };
}
