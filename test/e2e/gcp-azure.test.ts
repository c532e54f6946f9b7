// The `gcp` and `azure` providers from the packed package: a project with envmux and one cloud SDK
// installed, configured in envmux.config.mjs with the factories from envmux/providers (client options
// pointing at a loopback server that speaks the documented REST API: test/providers/gcp/wire-server.ts,
// azure-wire.ts), started with `node -r envmux/register`. The other cloud's SDK is never loaded.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AzureWireServer, startAzureWire } from '../providers/azure/wire-server.js';
import { type GcpWireServer, startGcpWire } from '../providers/gcp/wire-server.js';
import { makeLoopbackCertificate } from '../servers/certificate.js';
import { installProject, runNodeAsync, writeCase } from './consumer.js';

const cert = makeLoopbackCertificate();
if ('missing' in cert && process.env.ENVMUX_REQUIRE_SERVERS === '1') throw new Error(cert.missing);
let gcpWire: GcpWireServer;
let azureWire: AzureWireServer | undefined;

/** A project of its own with envmux and `packages`, holding `files`. */
function project(name: string, packages: string[], files: Record<string, string>): string {
  return writeCase(installProject(name, packages), '.', files);
}

const app = `const sdks = Object.keys(require.cache).filter((k) => /@google-cloud|@azure|@aws-sdk/.test(k));
console.log(JSON.stringify({ PW: process.env.PW, USER_NAME: process.env.USER_NAME, sdks }));
`;

beforeAll(async () => {
  gcpWire = await startGcpWire();
  gcpWire.seed('p1', 'db', [JSON.stringify({ user: 'gcp-app', password: 'gcp-e2e-pw' })]);
  if (!('missing' in cert)) {
    azureWire = await startAzureWire(cert);
    azureWire.seed('db', [JSON.stringify({ user: 'az-app', password: 'azure-e2e-pw' })]);
  }
}, 60_000);

afterAll(async () => {
  await gcpWire?.close();
  await azureWire?.close();
});

describe('gcp provider from the installed package', () => {
  it('node -r envmux/register resolves $<gcp:db#password> (REST, static token)', {
    timeout: 300_000,
  }, async () => {
    const dir = project('gcp-consumer', ['@google-cloud/secret-manager'], {
      'envmux.config.mjs': `import { gcp } from 'envmux/providers';
import { OAuth2Client } from 'google-auth-library';
const authClient = new OAuth2Client();
authClient.setCredentials({ access_token: 'e2e-token', expiry_date: Date.now() + 3_600_000 });
export default {
  providers: [gcp({ projectId: 'p1', clientOptions: { apiEndpoint: '127.0.0.1', port: ${gcpWire.port}, protocol: 'http', fallback: true, authClient } })],
};
`,
      '.env': 'PW=$<gcp:db#password>\nUSER_NAME=$<secret:db#user>\n',
      'app.cjs': app,
    });
    const r = await runNodeAsync(['-r', 'envmux/register', 'app.cjs'], dir, {
      METADATA_SERVER_DETECTION: 'none',
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ PW: 'gcp-e2e-pw', USER_NAME: 'gcp-app', sdks: [] });
  });
});

describe.skipIf('missing' in cert)('azure provider from the installed package', () => {
  it('node -r envmux/register resolves $<azure:db#password> (HTTPS, challenge, test credential)', {
    timeout: 300_000,
  }, async () => {
    const dir = project('azure-consumer', ['@azure/keyvault-secrets', '@azure/identity'], {
      'ca.pem': (cert as { cert: string }).cert,
      'envmux.config.mjs': `import { readFileSync } from 'node:fs';
import { azure } from 'envmux/providers';
const ca = readFileSync(new URL('./ca.pem', import.meta.url), 'utf8');
const credential = { getToken: async () => ({ token: ${JSON.stringify(azureWire?.token ?? '')}, expiresOnTimestamp: Date.now() + 3_600_000 }) };
export default {
  providers: [azure({ vaultUrl: ${JSON.stringify(azureWire?.url ?? '')}, credential, clientOptions: { disableChallengeResourceVerification: true, tlsOptions: { ca } } })],
};
`,
      '.env': 'PW=$<azure:db#password>\nUSER_NAME=$<secret:db#user>\n',
      'app.cjs': app,
    });
    const r = await runNodeAsync(['-r', 'envmux/register', 'app.cjs'], dir);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ PW: 'azure-e2e-pw', USER_NAME: 'az-app', sdks: [] });
  });
});
