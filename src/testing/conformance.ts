// The provider conformance suite (`envmux/testing`): one set of behavioural tests every provider
// runs, given the test runner's describe/it/expect. Test-only code; never prints a secret value.

import { inspect } from 'node:util';
import { AuditLog } from '../audit/audit-log.js';
import { type ErrorCode, isEnvmuxError, toEnvmuxError } from '../errors.js';
import { capabilitiesOf, type Provider } from '../providers/provider.js';
import { createResolver, type Resolver, type ResolverOptions } from '../resolver/client.js';

/** The assertions the suite uses; vitest's and Jest's `expect` fit. */
export interface ConformanceAssertion {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeUndefined(): void;
  toContain(expected: unknown): void;
  toBeGreaterThanOrEqual(expected: number): void;
  not: Omit<ConformanceAssertion, 'not'>;
}

/** The test runner: `import { describe, it, expect } from 'vitest'` (or Jest's globals). */
export interface ConformanceRunner {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: (...args: any[]) => Promise<void>, timeout?: number): void;
  expect(actual: unknown): ConformanceAssertion;
}

/** Faults a harness can inject, named by the code the provider must report. */
export type ConformanceFault = Extract<
  ErrorCode,
  'THROTTLED' | 'ACCESS_DENIED' | 'AUTH_FAILED' | 'UNAVAILABLE' | 'TIMEOUT'
>;

/** One provider under test, fresh for each test. */
export interface ConformanceHarness {
  provider: Provider;
  /**
   * Store `value` under `name` the way the store's own tooling would (not through `provider`).
   * Seeding a name again must add a version where the store keeps versions.
   */
  seed(name: string, value: string): Promise<void>;
  /**
   * Make the store fail every call the way it fails for real (a throttling answer, a denial, a
   * bad signature, a 500, no answer at all) until {@link heal}. Optional: the error-mapping tests
   * run only when the harness can inject.
   */
  inject?(fault: ConformanceFault): void | Promise<void>;
  heal?(): void | Promise<void>;
  cleanup?(): void | Promise<void>;
}

/** What the provider can do; each defaults to what its methods declare. */
export interface ConformanceCapabilities {
  versions: boolean;
  /** Reads of `?version=previous`. Default: same as `versions`. */
  previous: boolean;
  list: boolean;
  write: boolean;
  delete: boolean;
  batch: boolean;
  /** Faults the harness injects; default all of them when it has `inject`. */
  faults: ConformanceFault[];
}

export interface ConformanceOptions {
  /** Shown in the describe block: `aws (wire server)`. */
  name: string;
  /** A fresh provider and its seeding hooks, once per test. */
  create(): Promise<ConformanceHarness>;
  /** Capabilities that differ from what the provider's methods declare. */
  capabilities?: Partial<ConformanceCapabilities>;
  /**
   * A test slug (`[a-z0-9-]`) → a name the store accepts, e.g. `(s) => '/conformance/' + s` for
   * SSM paths. Must keep prefixes: `secretName(a) + b === secretName(a + b)`.
   */
  secretName?(slug: string): string;
  /** Per-call timeout the TIMEOUT test uses, in ms; default 300. */
  timeout?: number;
  /** Timeout of each test, in ms (passed to `it`); default the runner's. */
  testTimeout?: number;
}

const FAULTS: ConformanceFault[] = [
  'THROTTLED',
  'ACCESS_DENIED',
  'AUTH_FAILED',
  'UNAVAILABLE',
  'TIMEOUT',
];

/** A value shaped to catch trimming, re-parsing and expansion. Never printed by the suite. */
const TRICKY = 'p@$$w0rd $<secret:x> ${HOME} $(id) `id` #not-a-comment "q" \'s\' ünï 🔑';

/**
 * Register the conformance tests for one provider:
 * ```ts
 * import { describe, it, expect } from 'vitest';
 * import { providerConformance } from 'envmux/testing';
 * providerConformance({ describe, it, expect }, {
 *   name: 'mystore',
 *   create: async () => { const store = ...; return { provider: mystore(...), seed: (n, v) => store.put(n, v) }; },
 * });
 * ```
 */
export function providerConformance(runner: ConformanceRunner, options: ConformanceOptions): void {
  const { describe, it, expect } = runner;
  const slugName = options.secretName ?? ((slug: string) => slug);
  let counter = 0;
  /** A name no other test uses. */
  const unique = (what: string) =>
    slugName(
      `conf-${process.pid.toString(36)}-${Date.now().toString(36)}-${(counter++).toString(36)}-${what}`,
    );

  /**
   * Run `fn` with a fresh harness, always cleaning up. `fn` returns a reason to report the test
   * as skipped (through the runner's test context where it has one, as vitest and node:test do).
   */
  const withHarness =
    (fn: (h: ConformanceHarness, caps: ConformanceCapabilities) => Promise<string | undefined>) =>
    // A rest parameter keeps the arity 0, so runners that pass `done` to 1-ary functions do not.
    async (...args: unknown[]) => {
      const context = args[0] as { skip?: (note?: string) => void } | undefined;
      const h = await options.create();
      const declared = capabilitiesOf(h.provider);
      const versions = options.capabilities?.versions ?? declared.versions;
      const caps: ConformanceCapabilities = {
        versions,
        previous: options.capabilities?.previous ?? versions,
        list: options.capabilities?.list ?? declared.list,
        write: options.capabilities?.write ?? declared.write,
        delete: options.capabilities?.delete ?? declared.delete,
        batch: options.capabilities?.batch ?? declared.batch,
        faults: options.capabilities?.faults ?? (h.inject ? FAULTS : []),
      };
      let skipped: string | undefined;
      try {
        skipped = await fn(h, caps);
      } finally {
        await h.heal?.();
        await h.cleanup?.();
        await h.provider.close?.();
      }
      if (skipped && typeof context?.skip === 'function') context.skip(skipped);
    };

  const resolverFor = (provider: Provider, extra: ResolverOptions = {}): Resolver =>
    createResolver({
      providers: [provider],
      cache: false,
      retry: { attempts: 1 },
      // The suite tests the store, healed between faults; the circuit breaker would skip it.
      breaker: false,
      audit: { log: new AuditLog(200) },
      env: {},
      ...extra,
    });

  /** The code a promise rejects with (after the resolver's mapping), or `undefined` if it resolves. */
  const codeOf = async (promise: Promise<unknown>): Promise<string | undefined> => {
    try {
      await promise;
      return undefined;
    } catch (error) {
      return toEnvmuxError(error).code;
    }
  };

  /** Every way an error can be shown (message, JSON, inspect, cause) must leave `value` out. */
  const expectNoValue = (error: unknown, value: string) => {
    const shown = [
      String(error),
      (error as Error)?.message,
      (error as Error)?.stack,
      JSON.stringify(error),
      inspect(error, { depth: 6 }),
    ].join('\n');
    expect(shown).not.toContain(value);
  };

  const test = (name: string, fn: (...args: unknown[]) => Promise<void>) =>
    it(name, fn, options.testTimeout);

  describe(`${options.name} provider conformance`, () => {
    test(
      'reads the latest value, byte for byte',
      withHarness(async (h) => {
        expect(typeof h.provider.id).toBe('string');
        expect(typeof h.provider.type).toBe('string');
        const name = unique('latest');
        await h.seed(name, TRICKY);
        expect(await h.provider.get(name, {})).toBe(TRICKY);
        if (h.provider.getSync) expect(h.provider.getSync(name, {})).toBe(TRICKY);
        const multiline = unique('pem');
        const pem = '-----BEGIN KEY-----\nAAAA\nBBBB\n-----END KEY-----';
        await h.seed(multiline, pem);
        expect(await h.provider.get(multiline, {})).toBe(pem);
      }),
    );

    test(
      'answers undefined for a missing name, and NOT_FOUND through the resolver',
      withHarness(async (h) => {
        const missing = unique('missing');
        expect(await h.provider.get(missing, {})).toBeUndefined();
        if (h.provider.getSync) expect(h.provider.getSync(missing, {})).toBeUndefined();
        const resolver = resolverFor(h.provider);
        expect(await codeOf(resolver.get(missing))).toBe('NOT_FOUND');
        expect(await codeOf(resolver.get(missing, { provider: h.provider.id }))).toBe('NOT_FOUND');
        await resolver.close();
      }),
    );

    test(
      'picks JSON fields through the resolver (one document, several fields)',
      withHarness(async (h) => {
        const name = unique('json');
        await h.seed(
          name,
          JSON.stringify({ user: 'app', password: 'pw with spaces', db: { port: 5432 } }),
        );
        const resolver = resolverFor(h.provider, { cache: {} });
        expect(await resolver.get(name, { field: 'password' })).toBe('pw with spaces');
        expect(await resolver.get(name, { field: 'user' })).toBe('app');
        expect(await resolver.get(name, { field: 'db.port' })).toBe('5432');
        expect(await codeOf(resolver.get(name, { field: 'nope' }))).toBe('NOT_FOUND');
        await resolver.close();
      }),
    );

    test(
      'keeps versions, each readable, latest last',
      withHarness(async (h, caps) => {
        if (!caps.versions) return 'no versions';
        const name = unique('versions');
        await h.seed(name, 'version-one');
        await h.seed(name, 'version-two');
        expect(await h.provider.get(name, {})).toBe('version-two');
        const list = await h.provider.versions!(name, {});
        expect(list.length).toBeGreaterThanOrEqual(2);
        const values = new Set<string | undefined>();
        for (const v of list) {
          expect(typeof v.version).toBe('string');
          values.add(await h.provider.get(name, { version: v.version }));
        }
        expect(values.has('version-one')).toBe(true);
        expect(values.has('version-two')).toBe(true);
        expect(await h.provider.get(name, { version: list[list.length - 1]!.version })).toBe(
          'version-two',
        );
        expect(await h.provider.versions!(unique('no-versions'), {})).toEqual([]);
      }),
    );

    test(
      "reads version 'previous'",
      withHarness(async (h, caps) => {
        if (!caps.previous) return "no 'previous' version";
        const name = unique('previous');
        await h.seed(name, 'old-value');
        await h.seed(name, 'new-value');
        expect(await h.provider.get(name, { version: 'previous' })).toBe('old-value');
        expect(await h.provider.get(name, { version: 'latest' })).toBe('new-value');
        const only = unique('single');
        await h.seed(only, 'only-value');
        expect(await h.provider.get(only, { version: 'previous' })).toBeUndefined();
      }),
    );

    test(
      'lists names by prefix, without values',
      withHarness(async (h, caps) => {
        if (!caps.list) return 'no list';
        const group = unique('lst');
        await h.seed(`${group}-a`, 'listed-value-a');
        await h.seed(`${group}-b`, 'listed-value-b');
        await h.seed(unique('other'), 'other-value');
        const listed = await h.provider.list!(`${group}-`, {});
        expect(listed.map((s) => s.name).sort()).toEqual([`${group}-a`, `${group}-b`]);
        const shown = JSON.stringify(listed);
        expect(shown).not.toContain('listed-value-a');
        expect(shown).not.toContain('listed-value-b');
        expect(await h.provider.list!(unique('nothing-here'), {})).toEqual([]);
      }),
    );

    test(
      'writes, overwrites, deletes and writes again',
      withHarness(async (h, caps) => {
        if (!caps.write) return 'read-only';
        const name = unique('write');
        await h.provider.set!(name, 'first-write', {});
        expect(await h.provider.get(name, {})).toBe('first-write');
        await h.provider.set!(name, TRICKY, {});
        expect(await h.provider.get(name, {})).toBe(TRICKY);
        if (!caps.delete) return;
        await h.provider.delete!(name, {});
        expect(await h.provider.get(name, {})).toBeUndefined();
        // Deleting what is not there is done, not an error.
        await h.provider.delete!(name, {});
        await h.provider.delete!(unique('never-there'), {});
        await h.provider.set!(name, 'after-delete', {});
        expect(await h.provider.get(name, {})).toBe('after-delete');
        await h.provider.delete!(name, { force: true });
        expect(await h.provider.get(name, {})).toBeUndefined();
      }),
    );

    test(
      'batch reads equal single reads, missing names absent',
      withHarness(async (h, caps) => {
        if (!caps.batch || !h.provider.getMany) return 'no batch reads';
        const count = Math.min((h.provider.batchSize ?? 5) + 3, 105);
        const names: string[] = [];
        for (let i = 0; i < count; i++) {
          const name = unique(`batch-${i}`);
          names.push(name);
          await h.seed(name, i % 2 ? `{"n":${i}}` : `batch-value-${i}`);
        }
        const missing = unique('batch-missing');
        const first = names.slice(0, Math.min(names.length, h.provider.batchSize ?? names.length));
        const got = await h.provider.getMany([...first.slice(0, -1), missing, first.at(-1)!], {});
        expect(got.has(missing)).toBe(false);
        for (const name of first) expect(got.get(name)).toBe(await h.provider.get(name, {}));
        // Through the resolver: chunked by batchSize, same answers.
        const resolver = resolverFor(h.provider);
        const all = await resolver.getMany(names);
        for (const name of names) expect(all[name]).toBe(await h.provider.get(name, {}));
        expect(await codeOf(resolver.getMany([names[0]!, missing]))).toBe('NOT_FOUND');
        await resolver.close();
      }),
    );

    for (const fault of FAULTS) {
      test(
        `maps an injected failure to ${fault}`,
        withHarness(async (h, caps) => {
          if (!h.inject || !caps.faults.includes(fault)) return `cannot inject ${fault}`;
          const name = unique(`fault-${fault.toLowerCase()}`);
          const secret = `fault-value-${fault.toLowerCase()}-4f2a9c`;
          await h.seed(name, secret);
          const resolver = resolverFor(h.provider, { timeout: options.timeout ?? 300 });
          await h.inject(fault);
          let caught: unknown;
          try {
            await resolver.get(name, { provider: h.provider.id });
          } catch (error) {
            caught = error;
          }
          expect(isEnvmuxError(caught)).toBe(true);
          expect(toEnvmuxError(caught).code).toBe(fault);
          expect(toEnvmuxError(caught).retryable).toBe(
            fault === 'THROTTLED' || fault === 'UNAVAILABLE' || fault === 'TIMEOUT',
          );
          expectNoValue(caught, secret);
          // The provider's own error (before the resolver) maps to the same code.
          if (fault !== 'TIMEOUT') {
            let direct: unknown;
            try {
              await h.provider.get(name, {});
            } catch (error) {
              direct = error;
            }
            expect(toEnvmuxError(direct).code).toBe(fault);
          }
          await h.heal?.();
          expect(await resolver.get(name, { provider: h.provider.id })).toBe(secret);
          await resolver.close();
        }),
      );
    }

    test(
      'never puts a value in an error, a listing, versions or the audit',
      withHarness(async (h, caps) => {
        const name = unique('leak');
        const secret = 'not-json-leak-canary-7c1e';
        await h.seed(name, secret);
        const log = new AuditLog(200);
        const resolver = resolverFor(h.provider, { audit: { log } });
        let caught: unknown;
        try {
          await resolver.get(name, { field: 'password' });
        } catch (error) {
          caught = error;
        }
        expect(toEnvmuxError(caught).code).toBe('INVALID_REFERENCE');
        expectNoValue(caught, secret);
        expect(await resolver.get(name)).toBe(secret);
        if (caps.list) expect(JSON.stringify(await h.provider.list!('', {}))).not.toContain(secret);
        if (caps.versions)
          expect(JSON.stringify(await h.provider.versions!(name, {}))).not.toContain(secret);
        expect(JSON.stringify(log.query())).not.toContain(secret);
        expect(JSON.stringify(resolver.audit())).not.toContain(secret);
        await resolver.close();
      }),
    );
  });
}
