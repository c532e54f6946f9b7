// The provider conformance suite (src/testing/conformance.ts) against the built-in stores that need
// no server. One `providerConformance(...)` call per provider; cloud providers run it in their own files.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomicSync } from '../../src/files/atomic-write.js';
import { env } from '../../src/providers/env.js';
import { file } from '../../src/providers/file.js';
import { memory } from '../../src/providers/memory.js';
import { providerConformance } from '../../src/testing/index.js';

providerConformance(
  { describe, it, expect },
  {
    name: 'memory',
    async create() {
      const provider = memory({ id: 'mem', batchSize: 7 });
      return {
        provider,
        seed: async (name, value) => {
          await provider.set!(name, value, {});
        },
        inject: (fault) => (fault === 'TIMEOUT' ? provider.hang() : provider.fail('*', fault)),
        heal: () => {
          provider.hang(false);
          provider.fail('*', undefined);
        },
      };
    },
  },
);

providerConformance(
  { describe, it, expect },
  {
    name: 'env',
    async create() {
      const record: Record<string, string | undefined> = { UNRELATED: 'x' };
      return {
        provider: env({ env: record }),
        seed: async (name, value) => {
          record[name] = value;
        },
      };
    },
  },
);

providerConformance(
  { describe, it, expect },
  {
    name: 'file',
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'envmux-conf-file-'));
      return {
        provider: file({ dir }),
        seed: async (name, value) => writeFileAtomicSync(join(dir, name), value),
        cleanup: () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
);
