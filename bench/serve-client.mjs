// The load generator of bench/serve.bench.mjs, run as its own process: an open-loop schedule of GETs
// (request i is due at start + i/RATE), latency measured from the due time, so queueing counts.
// argv: url token rate count warmup timeoutMs. Prints one JSON line; talks to its parent over IPC.

import http from 'node:http';

const [url, token, rateText, countText, warmupText, timeoutText] = process.argv.slice(2);
const RATE = Number(rateText);
const COUNT = Number(countText);
const WARMUP = Number(warmupText);
const TIMEOUT_MS = Number(timeoutText);
const target = new URL(`${url}/v1/secrets/db`);
const agent = new http.Agent({ keepAlive: true, maxSockets: 32, scheduling: 'lifo' });
const options = {
  agent,
  host: target.hostname,
  port: target.port,
  path: target.pathname,
  headers: { authorization: `Bearer ${token}` },
};
const now = () => process.hrtime.bigint();

/**
 * Send `count` requests at RATE from now on; `onDone(i, latencyNs, ok)` per answer, `lags[i]` the ms
 * request i went out after its due time. Resolves when
 * every request answered or failed, or after TIMEOUT_MS (the rest count as unanswered).
 */
function run(count, onDone, lags) {
  return new Promise((resolveRun) => {
    const period = BigInt(Math.round(1e9 / RATE));
    const start = now();
    let sent = 0;
    let answered = 0;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      resolveRun({ sent, answered, start, end: now() });
    };
    const deadline = setTimeout(finish, TIMEOUT_MS);
    const send = (i, due) => {
      const req = http.get(options, (res) => {
        res.resume();
        res.on('end', () => {
          if (finished) return;
          onDone(i, now() - due, res.statusCode === 200);
          if (++answered === count) finish();
        });
      });
      req.on('error', () => {
        if (finished) return;
        onDone(i, now() - due, false);
        if (++answered === count) finish();
      });
    };
    const pump = () => {
      if (finished) return;
      const t = now();
      // Everything due by now goes out now, each timed from its own due time.
      while (sent < count && start + BigInt(sent) * period <= t) {
        const due = start + BigInt(sent) * period;
        if (lags) lags[sent] = Number(now() - due) / 1e6;
        send(sent, due);
        sent++;
      }
      if (sent >= count) return;
      const waitMs = Number(start + BigInt(sent) * period - now()) / 1e6;
      if (waitMs > 1.5) setTimeout(pump, Math.floor(waitMs - 0.5));
      else setImmediate(pump);
    };
    pump();
  });
}

const send = (message) => process.send?.(message);

await run(WARMUP, () => {});
send({ phase: 'measure' });
const latencies = new Float64Array(COUNT).fill(Number.NaN);
let errors = 0;
const cpu0 = process.cpuUsage();
// How late the generator itself sent each request (its own share of the latency on a busy machine).
const lags = new Float64Array(COUNT);
const result = await run(
  COUNT,
  (i, ns, ok) => {
    if (ok) latencies[i] = Number(ns) / 1e6;
    else errors++;
  },
  lags,
);
const cpu = process.cpuUsage(cpu0);
send({ phase: 'done' });
const ok = Array.from(latencies.filter((x) => !Number.isNaN(x))).sort((a, b) => a - b);
const q = (p) => ok[Math.min(ok.length - 1, Math.floor(p * ok.length))] ?? Number.NaN;
const seconds = Number(result.end - result.start) / 1e9;
console.log(
  JSON.stringify({
    rate: RATE,
    count: COUNT,
    sent: result.sent,
    ok: ok.length,
    errors,
    unanswered: COUNT - ok.length - errors,
    seconds,
    achieved: ok.length / seconds,
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    max: ok[ok.length - 1] ?? Number.NaN,
    sendLagP99: Array.from(lags).sort((a, b) => a - b)[Math.floor(0.99 * COUNT)] ?? Number.NaN,
    clientCpuUsPerRequest: (cpu.user + cpu.system) / COUNT,
  }),
);
agent.destroy();
process.disconnect?.();
