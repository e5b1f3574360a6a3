/**
 * The names the engine gives to what it creates: state paths, branch scopes, invocation ids and
 * timer ids. They are built from the run's identity and its journal alone, so a replay gives every
 * task and timer the name it had before the crash, and the invoker can deduplicate by it.
 */

/** The path of the `visit`th execution of `state` in `scope` (`Check#2`, `Fan#1/0/Step#1`). */
export function statePath(scope: string, state: string, visit: number): string {
  return scope === '' ? `${state}#${visit}` : `${scope}/${state}#${visit}`;
}

/** The scope of branch (or Map item) `branch` of attempt `attempt` of the Parallel or Map at `path`. */
export function branchScope(path: string, attempt: number, branch: number): string {
  return attempt === 1 ? `${path}/${branch}` : `${path}@${attempt}/${branch}`;
}

/** True when `candidate` is `path` itself or lies in one of its branches (any attempt). */
export function isWithin(candidate: string, path: string): boolean {
  return candidate === path || candidate.startsWith(`${path}/`) || candidate.startsWith(`${path}@`);
}

/** The dedup id of a task attempt: the same attempt always gets the same id. */
export function invocationId(runId: string, path: string, attempt: number): string {
  return `${runId}/${path}/${attempt}`;
}

/** The id of the timer of a Wait state. */
export function waitTimerId(path: string): string {
  return `${path}/wait`;
}

/** The id of the backoff timer before attempt `attempt` of a state. */
export function retryTimerId(path: string, attempt: number): string {
  return `${path}/retry/${attempt}`;
}

/** The id of the timeoutSeconds timer of attempt `attempt` of a Task state. */
export function stateTimeoutTimerId(path: string, attempt: number): string {
  return `${path}/timeout/${attempt}`;
}

/** The id of the run's timeoutSeconds timer. */
export const RUN_TIMEOUT_TIMER_ID = 'run-timeout';
