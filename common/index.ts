/** What every process shares below the bus: logging, backoff, the actor supervision policy. */
export { backoffDelay, sleep, validateBackoff, type BackoffPolicy } from './backoff';
export { componentLog, log, setLogLevel, type Logger } from './log';
export { backoffOnCrash, crashRecords, DEFAULT_RESTART_POLICY, type CrashRecord, type RestartPolicy } from './supervision';
export { specHash } from './spec-hash';
