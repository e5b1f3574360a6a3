/**
 * Leader election on a lease, after client-go's leaderelection (k8s.io/client-go/tools/
 * leaderelection): one record names its holder and when it was last renewed; every candidate
 * reads it, the holder renews it, and the others take it over only once it has expired. Every
 * write of the record is a compare-and-swap on its revision, so two candidates never both win.
 *
 * Times. The record's timestamps are informative only: clocks of different machines disagree.
 * What counts is each process's own monotonic clock:
 * - a standby times a lease from the moment it saw the record change, and takes it over only
 *   after a whole `durationMs` passed on its clock with no change;
 * - the leader counts its term from the moment it sent its last successful write, and holds it
 *   for `renewDeadlineMs` (< `durationMs`) only. When that passes without a successful renewal
 *   it stops leading at once (isLeader() turns false synchronously, so fenced writes stop on the
 *   spot) and then stops its work.
 * So a leader frozen past its lease (SIGSTOP, a long pause) finds on waking that its term ended
 * before any standby could take over, and writes nothing more. The one exception to waiting: a
 * holder the backend knows to be dead (LeaseBackend.read's `holderGone`) can write nothing more,
 * so its lease is taken at once.
 */
import { isAlreadyExists, isConflict, UnavailableError } from '../messages/errors';
import { busLog } from './log';

/** The lease as stored: coordination.k8s.io/v1 Lease's spec. */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** Where the lease lives: a record read and written by revision. */
export interface LeaseBackend {
  /**
   * The record and its revision, or null when there is none. `holderGone`: the holder is known
   * to be dead (a process of this machine that no longer runs), so the lease may be taken at once.
   */
  read(): Promise<{ spec: LeaseSpec; revision: number; holderGone?: boolean } | null>;
  /** Creates the record; throws AlreadyExistsError when it exists. */
  create(spec: LeaseSpec): Promise<number>;
  /** Replaces the record at `revision`; throws ConflictError when it changed since. */
  update(spec: LeaseSpec, revision: number): Promise<number>;
}

/** Time as the elector sees it: a monotonic clock, the wall clock for the record, timers. */
export interface LeaseClock {
  /** Milliseconds on a monotonic clock (never goes back; keeps counting while the process is stopped). */
  now(): number;
  /** Wall-clock time, written into the record for people to read. */
  wall(): Date;
  /** Calls `fn` after `ms`; returns a cancel function. */
  setTimer(fn: () => void, ms: number): () => void;
}

/** The real clock: performance.now() and timers that never keep the process alive. */
export const systemClock: LeaseClock = {
  now: () => performance.now(),
  wall: () => new Date(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms)).unref();
    return () => clearTimeout(t);
  },
};

/** How long a lease lasts, how long its holder may go without renewing, how often it tries. */
export interface LeaseTiming {
  durationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** The default lease: 15 s, as Kubernetes' controller managers use. */
export const DEFAULT_LEASE_SECONDS = 15;

/**
 * Timing for a lease of `durationSeconds`, in Kubernetes' proportions (15 s lease, 10 s renew
 * deadline, 2 s retry period). Throws RangeError when the duration is not a positive number of
 * seconds.
 */
export function leaseTiming(durationSeconds: number = DEFAULT_LEASE_SECONDS): LeaseTiming {
  if (!Number.isFinite(durationSeconds) || durationSeconds <= 0) {
    throw new RangeError(`lease duration must be a positive number of seconds (got ${durationSeconds})`);
  }
  const durationMs = durationSeconds * 1000;
  return { durationMs, renewDeadlineMs: Math.round(durationMs * 2 / 3), retryPeriodMs: Math.max(50, Math.round(durationMs * 2 / 15)) };
}

/**
 * Thrown by a fenced write when this process does not hold the lease (it never did, or its term
 * ended). Not retryable here: the new leader does the work.
 */
export class NotLeaderError extends UnavailableError {
  constructor(message: string) {
    super(message);
    this.name = 'NotLeaderError';
  }
}

/** What the elector tells its owner. */
export interface LeaderCallbacks {
  /** This process now leads: start the work only a leader does. */
  onStartedLeading(): void | Promise<void>;
  /** This process no longer leads (`reason` says why): stop that work. */
  onStoppedLeading(reason: string): void | Promise<void>;
}

/** Options of a LeaderElector. */
export interface LeaderElectorOptions extends LeaderCallbacks {
  /** Who this candidate is, unique per process (the record's holderIdentity). */
  identity: string;
  backend: LeaseBackend;
  timing: LeaseTiming;
  clock?: LeaseClock;
}

/** A record time: RFC 3339 with microseconds, as Kubernetes' MicroTime. */
function microTime(d: Date): string {
  return d.toISOString().replace(/Z$/, '000Z');
}

/**
 * One candidate: run() campaigns until stop(). While leading it renews every retry period; while
 * standing by it reads the record every retry period (or at the moment the lease expires, if
 * sooner) and takes the lease over once expired or released.
 */
export class LeaderElector {
  private readonly clock: LeaseClock;
  private leading = false;
  /** While leading: the monotonic time the term ends unless renewed. */
  private validUntil = 0;
  /** The last record seen and when (monotonic) it was first seen at that revision. */
  private observed?: { revision: number; spec: LeaseSpec; at: number };
  /**
   * Start and stop of the leader's work, one after the other: a term's work starts only once the
   * previous term's has stopped. The campaign does not wait for them: renewals go on while the
   * work starts.
   */
  private transition: Promise<void> = Promise.resolve();
  private stopped = false;
  private cancelDeadline?: () => void;
  private cancelSleep?: () => void;
  private wake?: () => void;
  private loop?: Promise<void>;

  constructor(private readonly opts: LeaderElectorOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  /** This candidate's identity. */
  get identity(): string { return this.opts.identity; }

  /** True while this process leads and its term has not ended (checked on the monotonic clock). */
  isLeader(): boolean {
    return this.leading && this.clock.now() < this.validUntil;
  }

  /** Throws NotLeaderError unless isLeader(): the fence before every write of the leader's work. */
  assertLeader(action: string): void {
    if (!this.isLeader()) throw new NotLeaderError(`${action}: this control plane does not hold the lease (${this.opts.identity})`);
  }

  /** Starts campaigning (idempotent); the loop runs until stop(). */
  run(): void {
    this.loop ??= this.campaign();
  }

  /**
   * Stops campaigning. When leading: stops the leader's work first, then (with `release`, the
   * default) gives the lease up so a standby takes over at once instead of after it expires.
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.cancelSleep?.();
    this.wake?.();
    await this.loop;
    const held = this.leading;
    await this.stepDown('stopping');
    await this.transition;
    if (held && opts.release !== false) await this.release();
  }

  private async campaign(): Promise<void> {
    while (!this.stopped) {
      let waitMs = this.opts.timing.retryPeriodMs;
      try {
        waitMs = await this.step();
      } catch (err) {
        busLog.warn({ identity: this.opts.identity, err: String(err) }, 'lease: could not read or write the lease; trying again');
      }
      if (this.leading && this.clock.now() >= this.validUntil) await this.stepDown('the lease could not be renewed in time');
      if (this.stopped) break;
      await this.sleep(waitMs);
    }
  }

  /** One round: read the record, then renew, acquire or wait. Returns how long to wait. */
  private async step(): Promise<number> {
    const { timing } = this.opts;
    const cur = await this.opts.backend.read();
    const now = this.clock.now();
    if (!cur) {
      const sentAt = this.clock.now();
      try {
        await this.opts.backend.create(this.record(undefined, false));
        await this.won(sentAt);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        return 0;
      }
      return timing.retryPeriodMs;
    }
    if (cur.revision !== this.observed?.revision) this.observed = { revision: cur.revision, spec: cur.spec, at: now };
    const holder = cur.spec.holderIdentity;
    const mine = holder === this.opts.identity;
    const expiresAt = this.observed.at + (cur.spec.leaseDurationSeconds ?? timing.durationMs / 1000) * 1000;
    if (!mine && holder && now < expiresAt && !cur.holderGone) {
      if (this.leading) await this.stepDown(`the lease is held by ${holder}`);
      return Math.max(0, Math.min(timing.retryPeriodMs, expiresAt - now));
    }
    // Renew our own lease, or take over one that is free, expired or still ours from before.
    const renewing = mine && this.leading;
    const sentAt = this.clock.now();
    try {
      await this.opts.backend.update(this.record(cur.spec, renewing), cur.revision);
      await this.won(sentAt);
    } catch (err) {
      if (!isConflict(err)) throw err;
      // Someone else wrote it first: whoever that was, this term (if any) is over.
      if (this.leading) await this.stepDown('the lease was written by another candidate');
      return 0;
    }
    return timing.retryPeriodMs;
  }

  /**
   * The record to write over `prev` (none: the first record). Renewing keeps acquireTime; taking
   * the lease from another holder (or from none, after a release) counts a transition.
   */
  private record(prev: LeaseSpec | undefined, renewing: boolean): LeaseSpec {
    const now = microTime(this.clock.wall());
    const transitions = prev?.leaseTransitions ?? 0;
    const changesHands = prev !== undefined && prev.holderIdentity !== this.opts.identity;
    return {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: this.opts.timing.durationMs / 1000,
      acquireTime: renewing ? prev?.acquireTime ?? now : now,
      renewTime: now,
      leaseTransitions: changesHands ? transitions + 1 : transitions,
    };
  }

  /**
   * A write sent at `sentAt` succeeded: the term runs to sentAt + renew deadline. A reply that
   * came after that (the process was paused meanwhile) starts no term: a standby may already lead.
   */
  private async won(sentAt: number): Promise<void> {
    // Not awaited beyond the step-down: the work starts in `transition` while renewals go on.
    this.observed = undefined;
    const until = sentAt + this.opts.timing.renewDeadlineMs;
    if (this.clock.now() >= until) {
      await this.stepDown('the lease was renewed too late');
      return;
    }
    this.validUntil = until;
    this.armDeadline();
    if (this.leading) return;
    this.leading = true;
    busLog.info({ identity: this.opts.identity }, 'lease: acquired; leading');
    this.transition = this.transition.then(async () => {
      if (!this.leading) return;
      try {
        await this.opts.onStartedLeading();
      } catch (err) {
        busLog.error({ identity: this.opts.identity, err: String(err) }, 'lease: the leader\'s work failed to start; stepping down');
        // Queued after this start (awaiting it here would wait on itself).
        void this.stepDown('the leader\'s work failed to start');
      }
    });
  }

  /** Steps down when the term ends, even while a read or write hangs. */
  private armDeadline(): void {
    this.cancelDeadline?.();
    this.cancelDeadline = this.clock.setTimer(() => {
      if (this.leading && this.clock.now() >= this.validUntil) void this.stepDown('the lease could not be renewed in time');
    }, this.validUntil - this.clock.now());
  }

  /** Stops leading (at once for the fence), then stops the leader's work. Idempotent. */
  private stepDown(reason: string): Promise<void> {
    if (!this.leading) return this.transition;
    this.leading = false;
    this.cancelDeadline?.();
    busLog.warn({ identity: this.opts.identity, reason }, 'lease: stepping down');
    this.transition = this.transition.then(async () => {
      try {
        await this.opts.onStoppedLeading(reason);
      } catch (err) {
        busLog.error({ identity: this.opts.identity, err: String(err) }, 'lease: stopping the leader\'s work failed');
      }
    });
    return this.transition;
  }

  /** Gives the lease up (no holder), so a standby need not wait for it to expire. */
  private async release(): Promise<void> {
    try {
      const cur = await this.opts.backend.read();
      if (!cur || cur.spec.holderIdentity !== this.opts.identity) return;
      await this.opts.backend.update({ ...cur.spec, holderIdentity: undefined, renewTime: microTime(this.clock.wall()) }, cur.revision);
      busLog.info({ identity: this.opts.identity }, 'lease: released');
    } catch (err) {
      busLog.warn({ identity: this.opts.identity, err: String(err) }, 'lease: could not release; it expires on its own');
    }
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
      this.cancelSleep = this.clock.setTimer(resolve, ms);
    });
  }
}
