// What the Secrets Manager and SSM tests share: one wire server per test file, the test keys, the
// conformance run against the wire server, and a `.env` loaded from a temp project.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Provider } from '../../../src/providers/provider.js';
import { type LoadOptions, loadConfig } from '../../../src/resolver/load.js';
import { type ConformanceFault, providerConformance } from '../../../src/testing/index.js';
import { AwsWire, type FaultKind } from './wire-server.js';

/** Static keys the wire server accepts (it checks no signature). */
export const KEYS = { accessKeyId: 'AKIDWIRETEST', secretAccessKey: 'wire-test-secret' };

/** The wire fault that makes each conformance fault. */
export const FAULT_FOR: Record<ConformanceFault, FaultKind> = {
  THROTTLED: 'throttle',
  ACCESS_DENIED: 'denied',
  AUTH_FAILED: 'unrecognized',
  UNAVAILABLE: 'internal',
  TIMEOUT: 'hang',
};

/**
 * Start the test file's wire server (call at the file's top level): faults and counts are cleared
 * after each test, and the server closes after the file.
 */
export async function startFileWire(): Promise<AwsWire> {
  const wire = await AwsWire.start();
  afterAll(() => wire.close());
  afterEach(() => {
    wire.clearFaults();
    wire.resetCounts();
  });
  return wire;
}

/** Run the provider conformance suite with values seeded at the wire server and faults on `target`. */
export function wireConformance(
  wire: AwsWire,
  options: {
    name: string;
    provider: () => Provider;
    seed: (name: string, value: string) => void;
    /** Requests the injected faults hit (`/^AmazonSSM\./`). */
    target: RegExp;
    secretName?: (slug: string) => string;
  },
): void {
  providerConformance(
    { describe, it, expect },
    {
      name: options.name,
      ...(options.secretName ? { secretName: options.secretName } : {}),
      async create() {
        return {
          provider: options.provider(),
          seed: async (name, value) => {
            options.seed(name, value);
          },
          inject: (fault) => wire.fault({ target: options.target, kind: FAULT_FOR[fault] }),
          heal: () => wire.clearFaults(),
        };
      },
    },
  );
}

/**
 * `loadConfig` in a temp project whose `.env` is `dotenv` (no config file, no audit, empty
 * environments unless `options` says otherwise); the project is removed after.
 */
export async function loadDotenv(
  dotenv: string,
  options: LoadOptions,
): Promise<Readonly<Record<string, string>>> {
  const dir = mkdtempSync(join(tmpdir(), 'envmux-aws-'));
  try {
    writeFileSync(join(dir, '.env'), dotenv);
    return await loadConfig({
      cwd: dir,
      processEnv: {},
      env: {},
      configFile: false,
      audit: false,
      ...options,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
