/**
 * The prober of one pod: for each running container instance with probes, one timer that runs the
 * probes when due (startup first, then liveness and readiness once it has passed), counts outcomes
 * through the thresholds (probe-state.ts), and tells the pod actor only when a counted result
 * changes (so status is written on change, not per probe) or when a liveness or startup probe asks
 * for the container to be killed. Probes of an instance never overlap; a new instance (restart)
 * starts with fresh results.
 */
import type { EventType } from '../../messages/event';
import type { Container } from '../../messages/pod';
import { probeTiming, type Probe, type ProbeKind } from '../../messages/probe';
import { applyProbeOutcome, initialProbeState, nextProbeAt, type ProbeState } from './probe-state';
import type { ProbeOutcome, ProbeTarget } from './probe-run';


/** Probes are started on a grid of this many ms (see schedule). */
export const PROBE_SLOT_MS = 250;
/** What the probes say of one container instance, for its status. */
export interface ProbeView {
  /** The startup probe passed, or there is none. */
  started: boolean;
  /** Started, and the readiness probe passes (or there is none). */
  ready: boolean;
}

/** A running container instance the prober should watch. */
export interface RunningContainer {
  id: string;
  spec: Container;
  /** When the instance started, epoch ms. */
  startedAtMs: number;
}

export interface ProberDeps {
  run(target: ProbeTarget): Promise<ProbeOutcome>;
  /** A counted result changed: the pod's status should be recomputed. */
  onChange(): void;
  /** A liveness or startup probe failed failureThreshold times: kill the instance. */
  onKill(containerId: string, container: string, graceSeconds: number | undefined): void;
  event(type: EventType, reason: string, message: string): void;
  now(): number;
}

const KINDS: { kind: ProbeKind; field: 'startupProbe' | 'livenessProbe' | 'readinessProbe'; word: string }[] = [
  { kind: 'startup', field: 'startupProbe', word: 'Startup' },
  { kind: 'liveness', field: 'livenessProbe', word: 'Liveness' },
  { kind: 'readiness', field: 'readinessProbe', word: 'Readiness' },
];

interface Worker {
  c: RunningContainer;
  states: Partial<Record<ProbeKind, ProbeState>>;
  lastRun: Partial<Record<ProbeKind, number>>;
  timer?: NodeJS.Timeout;
  busy: boolean;
  gone: boolean;
  /** Run the readiness probe at the next chance even though it is not due (probeNow's readinessOf). */
  readinessAsked?: boolean;
}

const hasProbes = (c: Container): boolean => !!(c.livenessProbe || c.readinessProbe || c.startupProbe);

export class PodProber {
  private readonly workers = new Map<string, Worker>();
  private podIP: string | undefined;
  private stopped = false;

  constructor(private readonly deps: ProberDeps) {}

  /** The running instances now: starts workers for new ones, stops those of instances gone. */
  update(running: RunningContainer[], podIP: string | undefined): void {
    if (this.stopped) return;
    this.podIP = podIP;
    const keep = new Set<string>();
    for (const c of running) {
      if (!hasProbes(c.spec)) continue;
      keep.add(c.id);
      if (this.workers.has(c.id)) continue;
      const states: Partial<Record<ProbeKind, ProbeState>> = {};
      for (const k of KINDS) if (c.spec[k.field]) states[k.kind] = initialProbeState(k.kind);
      const w: Worker = { c, states, lastRun: {}, busy: false, gone: false };
      this.workers.set(c.id, w);
      this.schedule(w);
    }
    for (const [id, w] of this.workers) {
      if (!keep.has(id)) { w.gone = true; clearTimeout(w.timer); this.workers.delete(id); }
    }
  }

  /** What the probes say of an instance; undefined when it is not watched (no probes, not running). */
  view(containerId: string): ProbeView | undefined {
    const w = this.workers.get(containerId);
    if (!w) return undefined;
    const started = !w.states.startup || w.states.startup.result === 'success';
    const ready = started && (!w.states.readiness || w.states.readiness.result === 'success');
    return { started, ready };
  }

  /** Views of every watched instance, by container id. */
  views(): Record<string, ProbeView> {
    const out: Record<string, ProbeView> = {};
    for (const id of this.workers.keys()) out[id] = this.view(id) as ProbeView;
    return out;
  }

  /**
   * Runs every watched instance's due probes now rather than at its next slot (a warm container
   * just specialised is ready at once; waiting for the grid would only delay its Ready). With
   * `readinessOf`, that instance's readiness probe runs too even when its period has not come (its
   * server was just seen answering); one already running picks it up before it ends. Resolves once
   * they have run; never rejects.
   */
  async probeNow(readinessOf?: string): Promise<void> {
    if (this.stopped) return;
    const asked = readinessOf === undefined ? undefined : this.workers.get(readinessOf);
    if (asked?.states.readiness) asked.readinessAsked = true;
    const ticks: Promise<void>[] = [];
    for (const w of this.workers.values()) {
      if (w.busy || w.gone) continue;
      clearTimeout(w.timer);
      ticks.push(this.tick(w).catch(() => undefined));
    }
    await Promise.all(ticks);
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.workers.values()) { w.gone = true; clearTimeout(w.timer); }
    this.workers.clear();
  }

  /** The probes that run now: the startup probe until it passes, then liveness and readiness. */
  private active(w: Worker): ProbeKind[] {
    const s = w.states.startup;
    if (s && s.result !== 'success') return s.onHold ? [] : ['startup'];
    return (['liveness', 'readiness'] as const).filter((k) => w.states[k] && !w.states[k].onHold);
  }

  private probeOf(w: Worker, kind: ProbeKind): Probe {
    return w.c.spec[KINDS.find((k) => k.kind === kind)!.field] as Probe;
  }

  private schedule(w: Worker): void {
    if (w.gone || this.stopped) return;
    const due = this.active(w).map((k) => nextProbeAt(w.c.startedAtMs, probeTiming(this.probeOf(w, k)), w.lastRun[k]));
    if (due.length === 0) return;
    // On a 250 ms grid: probes of many containers that fall due in the same slot run in one wake-up
    // of the event loop instead of one each, which is most of their cost at low rates.
    const at = Math.ceil(Math.min(...due) / PROBE_SLOT_MS) * PROBE_SLOT_MS;
    clearTimeout(w.timer);
    w.timer = setTimeout(() => { void this.tick(w); }, Math.max(0, at - this.deps.now()));
    w.timer.unref?.();
  }

  private async tick(w: Worker): Promise<void> {
    if (w.gone || w.busy) return;
    w.busy = true;
    try {
      const now = this.deps.now();
      // Re-read after each run: a startup probe that passes lets the others run in the same tick.
      const asked = (k: ProbeKind): boolean => k === 'readiness' && w.readinessAsked === true;
      const due = (): ProbeKind | undefined => this.active(w)
        .find((k) => asked(k) || (w.lastRun[k] !== now && nextProbeAt(w.c.startedAtMs, probeTiming(this.probeOf(w, k)), w.lastRun[k]) <= now));
      for (let kind = due(); kind; kind = due()) {
        const probe = this.probeOf(w, kind);
        if (asked(kind)) {
          // Out of turn: the period counts again from this run.
          w.readinessAsked = false;
          w.lastRun[kind] = this.deps.now();
        } else {
          // The cadence is kept from when the probe was due, not when its slot came (no drift), unless
          // it is a whole period late (a paused agent): then it starts again from now.
          const dueAt = nextProbeAt(w.c.startedAtMs, probeTiming(probe), w.lastRun[kind]);
          w.lastRun[kind] = now - dueAt < probeTiming(probe).periodSeconds * 1000 ? dueAt : now;
        }
        const res = await this.deps.run({ probe, container: w.c.spec, containerId: w.c.id, ...(this.podIP ? { podIP: this.podIP } : {}) });
        if (w.gone) return;
        const word = KINDS.find((k) => k.kind === kind)!.word;
        if (res.outcome === 'failure') this.deps.event('Warning', 'Unhealthy', `${word} probe failed: ${res.message}`);
        const step = applyProbeOutcome(w.states[kind] as ProbeState, kind, probeTiming(probe), res.outcome);
        w.states[kind] = step.state;
        if (step.kill) {
          this.deps.event('Normal', 'Killing', `Container ${w.c.spec.name} failed ${kind} probe, will be restarted`);
          this.deps.onKill(w.c.id, w.c.spec.name, probe.terminationGracePeriodSeconds);
        }
        if (step.changed || step.kill) this.deps.onChange();
      }
    } finally {
      w.busy = false;
    }
    this.schedule(w);
  }
}
