// multi-tenant: three customers, three stores (AWS, GCP, Vault — local stand-ins that speak each
// store's protocol to the real client libraries), one resolver each, built from tenants.json. Each
// reads the same name and gets its own value; caches and audit logs are per tenant.

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { OAuth2Client } from 'google-auth-library';
import { awsStandin, gcpStandin, vaultStandin } from './standins.mjs';
import { resolverFor } from './tenants.mjs';

const records = JSON.parse(readFileSync(new URL('./tenants.json', import.meta.url), 'utf8'));
const random = () => randomBytes(18).toString('base64url');
const fingerprint = (v) =>
  `*** (${v.length} chars, sha256 ${createHash('sha256').update(v).digest('hex').slice(0, 8)})`;
// No cloud account: the SDKs must not look for one on this machine.
process.env.AWS_CONFIG_FILE = '/nonexistent';
process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.METADATA_SERVER_DETECTION = 'none';

const VAULT_TOKEN = `hvs.${random()}`;
const servers = {
  aws: await awsStandin({
    'tenants/acme/db-password': random(),
    'tenants/globex/db-password': random(),
  }),
  gcp: await gcpStandin({ 'projects/globex-prod/secrets/db-password': random() }),
  vault: await vaultStandin({ 'kv/initech/db-password': { value: random() } }, VAULT_TOKEN),
};

// What a deployment keeps per tenant outside the record: endpoints and credentials.
const gcpAuth = new OAuth2Client();
gcpAuth.setCredentials({ access_token: 'example-token', expiry_date: Date.now() + 3_600_000 });
const connections = {
  acme: {
    endpoint: servers.aws.url,
    credentials: { accessKeyId: 'AKIDACME', secretAccessKey: 'example' },
  },
  globex: {
    clientOptions: {
      apiEndpoint: '127.0.0.1',
      port: servers.gcp.port,
      protocol: 'http',
      fallback: true,
      authClient: gcpAuth,
    },
  },
  initech: { address: servers.vault.url, token: VAULT_TOKEN },
};

const tenants = records.map((record) => ({
  record,
  secrets: resolverFor(record, connections[record.tenant]),
}));
try {
  console.log('each tenant reads "db-password" from its own store:');
  for (const { record, secrets } of tenants) {
    const value = await secrets.get('db-password');
    console.log(`  ${record.tenant.padEnd(8)} ${record.store.padEnd(6)} ${fingerprint(value)}`);
  }

  console.log(
    "\nisolation: acme asks for globex's secret by its full name (acme's prefix is always prepended):",
  );
  const [acme] = tenants;
  await acme.secrets
    .get('tenants/globex/db-password')
    .catch((e) => console.log(`  acme: ${e.code}: ${e.message}`));

  console.log("\na second read by acme is a hit in acme's own cache; the others are not touched:");
  await acme.secrets.get('db-password');
  for (const { record, secrets } of tenants) {
    const entries = secrets.audit({ action: 'get' });
    const summary = entries.map(
      (e) =>
        `${e.key} ${e.outcome}${e.code ? ` ${e.code}` : ''}${e.cache ? ` (cache ${e.cache})` : ''}`,
    );
    console.log(
      `  ${record.tenant.padEnd(8)} audit: ${entries.length} entries, providers ${[...new Set(entries.map((e) => e.provider).filter(Boolean))].join(',')}: ${summary.join('; ')}`,
    );
  }
} finally {
  for (const { secrets } of tenants) await secrets.close?.();
  for (const server of Object.values(servers)) await server.close();
}
