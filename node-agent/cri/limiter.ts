/**
 * A counting semaphore for CRI calls: at most `limit` run at once, the rest wait, first come first
 * served within their priority, the higher priority first. The CRI client queues mutating calls
 * through one so a burst of pods waits its turn instead of piling onto containerd until every
 * call misses its deadline; and work on pods already started (their containers) goes ahead of
 * starting new ones (their sandboxes), so a burst's first pods run early instead of every pod
 * waiting for every sandbox.
 */
import { ValidationError } from '../../messages/errors';

/** A snapshot of a limiter, for logs and tests. */
export interface LimiterStats {
  limit: number;
  inFlight: number;
  queued: number;
}

/** A waiting task's priority: `high` goes before every `normal` one. */
export type CallPriority = 'high' | 'normal';

/** At most `limit` tasks at once, first come first served within a priority. */
export class CallLimiter {
  private running = 0;
  private readonly waiting: Record<CallPriority, Array<() => void>> = { high: [], normal: [] };

  /**
   * @param limit how many tasks may run at once; Infinity for no bound.
   * @throws ValidationError when limit is not a positive integer or Infinity.
   */
  constructor(readonly limit: number) {
    if (!(limit === Infinity || (Number.isInteger(limit) && limit >= 1))) {
      throw new ValidationError(`CRI call limit must be a positive integer or Infinity, got ${limit}`, ['limit']);
    }
  }

  /** How many run now and how many wait. */
  stats(): LimiterStats {
    return { limit: this.limit, inFlight: this.running, queued: this.waiting.high.length + this.waiting.normal.length };
  }

  /**
   * Runs `task` once a slot is free and settles as it does. `task` is not called before then, so
   * anything it measures from its own start (a deadline) excludes the wait. Its slot is freed when
   * it settles, whether it resolves, rejects or throws.
   */
  async run<T>(task: () => Promise<T>, priority: CallPriority = 'normal'): Promise<T> {
    if (this.running >= this.limit) {
      await new Promise<void>((resolve) => { this.waiting[priority].push(resolve); });
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** Hands the slot to the oldest waiter of the highest priority, or frees it. */
  private release(): void {
    const next = this.waiting.high.shift() ?? this.waiting.normal.shift();
    // The slot passes straight to the next waiter, so `running` stays as it is and no newcomer
    // can slip in between (that would break FIFO).
    if (next) next();
    else this.running--;
  }
}
