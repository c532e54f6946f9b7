// `envmux doctor`: what envmux would use here and whether it works — the Node version, the config
// source, the chain (and why each store is in it or left out), each store's health and latency,
// the cache tiers, with a hint per problem. Names, codes and timings only; never a value.

import type { Command } from 'commander';
import { detectChain, isProviderType } from '../providers/registry.js';
import { findConfigFile } from '../resolver/config-file.js';
import { parseDuration } from '../resolver/durations.js';
import { displayPath } from '../resolver/files.js';
import { commandLoadOptions } from './command-env.js';
import {
  closeQuietly,
  EXIT,
  EXIT_HELP,
  openResolver,
  storeAction,
  withUsageExit,
} from './store-command.js';

/** What makes auto-detection add a store (as in src/providers/registry.ts `detectChain`). */
const DETECTED_BY: Record<string, string> = {
  local: 'a vault at ENVMUX_VAULT_PATH or .envmux/vault.json',
  vault: 'VAULT_ADDR',
  aws: 'AWS_REGION or AWS_SECRET_MANAGER_REGION',
  gcp: 'GCP_PROJECT_ID or GOOGLE_CLOUD_PROJECT',
  azure: 'AZURE_KEYVAULT_URL or AZURE_KEY_VAULT_NAME',
  k8s: 'KUBERNETES_SERVICE_HOST',
  file: 'ENVMUX_FILE_DIR or /run/secrets',
};

/** What to do about a failed health check, by code. */
const HINTS: Record<string, string> = {
  AUTH_FAILED: 'check the store’s credentials (token, key, service account)',
  ACCESS_DENIED: 'grant this identity read (and list) access',
  SESSION_EXPIRED: 'log in again (e.g. renew the token)',
  LOCKED: 'unlock it: envmux vault unlock, or set ENVMUX_VAULT_KEY / ENVMUX_VAULT_PASSPHRASE',
  UNAVAILABLE: 'check the endpoint, network and TLS settings',
  TIMEOUT: 'the store did not answer in time: check the network, or raise ENVMUX_TIMEOUT',
  THROTTLED: 'the store is rate-limiting: retry later',
  CONFIG: 'check the store’s settings in the config file or environment',
  DECRYPTION_FAILED: 'the vault or its key is wrong: check the key file and the vault file',
};

interface DoctorReport {
  ok: boolean;
  node: { version: string; ok: boolean };
  config: string | null;
  chain: Array<{ provider: string; reason: string }>;
  leftOut: Array<{ type: string; reason: string }>;
  stores: Array<{
    provider: string;
    ok: boolean;
    latencyMs: number;
    code: string | null;
    hint: string | null;
  }>;
  cache: { memoryTtlMs: number; redis: boolean };
  problems: string[];
}

export function register(program: Command): void {
  withUsageExit(
    program
      .command('doctor')
      .description('show what envmux uses here (config, chain, cache) and check every store')
      .option('--json', 'print the report as JSON on stdout')
      .addHelpText('after', `${EXIT_HELP} Exit 1 when doctor finds a problem.`),
  ).action(
    storeAction(async (flags: { json?: boolean }) => {
      const report = await diagnose();
      if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(render(report));
      return report.ok ? EXIT.ok : EXIT.failed;
    }),
  );
}

async function diagnose(): Promise<DoctorReport> {
  const problems: string[] = [];
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const nodeOk = major > 20 || (major === 20 && minor >= 19);
  if (!nodeOk) problems.push(`Node ${process.versions.node} is older than 20.19: upgrade Node`);
  const found = findConfigFile(process.cwd(), process.env);
  const options = await commandLoadOptions({});
  const configured = options.providers;
  const chain = configured
    ? configured.map((p, i) => ({
        provider: typeof p === 'string' ? p : p.id,
        reason: `providers[${i}] of ${found ? displayPath(found.path) : 'the options'}`,
      }))
    : detectChain(process.env).map((d) => ({ provider: d.type, reason: d.reason }));
  const inChain = new Set(chain.map((c) => c.provider));
  const leftOut = Object.entries(DETECTED_BY)
    .filter(([type]) => isProviderType(type) && !inChain.has(type))
    .map(([type, by]) => ({
      type,
      reason: configured ? 'not in the config file’s providers' : `not detected (needs ${by})`,
    }));
  const resolver = await openResolver();
  let stores: DoctorReport['stores'] = [];
  try {
    stores = (await resolver.health()).map((h) => {
      const code = h.ok ? null : (h.detail ?? 'UNAVAILABLE');
      const hint = code ? (HINTS[code] ?? 'see the store’s documentation') : null;
      if (code) problems.push(`${h.provider}: ${code}: ${hint}`);
      return {
        provider: h.provider,
        ok: h.ok,
        latencyMs: Math.round((h.latencyMs ?? 0) * 10) / 10,
        code,
        hint,
      };
    });
  } catch (error) {
    const e = error as { code?: string; message?: string };
    problems.push(`the chain could not be built: ${e.code ?? 'CONFIG'}: ${e.message ?? ''}`);
  } finally {
    await closeQuietly(resolver);
  }
  let memoryTtlMs = 5 * 60_000;
  try {
    memoryTtlMs = parseDuration(process.env.ENVMUX_CACHE_TTL, memoryTtlMs);
  } catch {
    problems.push('ENVMUX_CACHE_TTL is not a duration: write 30s, 5m, 1h');
  }
  return {
    ok: nodeOk && !problems.length,
    node: { version: process.versions.node, ok: nodeOk },
    config: found ? displayPath(found.path) : null,
    chain,
    leftOut,
    stores,
    cache: { memoryTtlMs, redis: !!process.env.ENVMUX_REDIS_URL },
    problems,
  };
}

function render(r: DoctorReport): string {
  const lines = [
    `node      ${r.node.version}${r.node.ok ? '' : '  (needs ≥ 20.19)'}`,
    `config    ${r.config ?? 'none (auto-detected chain)'}`,
    'chain',
    ...r.chain.map((c) => {
      const s = r.stores.find((x) => x.provider === c.provider);
      const state = s ? (s.ok ? `ok ${s.latencyMs} ms` : `FAILED ${s.code}`) : '';
      return `  ${c.provider.padEnd(10)} ${state.padEnd(16)} ${c.reason}`;
    }),
    ...(r.leftOut.length
      ? ['left out', ...r.leftOut.map((l) => `  ${l.type.padEnd(10)} ${l.reason}`)]
      : []),
    `cache     memory ${Math.round(r.cache.memoryTtlMs / 1000)} s TTL${r.cache.redis ? ', redis (ENVMUX_REDIS_URL)' : ''}`,
    ...(r.problems.length
      ? ['problems', ...r.problems.map((p) => `  - ${p}`)]
      : ['no problems found']),
  ];
  return `${lines.join('\n')}\n`;
}
