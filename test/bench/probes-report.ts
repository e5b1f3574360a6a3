/**
 * The probes benchmark's figures and printed form: CPU (share of one core) and resident memory of
 * a process running the node agent's prober for N containers, against the same process holding
 * the same containers without probes, per probe period. Pure.
 */
import { median, round, spread } from './stats';

/** The aim: probes cost under this share of one core (%) per 1,000 probed pods, at the default period. */
export const AIM_CORE_PCT_PER_1000 = 5;
/** The default probe period (Kubernetes' periodSeconds default), the one the aim is judged at. */
export const DEFAULT_PERIOD_S = 10;

/** One half: the measured process with probes on or off. */
export interface ProbesHalf {
  /** CPU seconds per wall second of the measured process (1 = one core busy). */
  cpu: number;
  /** Resident memory at the end of the window, kB. */
  rssKb: number;
  /** Probes run in the window, and how many of them failed. */
  probes: number;
  failures: number;
  /** Busy share of the whole machine before the half (0..1). */
  busyBefore: number;
}

/** One round: probes on and off, in the order run. */
export interface ProbesRound { first: 'on' | 'off'; on: ProbesHalf; off: ProbesHalf }

/** All rounds at one period. */
export interface ProbesPeriodRun { periodSeconds: number; rounds: ProbesRound[] }

/** A whole run. */
export interface ProbesRun { pods: number; seconds: number; probesPerPod: number; periods: ProbesPeriodRun[] }

/** `n thing` or `n things`. */
export const plural = (n: number, thing: string): string => `${n} ${thing}${n === 1 ? '' : 's'}`;

/** % of one core per 1,000 pods that the probes add in one round. */
export const corePctPer1000 = (r: ProbesRound, pods: number): number => (r.on.cpu - r.off.cpu) * 100 * (1000 / pods);

/** The run as markdown lines: a row per period, the aim at the default period. */
export function formatProbes(run: ProbesRun): string[] {
  const pr = (xs: number[], d = 1) => { const s = spread(xs, d); return `${s.median} (${s.min}-${s.max})`; };
  const out = [
    `${run.pods} pods, ${run.probesPerPod} probes each (liveness and readiness; half httpGet, half tcpSocket), `
      + `${run.seconds} s windows, ${plural(run.periods[0]?.rounds.length ?? 0, 'round')} alternating.`,
    '',
    '| period (s) | probes/s | failures | CPU % of a core: probes on | off | % of a core per 1,000 pods | RSS on / off (MB) | RSS per 1,000 pods (MB) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const p of run.periods) {
    const rs = p.rounds;
    const rate = median(rs.map((r) => r.on.probes / run.seconds));
    const fails = rs.reduce((a, r) => a + r.on.failures, 0);
    const rssOn = median(rs.map((r) => r.on.rssKb)) / 1024;
    const rssOff = median(rs.map((r) => r.off.rssKb)) / 1024;
    out.push(`| ${p.periodSeconds} | ${round(rate)} | ${fails} | ${pr(rs.map((r) => r.on.cpu * 100))} | ${pr(rs.map((r) => r.off.cpu * 100))} | `
      + `${pr(rs.map((r) => corePctPer1000(r, run.pods)), 2)} | ${round(rssOn)} / ${round(rssOff)} | ${round(((rssOn - rssOff) * 1000) / run.pods)} |`);
  }
  const def = run.periods.find((p) => p.periodSeconds === DEFAULT_PERIOD_S);
  if (!def) {
    out.push('', `Aim: under ${AIM_CORE_PCT_PER_1000} % of a core per 1,000 pods at periodSeconds ${DEFAULT_PERIOD_S}: not judged (no run at that period).`);
  } else {
    const m = median(def.rounds.map((r) => corePctPer1000(r, run.pods)));
    out.push('', `Aim: under ${AIM_CORE_PCT_PER_1000} % of a core per 1,000 pods at periodSeconds ${DEFAULT_PERIOD_S}: `
      + `${m < AIM_CORE_PCT_PER_1000 ? 'met' : 'not met'} (${round(m, 2)} %).`);
  }
  const halves = run.periods.flatMap((p) => p.rounds.flatMap((r) => [r.on.busyBefore, r.off.busyBefore]));
  const busy = halves.filter((b) => b >= 0.1);
  if (busy.length) out.push(`${busy.length} of ${halves.length} halves started with the CPU still busy (up to ${Math.round(Math.max(...busy) * 100)} %): another workload ran on this machine.`);
  return out;
}
