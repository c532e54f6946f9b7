// The `envmux serve` metrics: counters fed by the resolver's `onMetric` events, rendered as
// Prometheus text (cache hits, misses, stale serves, provider latency and errors, breaker state).

import type { BreakerState } from '../resolver/breaker.js';
import type { ResolverMetric } from '../resolver/metrics.js';

/** Upper bounds (seconds) of the provider latency histogram. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const BREAKER_VALUE: Record<BreakerState['state'], number> = {
  closed: 0,
  'half-open': 1,
  open: 2,
};

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

/** Counters of one server; `observe` is its resolver's `onMetric`. */
export class ServeMetrics {
  private readonly cache = { hit: 0, miss: 0, stale: 0, bypass: 0 };
  private readonly latency = new Map<string, Histogram>();
  private readonly errors = new Map<string, number>();
  /** Requests by route and status; the labels are written by `render`, not per request. */
  private readonly requests = new Map<string, { route: string; status: number; count: number }>();

  /** Count one resolver event. */
  readonly observe = (metric: ResolverMetric): void => {
    if (metric.type === 'cache') this.cache[metric.outcome]++;
    else if (metric.type === 'provider-call') {
      let h = this.latency.get(metric.provider);
      if (!h) {
        h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
        this.latency.set(metric.provider, h);
      }
      const seconds = metric.durationMs / 1000;
      BUCKETS.forEach((bound, i) => {
        if (seconds <= bound) h.counts[i]!++;
      });
      h.sum += seconds;
      h.count++;
      if (metric.outcome !== 'ok')
        bump(this.errors, labels({ provider: metric.provider, code: metric.outcome }));
    }
  };

  /** Count one HTTP request by route and status. */
  request(route: string, status: number): void {
    const key = `${route} ${status}`;
    const row = this.requests.get(key);
    if (row) row.count++;
    else this.requests.set(key, { route, status, count: 1 });
  }

  /** The Prometheus text exposition (version 0.0.4). */
  render(breakers: BreakerState[]): string {
    const out: string[] = [];
    const counter = (name: string, help: string, rows: Array<[string, number]>) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [l, v] of rows) out.push(`${name}${l} ${v}`);
    };
    counter('envmux_cache_hits_total', 'Lookups a cache tier answered.', [['', this.cache.hit]]);
    counter('envmux_cache_misses_total', 'Lookups no cache tier answered.', [
      ['', this.cache.miss],
    ]);
    counter('envmux_cache_stale_total', 'Expired entries served while their provider was down.', [
      ['', this.cache.stale],
    ]);
    counter('envmux_provider_errors_total', 'Provider calls that failed, by error code.', [
      ...this.errors,
    ]);
    out.push(
      '# HELP envmux_provider_call_duration_seconds Provider call latency, retries included.',
      '# TYPE envmux_provider_call_duration_seconds histogram',
    );
    for (const [provider, h] of this.latency) {
      BUCKETS.forEach((bound, i) => {
        out.push(
          `envmux_provider_call_duration_seconds_bucket${labels({ provider, le: String(bound) })} ${h.counts[i]}`,
        );
      });
      out.push(
        `envmux_provider_call_duration_seconds_bucket${labels({ provider, le: '+Inf' })} ${h.count}`,
        `envmux_provider_call_duration_seconds_sum${labels({ provider })} ${h.sum}`,
        `envmux_provider_call_duration_seconds_count${labels({ provider })} ${h.count}`,
      );
    }
    out.push(
      '# HELP envmux_breaker_state Circuit breaker per provider: 0 closed, 1 half-open, 2 open.',
      '# TYPE envmux_breaker_state gauge',
    );
    for (const b of breakers) {
      out.push(`envmux_breaker_state${labels({ provider: b.provider })} ${BREAKER_VALUE[b.state]}`);
    }
    counter(
      'envmux_serve_requests_total',
      'HTTP requests by route and status.',
      [...this.requests.values()].map((r) => [
        labels({ route: r.route, status: String(r.status) }),
        r.count,
      ]),
    );
    return `${out.join('\n')}\n`;
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** `{a="x",b="y"}` with Prometheus label escaping. */
function labels(values: Record<string, string>): string {
  const body = Object.entries(values)
    .map(
      ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
    )
    .join(',');
  return `{${body}}`;
}
