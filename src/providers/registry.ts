// Which stores exist, how each is built from environment variables, and the auto-detected chain
// (docs/architecture.md, "Provider chain"). Heavy providers are imported only when a chain actually needs them.

import { existsSync } from 'node:fs';
import { EnvmuxError } from '../errors.js';
import { env } from './env.js';
import { defaultSecretDir, file } from './file.js';
import {
  DEFAULT_VAULT_PATH,
  detectLocalVault,
  localVaultWithoutKey,
  vaultPathFrom,
} from './local/paths.js';
import { hasSession } from './local/session.js';
import { memory } from './memory.js';
import type { Provider } from './provider.js';

/** Every store type of the design, built or not. */
export const PROVIDER_TYPES = [
  'env',
  'file',
  'memory',
  'local',
  'aws',
  'ssm',
  'gcp',
  'vault',
  'azure',
  'k8s',
  'pass',
  'op',
  'bw',
  'keychain',
] as const;

export type ProviderType = (typeof PROVIDER_TYPES)[number];
export type Env = Record<string, string | undefined>;

/**
 * Builders that need no I/O wait: the register preload can use these without a worker. One that
 * returns `undefined` cannot be built synchronously in this environment (then its async builder runs).
 */
const SYNC_BUILDERS: Partial<Record<ProviderType, (environment: Env) => Provider | undefined>> = {
  env: () => env(),
  file: (environment) => file({ dir: defaultSecretDir(environment) }),
  memory: () => memory(),
  // `local` is added by ./local/sync-builder.ts, which the preload imports: the library loads the
  // vault code only when a chain needs it (async builder below).
};

/**
 * Builders that load code on demand (cloud SDKs, vault crypto): each imports its provider module
 * only when a chain needs it, so the preload never loads an SDK it does not use. One line per store.
 */
const ASYNC_BUILDERS: Partial<Record<ProviderType, (environment: Env) => Promise<Provider>>> = {
  // Any vault (a passphrase one: Argon2id once, then synchronous reads).
  local: async (environment) => (await import('./local/local.js')).openLocal({ env: environment }),
  aws: async (environment) => (await import('./aws/index.js')).awsFromEnv(environment),
  ssm: async (environment) => (await import('./aws/index.js')).ssmFromEnv(environment),
  gcp: async (environment) => (await import('./gcp/index.js')).gcp({ env: environment }),
  azure: async (environment) => (await import('./azure/index.js')).azure({ env: environment }),
  vault: async (environment) => (await import('./vault/index.js')).vault({ env: environment }),
  k8s: async (environment) => (await import('./k8s/index.js')).k8s({ env: environment }),
  // Developer stores join a chain only when named (ENVMUX_PROVIDERS=pass, a config, a factory): a
  // `pass`/`op`/`bw` binary or a keychain on the machine says nothing about where an app's secrets are.
  pass: async (environment) => (await import('./pass/index.js')).pass({ env: environment }),
  op: async (environment) => (await import('./op/index.js')).op({ env: environment }),
  bw: async (environment) => (await import('./bw/index.js')).bw({ env: environment }),
  keychain: async (environment) =>
    (await import('./keychain/index.js')).keychain({ env: environment }),
};

export function isProviderType(id: string): id is ProviderType {
  return (PROVIDER_TYPES as readonly string[]).includes(id);
}

function notBuilt(type: string): EnvmuxError {
  return new EnvmuxError(
    'CONFIG',
    isProviderType(type)
      ? `provider "${type}" is not available in this version of envmux`
      : `unknown provider "${type}"`,
    {
      provider: type,
      hint: `available providers: ${availableProviderTypes().join(', ')}; or pass a custom one with defineProvider()`,
    },
  );
}

/** The provider types this build can construct. */
export function availableProviderTypes(): string[] {
  return PROVIDER_TYPES.filter((t) => SYNC_BUILDERS[t] || ASYNC_BUILDERS[t]);
}

/** Build a provider of `type` from environment variables, synchronously when it can be. */
export function buildProviderSync(type: string, environment: Env): Provider | undefined {
  return isProviderType(type) ? SYNC_BUILDERS[type]?.(environment) : undefined;
}

/** Build a provider of `type` from environment variables. */
export async function buildProvider(type: string, environment: Env): Promise<Provider> {
  const sync = buildProviderSync(type, environment);
  if (sync) return sync;
  const builder = isProviderType(type) ? ASYNC_BUILDERS[type] : undefined;
  if (!builder) throw notBuilt(type);
  return builder(environment);
}

/** Add a synchronous builder (see ./local/sync-builder.ts). */
export function registerSyncBuilder(
  type: ProviderType,
  builder: (environment: Env) => Provider | undefined,
): void {
  SYNC_BUILDERS[type] = builder;
}

/** Register an on-demand builder (used by provider modules that load SDKs). */
export function registerProviderBuilder(
  type: ProviderType,
  builder: (environment: Env) => Promise<Provider>,
): void {
  ASYNC_BUILDERS[type] = builder;
}

export interface DetectedProvider {
  type: string;
  /** Why it joined the chain (for `envmux doctor` and debug output). */
  reason: string;
}

/** The chain auto-detection builds from the environment, in order, with the reason for each. */
export function detectChain(environment: Env): DetectedProvider[] {
  const explicit = environment.ENVMUX_PROVIDERS || environment.SECRET_PROVIDER;
  if (explicit) {
    const source = environment.ENVMUX_PROVIDERS ? 'ENVMUX_PROVIDERS' : 'SECRET_PROVIDER';
    return explicit
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((type) => ({ type, reason: `listed in ${source}` }));
  }
  const chain: DetectedProvider[] = [];
  const vault = detectLocalVault(environment, process.cwd(), (path) =>
    hasSession(path, environment),
  );
  if (vault) chain.push({ type: 'local', reason: vault });
  const when = (type: string, names: string[]) => {
    const hit = names.find((n) => environment[n]);
    if (hit) chain.push({ type, reason: `${hit} is set` });
  };
  when('vault', ['VAULT_ADDR']);
  when('aws', ['AWS_REGION', 'AWS_SECRET_MANAGER_REGION']);
  when('gcp', ['GCP_PROJECT_ID', 'GOOGLE_CLOUD_PROJECT']);
  when('azure', ['AZURE_KEYVAULT_URL', 'AZURE_KEY_VAULT_NAME']);
  when('k8s', ['KUBERNETES_SERVICE_HOST']);
  if (environment.ENVMUX_FILE_DIR) chain.push({ type: 'file', reason: 'ENVMUX_FILE_DIR is set' });
  else if (existsSync('/run/secrets')) chain.push({ type: 'file', reason: '/run/secrets exists' });
  chain.push({ type: 'env', reason: 'always last' });
  const keyless = vault
    ? undefined
    : localVaultWithoutKey(environment, process.cwd(), (path) => hasSession(path, environment));
  if (keyless) chain.push({ type: 'local', reason: keyless });
  return chain;
}

/**
 * The local stores auto-detection left out, and why (`local: no .envmux/vault.json`, `file:
 * /run/secrets does not exist`): what a NOT_FOUND adds to the chain it walked. Empty for an explicit
 * chain (`ENVMUX_PROVIDERS`); cloud stores are left out only for want of their variables.
 */
export function leftOutOfChain(environment: Env): string[] {
  if (environment.ENVMUX_PROVIDERS || environment.SECRET_PROVIDER) return [];
  const out: string[] = [];
  if (!existsSync(vaultPathFrom(environment, process.cwd()))) {
    out.push(
      `local: no ${environment.ENVMUX_VAULT_PATH ? 'ENVMUX_VAULT_PATH file' : DEFAULT_VAULT_PATH}`,
    );
  }
  if (!environment.ENVMUX_FILE_DIR && !existsSync('/run/secrets'))
    out.push('file: /run/secrets does not exist');
  return out;
}
