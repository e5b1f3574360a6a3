/**
 * autocannon (https://github.com/mcollina/autocannon) driven from code: POSTs of one body over
 * keep-alive connections for some seconds. Its own latency histogram keeps whole milliseconds,
 * too coarse for a difference of one, so every answer's time (hrtime, in ms) is taken from its
 * `response` event and the percentiles are computed here.
 */
import type { EventEmitter } from 'node:events';
import { percentile, round } from './stats';
import type { LatencyRun } from './functions-report';

/** The part of autocannon's options used here. */
interface AutocannonOptions {
  url: string; method: 'POST'; body: string; headers: Record<string, string>;
  connections: number; duration: number; pipelining: number; timeout: number;
}

/** The part of autocannon's result used here. */
interface AutocannonResult { errors: number; timeouts: number; duration: number }

/** What autocannon returns: an emitter of every answer that also settles with the result. */
type Tracker = EventEmitter & PromiseLike<AutocannonResult>;

// eslint-disable-next-line @typescript-eslint/no-require-imports -- autocannon ships no types; the two shapes used are above
const autocannon = require('autocannon') as (opts: AutocannonOptions) => Tracker;

/** One load run: its figures and every answered call's time in ms. */
export interface LoadRecord { run: LatencyRun; times: number[] }

/**
 * Sends `body` to `url` over `connections` keep-alive connections for `seconds`; a call answered
 * with anything but 200, a socket error or a timeout (10 s) counts as an error.
 */
export async function loadFor(url: string, body: string, connections: number, seconds: number): Promise<LoadRecord> {
  const times: number[] = [];
  let non200 = 0;
  const t0 = performance.now();
  const tracker = autocannon({
    url, method: 'POST', body, headers: { 'content-type': 'application/json' }, connections, duration: seconds, pipelining: 1, timeout: 10,
  });
  tracker.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status === 200) times.push(ms);
    else non200++;
  });
  const res = await tracker;
  const elapsed = (performance.now() - t0) / 1000;
  return { times, run: runOf(times, non200 + res.errors + res.timeouts, elapsed) };
}

/** A run's figures from its answers' times. */
export function runOf(times: number[], errors: number, seconds: number): LatencyRun {
  return { requests: times.length, errors, seconds: round(seconds, 3), p50: round(percentile(times, 50), 3), p99: round(percentile(times, 99), 3) };
}

/**
 * Several runs at once (the load split over several targets), merged: requests and errors summed,
 * percentiles over every answer, seconds the longest run's.
 */
export async function loadSplit(urls: string[], body: string, connections: number, seconds: number): Promise<LoadRecord> {
  const per = urls.map((_, i) => Math.floor(connections / urls.length) + (i < connections % urls.length ? 1 : 0));
  const recs = await Promise.all(urls.map((u, i) => loadFor(u, body, Math.max(1, per[i]), seconds)));
  const times = recs.flatMap((r) => r.times);
  return { times, run: runOf(times, recs.reduce((n, r) => n + r.run.errors, 0), Math.max(...recs.map((r) => r.run.seconds))) };
}
