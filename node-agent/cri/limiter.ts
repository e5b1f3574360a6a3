/**
 * A FIFO counting semaphore for CRI calls: at most `limit` run at once, the rest wait in the order
 * they came. The CRI client queues mutating calls through one so a burst of pods waits its turn
 * instead of piling onto containerd until every call misses its deadline.
 */
import { ValidationError } from '../../messages/errors';

/** A snapshot of a limiter, for logs and tests. */
export interface LimiterStats {
  limit: number;
  inFlight: number;
  queued: number;
}

/** At most `limit` tasks at once, first come first served. */
export class CallLimiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

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
    return { limit: this.limit, inFlight: this.running, queued: this.waiting.length };
  }

  /**
   * Runs `task` once a slot is free and settles as it does. `task` is not called before then, so
   * anything it measures from its own start (a deadline) excludes the wait. Its slot is freed when
   * it settles, whether it resolves, rejects or throws.
   */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) {
      await new Promise<void>((resolve) => { this.waiting.push(resolve); });
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** Hands the slot to the oldest waiter, or frees it. */
  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter, so `running` stays as it is and no newcomer
    // can slip in between (that would break FIFO).
    if (next) next();
    else this.running--;
  }
}
