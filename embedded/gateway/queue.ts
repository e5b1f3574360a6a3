/**
 * One function's call queue in a gateway: the Ready, non-draining instances with their free
 * slots (concurrency per instance), and the calls waiting for one. A call takes the least busy
 * instance with a free slot, or waits until one frees, the instances change, or its deadline
 * passes. Knative's activator does the same in front of a revision scaled to zero
 * (https://knative.dev/docs/serving/knative-kubernetes-services/#activator).
 */

/** Where a call may go: an instance pod and its loader's address. */
export interface Instance { pod: string; ip: string }

/** A slot taken on an instance: release() it once the call is answered. */
export interface Slot { instance: Instance; release(): void }

/** Thrown by acquire() when the queue is at its bound: the gateway answers 503 with Retry-After. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  constructor(readonly bound: number) { super(`too many calls waiting (${bound}); retry later`); }
}

/** Thrown by acquire() when no slot came before the deadline: the gateway answers 504. */
export class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
  constructor(readonly waitedMs: number) { super(`no instance became free within ${Math.round(waitedMs / 1000)}s`); }
}

interface Waiter {
  exclude: ReadonlySet<string>;
  resolve(s: Slot): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/** The queue of one function (see above). */
export class CallQueue {
  private instances = new Map<string, Instance>();
  /** Calls in flight per pod, including pods no longer listed (their calls still finish). */
  private readonly busy = new Map<string, number>();
  private readonly waiters: Waiter[] = [];
  /** Instances that held a call past the timeout: never given a call again, whatever the listing says. */
  private readonly quarantined = new Set<string>();

  /** `concurrency`: calls per instance; `bound`: the most calls that may wait. */
  constructor(private concurrency: number, private readonly bound: number) {}

  /** Calls waiting for a slot. */
  get queued(): number { return this.waiters.length; }

  /** Calls in flight over every instance. */
  get inFlight(): number {
    let n = 0;
    for (const v of this.busy.values()) n += v;
    return n;
  }

  /** The instances calls may go to now (listed Ready and not draining, not quarantined). */
  get instanceCount(): number { return this.instances.size; }

  /** Calls in flight per pod (pods with none left out). */
  perPod(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [p, n] of this.busy) if (n > 0) out[p] = n;
    return out;
  }

  /** Replaces the instances calls may go to (Ready, not draining) and the concurrency; waiting calls take what is free. */
  setInstances(list: readonly Instance[], concurrency: number): void {
    this.concurrency = Math.max(1, concurrency);
    this.instances = new Map(list.filter((i) => !this.quarantined.has(i.pod)).map((i) => [i.pod, i]));
    this.pump();
  }

  /** Takes `pod` out at once and for good: no call is sent to it again (calls on it still finish). */
  quarantine(pod: string): void {
    this.quarantined.add(pod);
    this.instances.delete(pod);
  }

  /** Forgets the quarantined pods not in `existing` (they are gone; a name is never reused). */
  forget(existing: ReadonlySet<string>): void {
    for (const pod of this.quarantined) if (!existing.has(pod)) this.quarantined.delete(pod);
  }

  /** The pods quarantined now. */
  get quarantinedPods(): readonly string[] { return [...this.quarantined]; }

  /** True when no call is in flight or waiting. */
  idle(): boolean { return this.waiters.length === 0 && this.inFlight === 0; }

  /**
   * A slot on the least busy instance not in `exclude`; waits up to `timeoutMs` for one. Throws
   * QueueFullError when `bound` calls already wait, DeadlineError at the deadline. `onWait` is
   * called when the call has to wait (the gateway's demand signal).
   */
  acquire(timeoutMs: number, exclude: ReadonlySet<string> = new Set(), onWait?: () => void): Promise<Slot> {
    const now = this.take(exclude);
    if (now) return Promise.resolve(now);
    if (this.waiters.length >= this.bound) return Promise.reject(new QueueFullError(this.bound));
    return new Promise<Slot>((resolve, reject) => {
      const w: Waiter = {
        exclude, resolve, reject,
        timer: setTimeout(() => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new DeadlineError(timeoutMs));
        }, Math.max(0, timeoutMs)),
      };
      this.waiters.push(w);
      onWait?.();
    });
  }

  /** Fails every waiting call with `err` (the function was deleted). */
  failAll(err: Error): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }

  private take(exclude: ReadonlySet<string>): Slot | undefined {
    let best: Instance | undefined;
    let bestBusy = Infinity;
    for (const inst of this.instances.values()) {
      if (exclude.has(inst.pod)) continue;
      const b = this.busy.get(inst.pod) ?? 0;
      if (b < this.concurrency && b < bestBusy) { best = inst; bestBusy = b; }
    }
    if (!best) return undefined;
    const chosen = best;
    this.busy.set(chosen.pod, bestBusy + 1);
    let released = false;
    return {
      instance: chosen,
      release: () => {
        if (released) return;
        released = true;
        const n = (this.busy.get(chosen.pod) ?? 1) - 1;
        if (n > 0) this.busy.set(chosen.pod, n); else this.busy.delete(chosen.pod);
        this.pump();
      },
    };
  }

  /** Hands free slots to waiting calls, oldest first. */
  private pump(): void {
    for (let i = 0; i < this.waiters.length;) {
      const w = this.waiters[i];
      const slot = this.take(w.exclude);
      if (!slot) { i++; continue; }
      this.waiters.splice(i, 1);
      clearTimeout(w.timer);
      w.resolve(slot);
    }
  }
}
