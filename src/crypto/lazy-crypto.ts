// node:crypto on first use. Loading it costs ~2 ms (ciphers, streams), on the preload's path for
// every app with references even when no vault or atomic write is involved.

/** The node:crypto module, loaded on the first call. */
export function nodeCrypto(): typeof import('node:crypto') {
  return process.getBuiltinModule('node:crypto') as typeof import('node:crypto');
}
