// `envmux serve`'s handler over a real loopback socket: tokens (401s audited), GET/POST round trips,
// fail-closed /v1/resolve, bounded bodies, read-only by default, metrics, and load from another process.

import { spawn } from 'node:child_process';
import { get } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { memory } from '../../src/providers/memory.js';
import { createResolver } from '../../src/resolver/client.js';
import { ServeMetrics } from '../../src/serve/prometheus.js';
import {
  parseTarget,
  type RunningServer,
  sharedDeadline,
  startServer,
} from '../../src/serve/server.js';

const TOKEN = 'reader-token-0123456789abcdef';
const ADMIN = 'admin-token-0123456789abcdef';
const DB = 'p@ss$word-db-7e1';
const running: RunningServer[] = [];

async function serve(options: { admin?: boolean } = {}) {
  const audit = new AuditLog();
  const metrics = new ServeMetrics();
  const store = memory({
    values: { db: ['old-db-value-11', DB], json: '{"user":"u1","pass":"pw-json-22"}' },
  });
  const resolver = createResolver({
    providers: [store],
    audit: { log: audit, source: 'sidecar' },
    onMetric: metrics.observe,
  });
  const server = await startServer({
    resolver,
    audit,
    token: TOKEN,
    ...(options.admin ? { adminToken: ADMIN } : {}),
    metrics,
  });
  running.push(server);
  const request = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const headers = new Headers(init.headers);
    if (init.token !== null) headers.set('authorization', `Bearer ${init.token ?? TOKEN}`);
    return fetch(`${server.url}${path}`, { ...init, headers });
  };
  return { server, audit, store, request };
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

describe('envmux serve: tokens', () => {
  it('401 without a token and with a wrong one; both audited with source sidecar, without the token', async () => {
    const { request, audit } = await serve();
    const none = await request('/v1/secrets/db', { token: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/Bearer/);
    const wrong = await request('/v1/secrets/db', { token: 'not-the-token-at-all-xx' });
    expect(wrong.status).toBe(401);
    const text = await wrong.text();
    expect(text).not.toContain(DB);
    const denied = audit.query({ action: 'auth', outcome: 'error' });
    expect(denied).toHaveLength(2);
    expect(denied.every((e) => e.source === 'sidecar' && e.code === 'AUTH_FAILED')).toBe(true);
    expect(JSON.stringify(audit.query())).not.toContain('not-the-token');
    expect(audit.query({ action: 'get' })).toHaveLength(0);
  });
});

describe('envmux serve: reads', () => {
  it('GET /v1/secrets/NAME with version and field', async () => {
    const { request, audit } = await serve();
    const res = await request('/v1/secrets/db');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ name: 'db', value: DB });
    expect(await (await request('/v1/secrets/db?version=previous')).json()).toMatchObject({
      value: 'old-db-value-11',
    });
    expect(await (await request('/v1/secrets/json?field=pass')).json()).toMatchObject({
      value: 'pw-json-22',
    });
    const missing = await request('/v1/secrets/nope');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    const gets = audit.query({ action: 'get' });
    expect(gets.length).toBeGreaterThan(0);
    expect(gets.every((e) => e.source === 'sidecar')).toBe(true);
    expect(JSON.stringify(audit.query())).not.toContain(DB);
  });

  it('POST /v1/resolve answers a whole env file, and fails closed with 422 and no values', async () => {
    const { request } = await serve();
    const ok = await request('/v1/resolve', {
      method: 'POST',
      body: 'DB_PASSWORD=$<secret:db>\nUSER=$<secret:json#user>\nPLAIN=x\n',
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ values: { DB_PASSWORD: DB, USER: 'u1', PLAIN: 'x' } });
    const bad = await request('/v1/resolve', {
      method: 'POST',
      body: 'DB_PASSWORD=$<secret:db>\nMISSING=$<secret:nope>\nHOME2=$<env:HOME>\n',
    });
    expect(bad.status).toBe(422);
    const body = (await bad.json()) as { values?: unknown; problems: { key: string }[] };
    expect(body.values).toBeUndefined();
    expect(body.problems.map((p: { key: string }) => p.key).sort()).toEqual(['HOME2', 'MISSING']);
    expect(JSON.stringify(body)).not.toContain(DB);
  });

  it('a body over 1 MiB gets 413', async () => {
    const { request } = await serve();
    const res = await request('/v1/resolve', { method: 'POST', body: 'A=1\n'.repeat(300_000) });
    expect(res.status).toBe(413);
  });

  it('health and Prometheus metrics (hits, misses, provider latency, breaker state)', async () => {
    const { request } = await serve();
    await request('/v1/secrets/db');
    await request('/v1/secrets/db');
    expect((await request('/v1/health')).status).toBe(200);
    const text = await (await request('/v1/metrics')).text();
    expect(text).toMatch(/^envmux_cache_hits_total 1$/m);
    expect(text).toMatch(/^envmux_cache_misses_total 1$/m);
    expect(text).toMatch(/^envmux_cache_stale_total 0$/m);
    expect(text).toMatch(/envmux_provider_call_duration_seconds_count\{provider="memory"\} [12]$/m);
    expect(text).toMatch(/envmux_breaker_state\{provider="memory"\} 0/);
    expect(text).toMatch(/^envmux_serve_requests_total\{route="get",status="200"\} 2$/m);
    expect(text).toMatch(/^envmux_serve_requests_total\{route="health",status="200"\} 1$/m);
    expect(text).not.toContain(DB);
  });
});

describe('envmux serve: writes', () => {
  it('read-only by default: PUT, DELETE and rotate get 405', async () => {
    const { request, store } = await serve();
    const put = await request('/v1/secrets/db', {
      method: 'PUT',
      body: '{"value":"new-value-1234"}',
    });
    expect(put.status).toBe(405);
    expect((await request('/v1/secrets/db', { method: 'DELETE' })).status).toBe(405);
    expect((await request('/v1/rotate/db', { method: 'POST' })).status).toBe(405);
    expect(store.calls.set + store.calls.delete).toBe(0);
  });

  it('with writes enabled, the admin token is required as well', async () => {
    const { request, audit } = await serve({ admin: true });
    const noAdmin = await request('/v1/secrets/db', {
      method: 'PUT',
      body: '{"value":"new-value-1234"}',
    });
    expect(noAdmin.status).toBe(403);
    const put = await request('/v1/secrets/db', {
      method: 'PUT',
      body: '{"value":"new-value-1234"}',
      headers: { 'x-envmux-admin-token': `Bearer ${ADMIN}` },
    });
    expect(put.status).toBe(200);
    expect(await (await request('/v1/secrets/db')).json()).toMatchObject({
      value: 'new-value-1234',
    });
    const rotated = await request('/v1/rotate/db', {
      method: 'POST',
      headers: { 'x-envmux-admin-token': `Bearer ${ADMIN}` },
    });
    expect(rotated.status).toBe(200);
    const after = ((await (await request('/v1/secrets/db')).json()) as { value: string }).value;
    expect(after).not.toBe('new-value-1234');
    expect(JSON.stringify(await rotated.clone().text())).not.toContain(after);
    expect(audit.query({ action: ['set', 'rotate'] }).every((e) => e.source === 'sidecar')).toBe(
      true,
    );
    expect(JSON.stringify(audit.query())).not.toContain('new-value-1234');
  });
});

describe('envmux serve: load from a second process', () => {
  it('1,000 keep-alive GETs from another process all succeed', async () => {
    const { server } = await serve();
    const script = `
      const http = require('node:http');
      const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
      let ok = 0, bad = 0, left = 1000;
      const one = () => new Promise((resolve) => {
        const req = http.get(process.argv[1] + '/v1/secrets/db', { agent, headers: { authorization: 'Bearer ${TOKEN}' } }, (res) => {
          res.resume(); res.on('end', () => { res.statusCode === 200 ? ok++ : bad++; resolve(); });
        });
        req.on('error', () => { bad++; resolve(); });
      });
      (async () => {
        await Promise.all(Array.from({ length: 8 }, async () => { while (left-- > 0) await one(); }));
        console.log(JSON.stringify({ ok, bad }));
        agent.destroy();
      })();`;
    const child = spawn(process.execPath, ['-e', script, server.url], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ ok: 1000, bad: 0 });
  }, 60_000);
});

describe('envmux serve: request targets and deadlines', () => {
  it('parseTarget gives the path and query new URL gives, dot segments and odd targets included', () => {
    for (const target of [
      '/v1/secrets/db',
      '/v1/secrets/prod/db?version=previous&field=pass',
      '/v1/secrets/a%20b?field=x%26y',
      '/v1/secrets/app.config',
      '/v1/secrets/../health',
      '/v1/secrets/%2e%2e/health',
      '/v1/secrets/./db',
      '//evil/v1/secrets/db',
      '/v1\\secrets\\db',
      '/v1/secrets/db#frag',
      '/v1/secrets/ünï',
      '/',
    ]) {
      const url = new URL(target, 'http://localhost');
      const parsed = parseTarget(target);
      expect(parsed.path, target).toBe(url.pathname);
      expect(parsed.query?.toString() ?? '', target).toBe(url.searchParams.toString());
    }
    expect(parseTarget(undefined).path).toBe('/');
  });

  it('a dot segment sent raw is resolved before routing, as before', async () => {
    const { server } = await serve();
    // fetch() would normalise the path itself: send the target as it is.
    const body = await new Promise<string>((resolve, reject) => {
      const req = get(
        {
          host: '127.0.0.1',
          port: server.port,
          path: '/v1/secrets/nope/%2e%2e/db',
          headers: { authorization: `Bearer ${TOKEN}` },
        },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
    });
    expect(JSON.parse(body)).toEqual({ name: 'db', value: DB });
  });

  it('sharedDeadline hands one signal to the requests of a window, a fresh one after it', async () => {
    const shared = sharedDeadline(15_000, 10_000);
    const a = shared();
    expect(shared()).toBe(a);
    expect(a.aborted).toBe(false);
    const fresh = sharedDeadline(15_000, 0);
    const b = fresh();
    await new Promise((r) => setTimeout(r, 2));
    expect(fresh()).not.toBe(b);
    const short = sharedDeadline(5, 0)();
    await new Promise((r) => setTimeout(r, 30));
    expect(short.aborted).toBe(true);
  });
});
