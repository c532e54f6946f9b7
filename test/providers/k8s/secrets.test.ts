// The `k8s` provider against test/providers/k8s/wire-server.ts over HTTPS (a certificate made at test time):
// in-cluster with service-account files in a temp dir, and through a kubeconfig loaded by the real
// @kubernetes/client-node KubeConfig.
//
// Documented Kubernetes behaviour asserted here (API reference, core/v1 Secret; "Accessing the API
// from a Pod"; kubeconfig):
// - A pod reaches the API at https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT with the bearer
//   token, CA and namespace of /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace};
//   projected tokens rotate, so the token file is read again.
// - GET /api/v1/namespaces/{ns}/secrets/{name} answers `data` as base64 (never `stringData`); a missing
//   Secret is 404 NotFound; list pages with limit/continue; create is POST (409 AlreadyExists); update
//   is PATCH with application/merge-patch+json, where a null removes a key; DELETE removes the Secret.
// - 401 Unauthorized for bad credentials, 403 Forbidden (RBAC) naming the verb and namespace, 429
//   TooManyRequests (API priority and fairness), 503 when the server cannot answer.
// - A kubeconfig's current context names the cluster (server, certificate-authority-data), the user
//   (token) and the namespace.
// What envmux adds: 404 → undefined; a 401 after the same credentials worked → SESSION_EXPIRED (the
// resolver re-reads the token once); non-UTF-8 bytes stay base64; no value in any error.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EnvmuxError, toEnvmuxError } from '../../../src/errors.js';
import { type K8sProviderOptions, k8s } from '../../../src/providers/k8s/secrets.js';
import { buildProvider, detectChain } from '../../../src/providers/registry.js';
import { createResolver } from '../../../src/resolver/client.js';
import { type ConformanceFault, providerConformance } from '../../../src/testing/index.js';
import { makeLoopbackCertificate } from '../../servers/certificate.js';
import { type K8sFault, K8sWire } from './wire-server.js';

const cert = makeLoopbackCertificate();
const noTls = 'missing' in cert ? cert.missing : undefined;
if (noTls && process.env.ENVMUX_REQUIRE_SERVERS === '1') {
  throw new Error(
    `k8s tests need openssl for the API server's certificate (ENVMUX_REQUIRE_SERVERS=1): ${noTls}`,
  );
}
if (noTls) console.warn(`SKIPPED k8s provider tests: ${noTls}`);

const NS = 'team-ns';
let wire: K8sWire;
const dir = mkdtempSync(join(tmpdir(), 'envmux-k8s-test-'));
const files = {
  token: join(dir, 'token'),
  ca: join(dir, 'ca.crt'),
  namespace: join(dir, 'namespace'),
};
const open: Array<{ close?: () => Promise<void> }> = [];

beforeAll(async () => {
  if (noTls) return;
  const tls = cert as { key: string; cert: string };
  wire = await K8sWire.start(tls);
  writeFileSync(files.token, `${wire.token}\n`);
  writeFileSync(files.ca, tls.cert);
  writeFileSync(files.namespace, NS);
});
afterAll(async () => {
  await wire?.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close?.()));
  wire?.heal();
  if (wire) wire.forbidden = [];
});

/** What a pod sees. */
const podEnv = () => ({
  KUBERNETES_SERVICE_HOST: '127.0.0.1',
  KUBERNETES_SERVICE_PORT: String(wire.port),
});

function make(options: K8sProviderOptions = {}) {
  const p = k8s({
    env: podEnv(),
    tokenFile: files.token,
    caFile: files.ca,
    namespaceFile: files.namespace,
    ...options,
  });
  open.push(p);
  return p;
}

let n = 0;
const fresh = (what: string) => `t${process.pid}-${n++}-${what}`;

async function caught(promise: Promise<unknown>): Promise<EnvmuxError> {
  try {
    await promise;
  } catch (error) {
    return toEnvmuxError(error);
  }
  throw new Error('expected a rejection');
}

const resolverFor = (p: ReturnType<typeof k8s>) =>
  createResolver({
    providers: [p],
    cache: false,
    audit: false,
    env: {},
    retry: { attempts: 2, minDelay: 1, maxDelay: 5 },
  });

const FAULT_FOR: Record<ConformanceFault, K8sFault> = {
  THROTTLED: 'throttle',
  ACCESS_DENIED: 'forbidden',
  AUTH_FAILED: 'unauthorized',
  UNAVAILABLE: 'unavailable',
  TIMEOUT: 'hang',
};

describe.skipIf(!!noTls)('k8s', () => {
  providerConformance(
    { describe, it, expect },
    {
      name: 'k8s, keys of a default Secret (in-cluster, wire server)',
      async create() {
        const secret = fresh('conf');
        return {
          provider: k8s({
            env: { ...podEnv(), K8S_SECRET_NAME: secret },
            tokenFile: files.token,
            caFile: files.ca,
            namespaceFile: files.namespace,
          }),
          seed: async (name, value) => wire.putKey(NS, secret, name, value),
          inject: (fault) => wire.inject(FAULT_FOR[fault]),
          heal: () => wire.heal(),
        };
      },
    },
  );

  describe('names and the field rule', () => {
    it('reads namespace/secret/key, namespace/secret and a Secret of the pod namespace', async () => {
      const secret = fresh('db');
      wire.put(NS, secret, { username: 'app', password: 'pw' });
      wire.put('other-ns', secret, { value: 'plain' });
      const p = make();
      expect(await p.get(`${NS}/${secret}/password`, {})).toBe('pw');
      expect(await p.get(`${NS}/${secret}/nope`, {})).toBeUndefined();
      const doc = (await p.get(secret, {}))!;
      expect(JSON.parse(doc)).toEqual({ username: 'app', password: 'pw' });
      expect(await p.get(`other-ns/${secret}`, {})).toBe('plain');
      expect(p.pick(doc, 'username', secret)).toBe('app');
      const many = await caught(Promise.resolve().then(() => p.pick(doc, undefined, secret)));
      expect(many.code).toBe('INVALID_REFERENCE');
      expect(many.message).toContain('username, password');
      expect(JSON.stringify(many)).not.toContain('"pw"');
      expect([
        p.isEntry(secret),
        p.isEntry(`${NS}/${secret}`),
        p.isEntry(`${NS}/${secret}/k`),
      ]).toEqual([true, true, false]);
      // A key's value is never unwrapped, even when it is a JSON object.
      expect(p.pick('{"a":"1","b":"2"}', undefined, `${NS}/${secret}/k`)).toBe('{"a":"1","b":"2"}');
      expect(p.pick('{"a":"1","b":"2"}', 'b', `${NS}/${secret}/k`)).toBe('2');
      const r = resolverFor(p);
      expect(await r.get(`${NS}/${secret}`, { field: 'password' })).toBe('pw');
      await r.close();
    });

    it('reads keys of K8S_SECRET_NAME in K8S_SECRET_NAMESPACE', async () => {
      wire.put('config-ns', 'app-env', { DB_PASSWORD: 'from-default-secret' });
      const p = make({
        env: { ...podEnv(), K8S_SECRET_NAME: 'app-env', K8S_SECRET_NAMESPACE: 'config-ns' },
      });
      expect(await p.get('DB_PASSWORD', {})).toBe('from-default-secret');
      expect(p.pick('x', undefined, 'DB_PASSWORD')).toBe('x');
      expect(p.isEntry('DB_PASSWORD')).toBe(false);
    });

    it('rejects names the API could not hold, and pinned versions', async () => {
      const p = make();
      for (const name of ['Upper/case', 'a/b/c/d', 'ns/bad_name', 'ns/s/bad key']) {
        expect((await caught(p.get(name, {}))).code).toBe('INVALID_REFERENCE');
      }
      expect((await caught(p.get('ns/s', { version: '3' }))).code).toBe('INVALID_REFERENCE');
      expect(await p.get('ns/s', { version: 'previous' })).toBeUndefined();
    });

    it('decodes UTF-8, and leaves other bytes base64 as stored', async () => {
      const secret = fresh('bytes');
      wire.putKey(NS, secret, 'text', 'ünï 🔑\nline two');
      wire.putKey(NS, secret, 'binary', Buffer.from([0xff, 0xfe, 0x00, 0x80]));
      const p = make();
      expect(await p.get(`${NS}/${secret}/text`, {})).toBe('ünï 🔑\nline two');
      expect(await p.get(`${NS}/${secret}/binary`, {})).toBe(
        Buffer.from([0xff, 0xfe, 0x00, 0x80]).toString('base64'),
      );
    });

    it('reads all keys of one Secret in one request (getMany)', async () => {
      const secret = fresh('batch');
      wire.put(NS, secret, { A: '1', B: '2', C: '3' });
      const p = make({ secret });
      const before = wire.count('GET', new RegExp(`/secrets/${secret}$`));
      const got = await p.getMany!(['A', 'B', 'missing', 'C'], {});
      expect(Object.fromEntries(got)).toEqual({ A: '1', B: '2', C: '3' });
      expect(wire.count('GET', new RegExp(`/secrets/${secret}$`)) - before).toBe(1);
    });
  });

  describe('writes', () => {
    it('creates the Secret, then merge-patches keys; never sends stringData', async () => {
      const secret = fresh('write');
      const p = make();
      await p.set!(`${NS}/${secret}/first`, 'one', { description: 'made by a test' });
      await p.set!(`${NS}/${secret}/second`, 'two', {});
      expect(wire.value(NS, secret, 'first')).toBe('one');
      expect(wire.value(NS, secret, 'second')).toBe('two');
      expect(wire.secret(NS, secret)!.annotations).toEqual({
        'envmux.dev/description': 'made by a test',
      });
      const patches = wire.requests.filter(
        (r) => r.method === 'PATCH' && r.path.endsWith(`/${secret}`),
      );
      expect(patches.every((r) => r.contentType === 'application/merge-patch+json')).toBe(true);
      expect(wire.count('POST', new RegExp(`/namespaces/${NS}/secrets$`))).toBeGreaterThanOrEqual(
        1,
      );
      await p.delete!(`${NS}/${secret}/first`, {});
      expect(Object.keys(wire.secret(NS, secret)!.data)).toEqual(['second']);
    });

    it('writes a whole Secret: a JSON object replaces its keys; delete removes it', async () => {
      const secret = fresh('whole');
      wire.put(NS, secret, { old: 'x', keep: 'y' });
      const p = make();
      await p.set!(`${NS}/${secret}`, '{"keep":"z","added":"w"}', {});
      expect(Object.keys(wire.secret(NS, secret)!.data).sort()).toEqual(['added', 'keep']);
      expect(wire.value(NS, secret, 'keep')).toBe('z');
      await p.delete!(`${NS}/${secret}`, {});
      expect(wire.secret(NS, secret)).toBeUndefined();
      await p.delete!(`${NS}/${secret}`, {});
    });

    it('lists Secrets of a namespace across pages, names only', async () => {
      const base = fresh('page');
      for (const i of [1, 2, 3, 4, 5]) wire.put('paged-ns', `${base}-${i}`, { value: `v${i}` });
      const p = make({ pageSize: 2 });
      const listed = await p.list!(`paged-ns/${base}-`, {});
      expect(listed.map((s) => s.name)).toEqual(
        [1, 2, 3, 4, 5].map((i) => `paged-ns/${base}-${i}`),
      );
      expect(JSON.stringify(listed)).not.toContain('v1');
      expect(
        wire.requests.filter((r) => r.path === '/api/v1/namespaces/paged-ns/secrets').length,
      ).toBe(3);
    });
  });

  describe('credentials and errors', () => {
    it('re-reads a rotated service-account token after a 401 (SESSION_EXPIRED, once)', async () => {
      const secret = fresh('rotate');
      wire.put(NS, secret, { value: 'r' });
      const tokenFile = join(dir, 'rotating-token');
      writeFileSync(tokenFile, wire.token);
      const p = make({ tokenFile });
      const r = resolverFor(p);
      expect(await r.get(`${NS}/${secret}`)).toBe('r');
      const original = wire.tokens;
      const refusedBefore = wire.requests.filter((q) => !q.authorized).length;
      try {
        const rotated = 'sa-token-rotated';
        wire.tokens = new Set([rotated]);
        writeFileSync(tokenFile, rotated);
        expect(await r.get(`${NS}/${secret}`)).toBe('r');
        expect(wire.requests.filter((q) => !q.authorized).length - refusedBefore).toBe(1);
        // Refused again with the fresh token: AUTH_FAILED, after one re-read, not a loop.
        writeFileSync(tokenFile, 'sa-token-revoked');
        wire.tokens = new Set(['something-else']);
        const error = await caught(r.get(`${NS}/${secret}`));
        expect(error.code).toBe('AUTH_FAILED');
        expect(wire.requests.filter((q) => !q.authorized).length - refusedBefore).toBe(3);
      } finally {
        wire.tokens = original;
        await r.close();
      }
    });

    it('names the RBAC verb and namespace of a denial, and maps 429 to THROTTLED', async () => {
      const p = make();
      wire.forbidden = [/^locked\//];
      const denied = await caught(p.get('locked/creds', {}));
      expect(denied.code).toBe('ACCESS_DENIED');
      expect(denied.hint).toContain('"get" on secrets in namespace "locked"');
      wire.inject('throttle');
      const throttled = await caught(p.get('any/thing', {}));
      expect([throttled.code, throttled.retryable]).toEqual(['THROTTLED', true]);
    });

    it('refuses an API server certificate its CA file did not sign', async () => {
      const other = makeLoopbackCertificate() as { cert: string };
      const caFile = join(dir, 'other-ca.crt');
      writeFileSync(caFile, other.cert);
      const error = await caught(make({ caFile }).get('ns/s', {}));
      expect([error.code, error.retryable]).toEqual(['CONFIG', false]);
      expect(error.message).toMatch(/certificate was not trusted/);
    });

    it('is detected from KUBERNETES_SERVICE_HOST and built from the environment', async () => {
      expect(detectChain({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }).map((d) => d.type)).toContain(
        'k8s',
      );
      // Not in a pod (no token file at the default path): the kubeconfig, which does not exist here.
      const p = await buildProvider('k8s', { KUBECONFIG: join(dir, 'no-kubeconfig'), HOME: dir });
      open.push(p);
      expect((await caught(p.get('ns/s', {}))).code).toBe('CONFIG');
    });

    it('reads through a kubeconfig (real @kubernetes/client-node KubeConfig): server, CA, token, namespace', async () => {
      const secret = fresh('kubeconfig');
      wire.put('ctx-ns', secret, { value: 'via-kubeconfig' });
      const kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(
        kubeconfig,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters:',
          '- name: wire',
          '  cluster:',
          `    server: ${wire.url}`,
          `    certificate-authority-data: ${Buffer.from((cert as { cert: string }).cert).toString('base64')}`,
          'users:',
          '- name: tester',
          '  user:',
          `    token: ${wire.token}`,
          'contexts:',
          '- name: test',
          '  context:',
          '    cluster: wire',
          '    user: tester',
          '    namespace: ctx-ns',
          'current-context: test',
          '',
        ].join('\n'),
      );
      const p = k8s({ env: { KUBECONFIG: kubeconfig } });
      open.push(p);
      expect(await p.get(secret, {})).toBe('via-kubeconfig');
    });
  });
});
