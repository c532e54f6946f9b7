// One codebase, one .env: the store is chosen per environment by configuration alone (APP_ENV).
import { aws, local } from 'envmux/providers';
import { memory } from 'envmux/testing';

const stores = {
  // A developer's laptop: the encrypted vault in the project (.envmux/vault.json + its key).
  development: () => [local()],
  // CI: fixed test values in memory, no credentials at all.
  ci: () => [
    memory({ values: { 'db/password': 'ci-fixture-password', 'api/token': 'ci-token-1234' } }),
  ],
  // Staging and production: AWS Secrets Manager (region, endpoint, credentials from the usual AWS_*
  // variables), each under its own name prefix.
  staging: () => [aws({ prefix: 'staging/' })],
  production: () => [aws({ prefix: 'prod/' })],
};

const appEnv = process.env.APP_ENV ?? 'development';
if (!stores[appEnv]) throw new Error(`APP_ENV must be one of ${Object.keys(stores).join(', ')}`);

export default { providers: stores[appEnv]() };
