// The provider conformance suite (src/testing/conformance.ts) against `gcp`, through its real SDK and
// the loopback wire server (wire-server.ts). Faults are injected the way the service answers them:
// 429 RESOURCE_EXHAUSTED, 403, 401, 503, and an answer slower than the suite's call timeout.

import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gcp } from '../../../src/providers/gcp/index.js';
import { type ConformanceFault, providerConformance } from '../../../src/testing/index.js';
import { type GcpWireServer, startGcpWire } from './wire-server.js';

/** An answer slower than the suite's call timeout (300 ms). */
const HANG_MS = 1500;

let gcpWire: GcpWireServer;
beforeAll(async () => {
  gcpWire = await startGcpWire();
});
afterAll(async () => {
  await gcpWire.close();
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
