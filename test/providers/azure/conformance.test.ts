// The provider conformance suite (src/testing/conformance.ts) against `azure`, through its real SDK
// and the loopback HTTPS wire server (wire-server.ts). Faults are injected the way the service
// answers them: 429 Throttled, 403, 401, 503, and an answer slower than the suite's call timeout.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azure } from '../../../src/providers/azure/index.js';
import { encodeAzureName } from '../../../src/providers/azure/names.js';
import { type ConformanceFault, providerConformance } from '../../../src/testing/index.js';
import { makeLoopbackCertificate } from '../../servers/certificate.js';
import { type AzureWireServer, startAzureWire } from './wire-server.js';

/** An answer slower than the suite's call timeout (300 ms). */
const HANG_MS = 1500;

let azureWire: AzureWireServer | undefined;
const tls = makeLoopbackCertificate();
if ('missing' in tls) {
  const reason = `SKIPPED azure conformance: ${tls.missing} (install openssl)`;
  if (process.env.ENVMUX_REQUIRE_SERVERS === '1') {
    throw new Error(`${reason}; ENVMUX_REQUIRE_SERVERS=1 requires it`);
  }
  console.warn(reason);
}

beforeAll(async () => {
  if (!('missing' in tls)) azureWire = await startAzureWire(tls);
});
afterAll(async () => {
  await azureWire?.close();
});

const AZURE_FAULTS: Record<Exclude<ConformanceFault, 'TIMEOUT'>, [number, string]> = {
  THROTTLED: [429, 'Throttled'],
  ACCESS_DENIED: [403, 'Forbidden'],
  AUTH_FAILED: [401, 'Unauthorized'],
  UNAVAILABLE: [503, 'ServiceUnavailable'],
};

if (!('missing' in tls)) {
  providerConformance(
    { describe, it, expect },
    {
      name: 'azure (HTTPS wire server)',
      async create() {
        const wire = azureWire!;
        return {
          provider: azure({
            vaultUrl: wire.url,
            env: {},
            pollIntervalMs: 5,
            credential: {
              getToken: async () => ({
                token: wire.token,
                expiresOnTimestamp: Date.now() + 3_600_000,
              }),
            },
            clientOptions: {
              disableChallengeResourceVerification: true,
              tlsOptions: { ca: wire.cert },
            },
          }),
          // The store's own tooling writes the mapped name (`a_b` → `a-x5f-b`).
          seed: async (name, value) => wire.add(encodeAzureName(name), value),
          inject: (fault) => {
            if (fault === 'TIMEOUT') return wire.setLatency(HANG_MS);
            const [status, code] = AZURE_FAULTS[fault];
            wire.fail({ status, code, times: Infinity });
          },
          heal: () => wire.heal(),
        };
      },
    },
  );
}
