/**
 * The limits of a Workflow and of its runs. Crossing one at run time is the error
 * `States.LimitExceeded`; crossing one in a spec is a validation error. The numbers follow Step
 * Functions' quotas where it has one (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
 */

/** The most events a run's journal may hold; the run fails with States.LimitExceeded past it (Step Functions: 25,000). */
export const MAX_EVENTS_PER_RUN = 25_000;

/** The most branches a Parallel state may have. */
export const MAX_BRANCHES = 256;

/** How many items a Map state runs at once when maxConcurrency is omitted. */
export const DEFAULT_MAP_CONCURRENCY = 40;

/** The largest maxConcurrency a Map state may ask for. */
export const MAX_MAP_CONCURRENCY = 256;

/** The most states one states map (the top level, a branch, an item processor) may hold. */
export const MAX_STATES = 1000;

/** The longest state name, in characters (Step Functions: 80). */
export const MAX_STATE_NAME_LENGTH = 80;

/** A payload (input, output, a state's result) larger than this travels by reference through the object store. */
export const MAX_INLINE_PAYLOAD_BYTES = 1024 * 1024;

/** Retrier defaults, as Step Functions (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html). */
export const DEFAULT_RETRY_INTERVAL_SECONDS = 1;
/** How many retries a retrier makes when maxAttempts is omitted. */
export const DEFAULT_RETRY_MAX_ATTEMPTS = 3;
/** The multiplier of the retry interval after each attempt when backoffRate is omitted. */
export const DEFAULT_RETRY_BACKOFF_RATE = 2.0;

/** The JetStream object store bucket where payloads over the inline limit are kept. */
export const WORKFLOW_PAYLOAD_BUCKET = 'mk-workflow-payloads';
