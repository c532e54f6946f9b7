// `envmux serve` from the packed package: a token generated 0600 at start, 401s audited with source
// sidecar, GET and POST /v1/resolve round trips, no value or token on stderr, SIGTERM closes it.

import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { Agent, get as httpGet } from 'node:http';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { cleanEnv, makeCase, nodeBin } from './consumer.js';

const SECRET = 'serve-e2e-secret-v4lue';

describe('envmux serve (packed)', () => {
  it('serves with a generated token, audits 401s, never logs a value, stops on SIGTERM', async () => {
    const dir = makeCase({ 'secrets/db': SECRET, 'secrets/api': 'api-e2e-value-77' });
    const cli = join(inject('consumerDir'), 'node_modules/envmux/dist/cli.cjs');
    const child = spawn(
      nodeBin,
      [cli, 'serve', '--port', '0', '--provider', 'file', '--audit-file', 'audit.jsonl'],
      { cwd: dir, env: cleanEnv({ ENVMUX_FILE_DIR: join(dir, 'secrets') }) },
    );
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        const m = /listening on (http:\/\/\S+)/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
    });
    const tokenFile = join(dir, '.envmux', 'serve.token');
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, 'utf8').trim();
    const auth = { authorization: `Bearer ${token}` };

    expect((await fetch(`${url}/v1/secrets/db`)).status).toBe(401);
    expect(
      (
        await fetch(`${url}/v1/secrets/db`, {
          headers: { authorization: 'Bearer wrong-token-123456789' },
        })
      ).status,
    ).toBe(401);
    const got = await fetch(`${url}/v1/secrets/db`, { headers: auth });
    expect(await got.json()).toEqual({ name: 'db', value: SECRET });
    const resolved = await fetch(`${url}/v1/resolve`, {
      method: 'POST',
      headers: auth,
      body: 'DB=$<secret:db>\nAPI=$<file:api>\n',
    });
    expect(await resolved.json()).toEqual({ values: { DB: SECRET, API: 'api-e2e-value-77' } });
    const failed = await fetch(`${url}/v1/resolve`, {
      method: 'POST',
      headers: auth,
      body: 'DB=$<secret:db>\nNOPE=$<secret:nope>\n',
    });
    expect(failed.status).toBe(422);
    expect(await failed.text()).not.toContain(SECRET);
    expect((await fetch(`${url}/v1/secrets/db`, { method: 'DELETE', headers: auth })).status).toBe(
      405,
    );

    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).not.toContain(SECRET);
    expect(stderr).not.toContain(token);
    const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; source: string; code?: string });
    expect(audit.filter((e) => e.action === 'auth' && e.code === 'AUTH_FAILED')).toHaveLength(2);
    expect(audit.filter((e) => e.action === 'auth' && e.code === 'ACCESS_DENIED')).toHaveLength(1);
    expect(audit.every((e) => e.source === 'sidecar')).toBe(true);
    const auditText = readFileSync(join(dir, 'audit.jsonl'), 'utf8');
    expect(auditText).not.toContain(SECRET);
    expect(auditText).not.toContain(token);
  }, 60_000);

  it('a SIGTERM under load loses no audit entry: every answered GET is in the file, no value', async () => {
    const dir = makeCase({ 'secrets/db': SECRET });
    const cli = join(inject('consumerDir'), 'node_modules/envmux/dist/cli.cjs');
    const token = 'load-token-0123456789abcdefghij';
    const child = spawn(
      nodeBin,
      [cli, 'serve', '--port', '0', '--provider', 'file', '--audit-file', 'audit.jsonl'],
      {
        cwd: dir,
        env: cleanEnv({ ENVMUX_FILE_DIR: join(dir, 'secrets'), ENVMUX_SERVE_TOKEN: token }),
      },
    );
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        const m = /listening on (http:\/\/\S+)/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // 8 keep-alive loops of GETs; SIGTERM once 600 answered, while the loops still send.
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    let ok = 0;
    let stopped = false;
    const one = () =>
      new Promise<boolean>((resolve) => {
        const req = httpGet(
          `${url}/v1/secrets/db`,
          { agent, headers: { authorization: `Bearer ${token}` } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode === 200));
          },
        );
        req.on('error', () => resolve(false));
      });
    const loops = Array.from({ length: 8 }, async () => {
      while (!stopped) {
        if (await one()) ok++;
        else stopped = true;
        if (ok === 600) child.kill('SIGTERM');
      }
    });
    await Promise.all(loops);
    agent.destroy();
    expect(await exited).toBe(0);
    expect(ok).toBeGreaterThanOrEqual(600);
    const text = readFileSync(join(dir, 'audit.jsonl'), 'utf8');
    const gets = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; source: string })
      .filter((e) => e.action === 'get');
    // Every answered GET was audited (one the server read but could not answer is audited too).
    expect(gets.length).toBeGreaterThanOrEqual(ok);
    expect(gets.length).toBeLessThanOrEqual(ok + 8);
    expect(gets.every((e) => e.source === 'sidecar')).toBe(true);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(token);
    expect(stderr).not.toContain(SECRET);
  }, 60_000);
});
