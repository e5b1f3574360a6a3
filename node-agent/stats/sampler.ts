/**
 * The stats sampler: every interval it reads CRI's container stats and the machine, builds a
 * NodeUsageReport (report.ts) and publishes it on `mk.stats.<node>` with core NATS (no reply, no
 * JetStream: a lost report is replaced by the next one). It never throws into the agent: a CRI
 * call that fails skips the round (and the rates restart from the next two), a bus that is down
 * skips the publish.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { encode } from '../../bus/core-client';
import { parseDuration } from '../../messages/duration';
import { ValidationError } from '../../messages/errors';
import { cpuMillis, memoryBytes } from '../../messages/quantity';
import { statsSubject, type NodeUsageReport } from '../../messages/usage';
import type { NodeStatus } from '../../messages';
import type { CriClient } from '../cri';
import { log } from '../log';
import { UsageGauges } from './gauges';
import { machineCpuRate, readMachine, type CpuTimes } from './machine';
import { RateTracker } from './rates';
import { buildReport } from './report';

/** How often a node samples and reports, unless told (the kubelet's housekeeping is 10 s). */
export const DEFAULT_STATS_INTERVAL_MS = 5_000;

/** What the sampler needs. */
export interface StatsSamplerOptions {
  nodeName: string;
  cri: Pick<CriClient, 'listContainerStats' | 'listContainers'>;
  /** The Node's status as registered: its capacity gives the percentages. */
  capacity: NodeStatus;
  /** Sends one report (the agent: a core NATS publish on statsSubject). Must not block. */
  publish(report: NodeUsageReport): void;
  /** False while the bus is down: the round is sampled (rates go on) but not published. */
  connected(): boolean;
  /** Between rounds (default DEFAULT_STATS_INTERVAL_MS). */
  intervalMs?: number;
  /** The machine's readings (default /proc); tests pass their own. */
  readMachine?: typeof readMachine;
  /** Update the prom-client gauges (default true). */
  gauges?: boolean;
}

/** A running sampler. */
export interface StatsSampler {
  /** One round now (tests); resolves with the report it built, if it built one. */
  sample(): Promise<NodeUsageReport | undefined>;
  /** Stops the timer and waits for a round in progress; removes the gauges' series. */
  stop(): Promise<void>;
}

/**
 * A stats interval as written in a flag or MK_STATS_INTERVAL (`5s`, `500ms`; a bare number is
 * seconds). Throws ValidationError naming `what` when it is not a duration of at least 100 ms.
 */
export function parseStatsInterval(text: string, what: string): number {
  const ms = parseDuration(text, what);
  if (ms < 100) throw new ValidationError(`${what}: "${text}" is too short (at least 100ms)`);
  return ms;
}

/** The interval from `MK_STATS_INTERVAL`, else the default; throws naming the variable when wrong. */
export function statsIntervalFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MK_STATS_INTERVAL?.trim();
  return raw ? parseStatsInterval(raw, 'MK_STATS_INTERVAL') : DEFAULT_STATS_INTERVAL_MS;
}

/** The capacity of a Node's status in raw numbers. */
export function rawCapacity(status: NodeStatus): NodeUsageReport['capacity'] {
  return { cpuNanoCores: cpuMillis(status.capacity?.cpu) * 1e6, memoryBytes: memoryBytes(status.capacity?.memory) };
}

/** Starts the sampler; the first report goes out after the second round (a rate needs two). */
export function startStatsSampler(opts: StatsSamplerOptions): StatsSampler {
  const intervalMs = opts.intervalMs ?? DEFAULT_STATS_INTERVAL_MS;
  const rates = new RateTracker();
  const gauges = opts.gauges === false ? undefined : new UsageGauges();
  const capacity = rawCapacity(opts.capacity);
  const read = opts.readMachine ?? readMachine;
  let prevCpu: CpuTimes | undefined;
  let prevAt: number | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<NodeUsageReport | undefined> | undefined;
  let failures = 0;

  const round = async (): Promise<NodeUsageReport | undefined> => {
    const at = Date.now();
    const [stats, running, machine] = await Promise.all([
      opts.cri.listContainerStats({}),
      opts.cri.listContainers({ filter: { state: { state: 'CONTAINER_RUNNING' } } }),
      read(),
    ]);
    const cpu = machine.cpu ? machineCpuRate(prevCpu, machine.cpu) : undefined;
    prevCpu = machine.cpu;
    const window = prevAt === undefined ? 0 : (at - prevAt) / 1000;
    const first = prevAt === undefined;
    prevAt = at;
    const report = buildReport(stats.stats ?? [], new Set((running.containers ?? []).map((c) => c.id)), rates, {
      node: opts.nodeName,
      timestamp: new Date(at),
      windowSeconds: window,
      usage: { cpuNanoCores: cpu ?? 0, memoryBytes: machine.memoryBytes ?? 0 },
      capacity,
    });
    if (first) return undefined;
    gauges?.update(report);
    return report;
  };

  const once = async (): Promise<NodeUsageReport | undefined> => {
    try {
      const report = await round();
      if (failures > 0) log.info({ node: opts.nodeName, failures }, 'container stats are back');
      failures = 0;
      if (report && !stopped && opts.connected()) opts.publish(report);
      return report;
    } catch (err) {
      // The rates restart from two fresh rounds: a gap would average over the outage.
      prevAt = undefined;
      prevCpu = undefined;
      if (failures++ % 12 === 0) log.warn({ node: opts.nodeName, err: String(err), failures }, 'cannot sample container stats; skipping this round');
      return undefined;
    }
  };

  const sample = (): Promise<NodeUsageReport | undefined> => {
    running ??= once().finally(() => { running = undefined; });
    return running;
  };

  const tick = (): void => {
    timer = setTimeout(() => {
      void sample().finally(() => { if (!stopped) tick(); });
    }, intervalMs);
    timer.unref();
  };
  void sample().finally(() => { if (!stopped) tick(); });

  return {
    sample,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      gauges?.clear();
    },
  };
}

/**
 * Follows a NATS connection's status, so a publish is skipped while it is down instead of being
 * buffered and sent late with stale numbers. Returns the check and the stop.
 */
export function followConnection(nc: NatsConnection): { up(): boolean; stop(): void } {
  let up = true;
  const status = nc.status();
  void (async () => {
    for await (const s of status) {
      if (s.type === 'disconnect') up = false;
      else if (s.type === 'reconnect') up = true;
    }
  })().catch(() => undefined);
  // nats.js's iterator has stop(), though the type says only AsyncIterable.
  return { up: () => up && !nc.isClosed(), stop: () => (status as { stop?: () => void }).stop?.() };
}

/** The publish of the agent: the report on the node's own subject, core NATS. Never throws. */
export function publishOn(nc: NatsConnection, nodeName: string): (report: NodeUsageReport) => void {
  const subject = statsSubject(nodeName);
  return (report) => {
    try {
      nc.publish(subject, encode(report));
    } catch (err) {
      log.debug({ node: nodeName, err: String(err) }, 'could not publish a usage report');
    }
  };
}
