/** The node's usage: container and machine stats sampled and published as NodeUsageReports. */
export { UsageGauges } from './gauges';
export { machineCpuRate, parseMeminfo, parseProcStat, readMachine, type CpuTimes } from './machine';
export { cpuRate, RateTracker, type CpuReading } from './rates';
export { buildReport, type NodeRound } from './report';
export {
  DEFAULT_STATS_INTERVAL_MS, followConnection, parseStatsInterval, publishOn, rawCapacity, startStatsSampler, statsIntervalFromEnv,
  type StatsSampler, type StatsSamplerOptions,
} from './sampler';
