// Management reads of one resolver: `list`, `versions` and `health` over the chain or a pinned
// provider. Metadata only: never a value. See docs/architecture.md, "Resolution".

import type { AuditLog } from '../audit/audit-log.js';
import { EnvmuxError, toEnvmuxError } from '../errors.js';
import type { HealthResult, SecretInfo, VersionInfo } from '../providers/provider.js';
import type { ProviderCaller } from './call.js';
import type { Chain } from './chain.js';
import { monotonicMs } from './clock.js';

export interface Management {
  list(
    prefix?: string,
    options?: { provider?: string },
  ): Promise<Array<SecretInfo & { provider: string }>>;
  versions(name: string, options?: { provider?: string }): Promise<VersionInfo[]>;
  health(): Promise<Array<HealthResult & { provider: string }>>;
}

export function createManagement(options: {
  chain: Chain;
  call: ProviderCaller;
  record: AuditLog['record'];
  /** The cache tier's own row (provider `cache:redis`), when a second tier is configured. */
  cacheHealth?: () => Promise<(HealthResult & { provider: string }) | undefined>;
}): Management {
  const { chain, call, record } = options;
  return {
    async list(prefix = '', listOptions = {}) {
      const providers = listOptions.provider
        ? [await chain.pinned(listOptions.provider)]
        : (await chain.providers()).filter((p) => p.list);
      const lists = await Promise.all(
        providers.map(async (p) => {
          if (!p.list)
            throw new EnvmuxError('CONFIG', `provider "${p.id}" cannot list`, { provider: p.id });
          const items = await call(p, `list "${prefix}"`, (signal, page) =>
            p.list!(prefix, { signal, page }),
          );
          record({ action: 'list', key: prefix, provider: p.id, outcome: 'ok' });
          return items.map((item) => ({ ...item, provider: p.id }));
        }),
      );
      return lists.flat();
    },
    async versions(name, versionOptions = {}) {
      const providers = versionOptions.provider
        ? [await chain.pinned(versionOptions.provider)]
        : (await chain.providers()).filter((p) => p.versions);
      for (const p of providers) {
        if (!p.versions)
          throw new EnvmuxError('CONFIG', `provider "${p.id}" keeps no versions`, {
            provider: p.id,
          });
        const list = await call(p, `versions "${name}"`, (signal) => p.versions!(name, { signal }));
        record({ action: 'versions', key: name, provider: p.id, outcome: 'ok' });
        if (list.length || versionOptions.provider) return list;
      }
      throw new EnvmuxError('NOT_FOUND', `no provider keeps versions of "${name}"`);
    },
    async health() {
      const [rows, tierRow] = await Promise.all([providerHealth(), options.cacheHealth?.()]);
      if (tierRow) {
        record({
          action: 'health',
          provider: tierRow.provider,
          outcome: tierRow.ok ? 'ok' : 'error',
          ...(tierRow.ok
            ? {}
            : { code: tierRow.detail?.startsWith('CONFIG') ? 'CONFIG' : 'UNAVAILABLE' }),
        });
      }
      return tierRow ? [...rows, tierRow] : rows;
    },
  };

  /** One row per provider of the chain. */
  async function providerHealth() {
    return Promise.all(
      (await chain.providers()).map(async (p) => {
        const started = monotonicMs();
        try {
          const result = p.health
            ? await call(p, 'health', (signal) => p.health!({ signal }))
            : { ok: true };
          record({ action: 'health', provider: p.id, outcome: result.ok ? 'ok' : 'error' });
          return {
            ...result,
            provider: p.id,
            latencyMs: result.latencyMs ?? monotonicMs() - started,
          };
        } catch (error) {
          const e = toEnvmuxError(error, { provider: p.id });
          record({ action: 'health', provider: p.id, outcome: 'error', code: e.code });
          return {
            ok: false,
            provider: p.id,
            detail: e.code,
            latencyMs: monotonicMs() - started,
          };
        }
      }),
    );
  }
}
