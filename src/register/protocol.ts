// The messages between the register preload and its worker thread (types only).

import type { MessagePort } from 'node:worker_threads';
import type { ErrorCode } from '../errors.js';

export interface WorkerRequest {
  /** Set to 1 (and notified) by the worker once its reply is on `port`. */
  signal: Int32Array;
  port: MessagePort;
  cwd: string;
  deadline: number;
}

/** Errors cross as plain data: structuredClone drops an Error's own properties such as `code`. */
export interface SerializedError {
  code: ErrorCode;
  message: string;
  key?: string;
  reference?: string;
  file?: string;
  line?: number;
  provider?: string;
  hint?: string;
}

export interface WorkerReply {
  values: [string, string][];
  kept: string[];
  errors: SerializedError[];
  files: string[];
  /** Lines the main thread prints on stderr (names and ages, never values). */
  notices?: string[];
}
