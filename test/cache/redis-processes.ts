// Processes sharing one Redis tier, for tests and the bench: an HTTP store that counts every read it
// serves (the count is real across processes), and child processes driving a resolver over stdin.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * A store over HTTP: `GET /name` (404 when absent), `PUT /name`; counts the GETs it answers except
 * `/-warm` (a child's first request, which loads its HTTP client).
 */
export interface CountingStore {
  url: string;
  values: Map<string, string>;
  reads(): number;
  close(): Promise<void>;
}

export async function countingStore(values: Record<string, string>): Promise<CountingStore> {
  const map = new Map(Object.entries(values));
  let reads = 0;
  const server: Server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    if (req.method === 'PUT') {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        map.set(name, body);
        res.end();
      });
      return;
    }
    if (name !== '-warm') reads++;
    const value = map.get(name);
    res.statusCode = value === undefined ? 404 : 200;
    res.end(value ?? '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    values: map,
    reads: () => reads,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The child's program: one resolver over the counting store and the Redis tier, driven by lines. */
const CHILD = `
import { createInterface } from 'node:readline';
import { createResolver, defineProvider } from './envmux.mjs';
const [storeUrl, redisUrl, key, ttl] = process.argv.slice(2);
const store = defineProvider({
  id: 'http',
  identity: 'http|' + storeUrl,
  async get(name) {
    const res = await fetch(storeUrl + '/' + encodeURIComponent(name));
    const text = await res.text();
    return res.status === 404 ? undefined : text;
  },
  async set(name, value) {
    await fetch(storeUrl + '/' + encodeURIComponent(name), { method: 'PUT', body: value });
    return {};
  },
});
// CHILD_OPTIONS: resolver options (e.g. longer timeouts on a loaded machine), redis ones merged.
const extra = JSON.parse(process.env.CHILD_OPTIONS ?? '{}');
const resolver = createResolver({
  ...extra,
  providers: [store],
  cache: { ttl: Number(ttl), redis: { url: redisUrl, key, ...extra.redis } },
  audit: false,
});
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
out({ ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, ...args] = line.split(' ');
  try {
    if (cmd === 'warm') {
      // Load the HTTP client and connect Redis now, so a timed or counted run measures neither.
      await (await fetch(storeUrl + '/-warm')).text();
      out({ ok: (await resolver.health()).every((row) => row.ok) });
    } else if (cmd === 'get') out({ value: await resolver.get(args[0]) });
    else if (cmd === 'rotate') {
      await resolver.rotate(args[0], { generate: () => args[1] });
      out({ ok: true });
    } else if (cmd === 'load') {
      // rounds × keys: each round resolves every key k0..k(keys-1) at once.
      const [rounds, keys] = args.map(Number);
      let errors = 0;
      const codes = new Set();
      const started = performance.now();
      for (let i = 0; i < rounds; i++) {
        await Promise.all(
          Array.from({ length: keys }, (_, k) =>
            resolver.get('k' + k).then(
              (v) => { if (v !== 'value-k' + k) errors++; },
              (e) => { errors++; codes.add(e.code); },
            ),
          ),
        );
      }
      out({ errors, codes: [...codes], ms: performance.now() - started });
    } else if (cmd === 'close') {
      await resolver.close();
      out({ ok: true });
    }
  } catch (error) {
    out({ error: error.code ?? 'ERROR' });
  }
}
`;

/** Bundle src (dependencies left to node_modules) and write the child program; returns its path. */
export async function buildChild(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'envmux-redis-procs-'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  const { build } = await import('rolldown');
  await build({
    input: join(root, 'src/index.ts'),
    platform: 'node',
    logLevel: 'silent',
    external: (id) => !id.startsWith('.') && !isAbsolute(id),
    output: { file: join(dir, 'envmux.mjs'), format: 'esm', codeSplitting: false },
  });
  writeFileSync(join(dir, 'child.mjs'), CHILD);
  return join(dir, 'child.mjs');
}

/** One child: send a command line, await its JSON answer. */
export interface Child {
  process: ChildProcess;
  send(line: string): Promise<Record<string, unknown>>;
  /** End its stdin (nothing else should keep it alive) and resolve with the ms it took to exit. */
  end(): Promise<number>;
}

export async function startChild(
  program: string,
  args: { store: string; redis: string; key: string; ttl: number; options?: object },
): Promise<Child> {
  const child = spawn(
    process.execPath,
    [program, args.store, args.redis, args.key, String(args.ttl)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      cwd: dirname(program),
      env: { ...process.env, CHILD_OPTIONS: JSON.stringify(args.options ?? {}) },
    },
  );
  const answers: ((o: Record<string, unknown>) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    answers.shift()?.(JSON.parse(line) as Record<string, unknown>);
  });
  const next = () => new Promise<Record<string, unknown>>((r) => answers.push(r));
  await next(); // ready
  return {
    process: child,
    send(line) {
      const answer = next();
      child.stdin!.write(`${line}\n`);
      return answer;
    },
    end() {
      const started = performance.now();
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(0);
        child.once('exit', () => resolve(performance.now() - started));
        child.stdin!.end();
      });
    },
  };
}
