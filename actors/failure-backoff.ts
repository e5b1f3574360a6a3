/**
 * Per-object back-off of a controller whose writes failed: 1 s doubling to a minute, like the
 * work queues of Kubernetes' controllers (client-go's exponential failure rate limiter), forgotten
 * on the first pass that succeeds.
 */
export class FailureBackoff {
  private readonly failures = new Map<string, number>();

  constructor(private readonly initialMs = 1_000, private readonly maxMs = 60_000) {}

  /** Counts one more failure of `key`; returns how long to wait before the next pass. */
  failed(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    return Math.min(this.maxMs, this.initialMs * 2 ** (n - 1));
  }

  /** `key` passed (or is gone): its next failure starts from the shortest wait again. */
  forget(key: string): void {
    this.failures.delete(key);
  }
}
