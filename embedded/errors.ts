/** Errors of the embedded cluster's process manager. */

/**
 * Thrown when the cluster cannot be started, stopped or purged as asked: a port in use, a missing
 * program, a data directory that is not mk's. The message says what to do.
 */
export class ClusterError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClusterError';
  }
}
