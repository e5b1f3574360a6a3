/**
 * One firing of a trigger from its start to its end, as a record the engine keeps in the firings
 * bucket (messages/trigger-subjects.ts), and what happens after each try: the next try after the
 * backoff, success, or the dead-letter subject after the last. Each try has its own id
 * (attemptId): the first is the firing's id, a retry `<firing>-<n>`, so a try started again after
 * a restart is the same call (the gateway's dedup, the results bucket) or the same WorkflowRun
 * (AlreadyExists). Pure: no I/O.
 */
import { attemptId, type TriggerDeadLetter } from '../../messages/trigger-subjects';
import { nextAttemptDelay, type DeliveryPolicy } from './delivery';

/** Where a firing is: a try running, waiting for the next, or ended. */
export type FiringPhase = 'Running' | 'Waiting' | 'Succeeded' | 'DeadLettered' | 'Replaced' | 'Skipped';

/** A firing as the firings bucket keeps it. */
export interface FiringRecord {
  /** `<namespace>/<name>` of the trigger. */
  trigger: string;
  /** The trigger's uid (a trigger made again under the same name has other firings). */
  uid: string;
  firing: string;
  target: { kind: 'function' | 'workflow'; name: string };
  /** What the target is given (the same on every try). */
  input: unknown;
  /** The try running, or the last one (1-based). */
  attempt: number;
  phase: FiringPhase;
  /** When the next try starts (epoch ms), while Waiting. */
  nextAttemptAt?: number;
  lastError?: string;
  /** When the firing was made (RFC 3339). */
  created: string;
  /** When it ended (RFC 3339). */
  ended?: string;
}

/** True when the firing is over (its record moves to the `done.` keys). */
export const isEnded = (p: FiringPhase): boolean => p !== 'Running' && p !== 'Waiting';

/** The id of the try the record runs now: the async call id or the WorkflowRun name. */
export const currentAttemptId = (r: Pick<FiringRecord, 'firing' | 'attempt'>): string => attemptId(r.firing, r.attempt);

/** What a try's end leads to. */
export interface AfterAttempt {
  record: FiringRecord;
  /** Set when the firing goes to the dead-letter subject now. */
  deadLetter?: TriggerDeadLetter;
  /** The wait before the next try (ms), when there is one. */
  retryInMs?: number;
}

/**
 * The record after try `record.attempt` ended with `outcome` at `now` under `policy`: Succeeded;
 * Waiting for the next try; or, after the last, DeadLettered with the letter to publish. A record
 * not Running (an answer that comes late) is returned as it is.
 */
export function afterAttempt(record: FiringRecord, outcome: { ok: true } | { ok: false; error: string }, policy: DeliveryPolicy, now: number): AfterAttempt {
  if (record.phase !== 'Running') return { record };
  if (outcome.ok) return { record: { ...record, phase: 'Succeeded', ended: new Date(now).toISOString() } };
  const wait = nextAttemptDelay(record.attempt, policy);
  if (wait !== undefined) {
    return { record: { ...record, phase: 'Waiting', lastError: outcome.error, nextAttemptAt: now + wait }, retryInMs: wait };
  }
  const time = new Date(now).toISOString();
  const { nextAttemptAt: _, ...rest } = record;
  return {
    record: { ...rest, phase: 'DeadLettered', lastError: outcome.error, ended: time },
    deadLetter: {
      trigger: record.trigger, firing: record.firing, input: record.input, error: outcome.error, attempts: record.attempt,
      target: `${record.target.kind}/${record.target.name}`, time,
    },
  };
}

/** The record once its wait is over: the next try, Running. */
export function nextAttempt(record: FiringRecord): FiringRecord {
  if (record.phase !== 'Waiting') return record;
  const { nextAttemptAt: _, ...rest } = record;
  return { ...rest, phase: 'Running', attempt: record.attempt + 1 };
}

/** The firings bucket's key of a record: `open.<uid>.<firing>` while it runs, `done.<uid>.<firing>` once ended. */
export function firingKey(uid: string, firing: string, ended: boolean): string {
  return `${ended ? 'done' : 'open'}.${uid}.${firing}`;
}
