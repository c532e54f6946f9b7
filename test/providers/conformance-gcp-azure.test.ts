// The provider conformance suite (src/testing/conformance.ts) against `gcp` and `azure`, each through
// its real SDK and its loopback wire server (test/servers/gcp-wire.ts, test/servers/azure-wire.ts).
// Faults are injected the way the services answer them: 429 RESOURCE_EXHAUSTED / Throttled, 403,
// 401, 503, and an answer slower than the suite's call timeout.

import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azure } from '../../src/providers/azure.js';
import { encodeAzureName } from '../../src/providers/azure-names.js';
import { gcp } from '../../src/providers/gcp.js';
import { type ConformanceFault, providerConformance } from '../../src/testing/index.js';
import {
  type AzureWireServer,
  makeLoopbackCertificate,
  startAzureWire,
} from '../servers/azure-wire.js';
import { type GcpWireServer, startGcpWire } from '../servers/gcp-wire.js';

/** An answer slower than the suite's call timeout (300 ms). */
const HANG_MS = 1500;

let gcpWire: GcpWireServer;
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
  gcpWire = await startGcpWire();
  if (!('missing' in tls)) azureWire = await startAzureWire(tls);
});
afterAll(async () => {
  await gcpWire.close();
  await azureWire?.close();
});

const GCP_FAULTS: Record<Exclude<ConformanceFault, 'TIMEOUT'>, [number, string]> = {
  THROTTLED: [429, 'RESOURCE_EXHAUSTED'],
  ACCESS_DENIED: [403, 'PERMISSION_DENIED'],
  AUTH_FAILED: [401, 'UNAUTHENTICATED'],
  UNAVAILABLE: [503, 'UNAVAILABLE'],
};

providerConformance(
  { describe, it, expect },
  {
    name: 'gcp (REST wire server)',
    async create() {
      const auth = new OAuth2Client();
      auth.setCredentials({ access_token: 'test-token', expiry_date: Date.now() + 3_600_000 });
      return {
        provider: gcp({
          projectId: 'conformance',
          env: {},
          clientOptions: {
            apiEndpoint: gcpWire.host,
            port: gcpWire.port,
            protocol: 'http',
            fallback: true,
            authClient: auth,
          },
        }),
        seed: async (name, value) => gcpWire.add('conformance', name, value),
        inject: (fault) => {
          if (fault === 'TIMEOUT') return gcpWire.setLatency(HANG_MS);
          const [status, grpc] = GCP_FAULTS[fault];
          gcpWire.fail({ status, grpc, times: Infinity });
        },
        heal: () => gcpWire.heal(),
      };
    },
  },
);

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
