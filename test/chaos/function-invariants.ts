/**
 * The invariants of the functions kind (functions.ts), pure functions of what the calls got, the
 * round's faults and a snapshot, so unit tests can drive them with synthetic worlds.
 *
 * Every call is synchronous (`mk function invoke`, a NATS request answered by a gateway). A call
 * must be answered with its result. It may be sent again only after an attempt that shows the
 * call never ran to an answer because of a fault, precisely:
 *
 * - `Error (503)`: a gateway answered 503 with Retry-After (it was stopping, or the queue was
 *   full): the gateway asks for the retry;
 * - a transport failure (the CLI got no reply at all: no responders, a timeout, a connection to
 *   the bus refused or closed) during an attempt that a SIGKILL of the gateway or of nats-server
 *   overlapped (from the kill until that process ran again, plus OUTAGE_SLACK_MS): the request,
 *   or its reply, went with the process.
 *
 * Anything else (any other status, a transport failure with no such fault, a wrong result) is a
 * violation: a control-plane or node-agent kill must cost no call, since the gateway holds calls
 * and instances keep serving.
 */
import type { Pod } from '../../messages';
import type { FaultEvent } from '../helpers/chaos-faults';
import type { Violation, WorldSnapshot } from './kind';

/** One attempt of a call: when it ran (ms since the round began) and what the CLI said. */
export interface CallAttempt {
  startMs: number;
  endMs: number;
  code: number;
  stdout: string;
  stderr: string;
}

/** A call the workload made, with every attempt. */
export interface CallRecord {
  id: number;
  /** `stream` or `burst <n>`. */
  lane: string;
  /** The result the function must give. */
  expected: unknown;
  attempts: CallAttempt[];
  /** The call was answered with `expected`. */
  answered: boolean;
}

/** What an attempt's failure was. */
export type AttemptOutcome = 'ok' | 'wrong-result' | 'retry-after' | 'transport' | 'error';

const v = (invariant: string, subject: string, detail: string, permanent = true): Violation => ({ invariant, subject, detail, permanent });
const firstLine = (s: string): string => s.trim().split('\n')[0] ?? '';

/** Classifies one attempt against the result expected. */
export function attemptOutcome(a: CallAttempt, expected: unknown): AttemptOutcome {
  if (a.code === 0) {
    try {
      return JSON.stringify(JSON.parse(a.stdout)) === JSON.stringify(expected) ? 'ok' : 'wrong-result';
    } catch {
      return 'wrong-result';
    }
  }
  const status = /Error \((\d{3})\)/.exec(a.stderr);
  if (status) return status[1] === '503' ? 'retry-after' : 'error';
  return 'transport';
}

/** The spans (ms since the round began) when a gateway or nats-server was down after a SIGKILL. */
export function outageSpans(faults: readonly FaultEvent[] | undefined, nowMs: number): { target: string; from: number; to: number }[] {
  return (faults ?? [])
    .filter((f) => (f.target === 'gateway' || f.target === 'nats') && f.outcome?.killed && f.atMs !== undefined)
    .map((f) => ({ target: f.target, from: f.atMs!, to: f.recoveredAfterMs !== undefined ? f.atMs! + f.recoveredAfterMs : nowMs }));
}

/**
 * How long after a killed process ran again (a new pid) an attempt's failure may still be blamed
 * on it: a new gateway loads, connects, lists and subscribes in a few seconds on a busy machine
 * (until then a request finds no responders), and the CLI reconnects to a new nats-server.
 */
export const OUTAGE_SLACK_MS = 5_000;

/** Every call answered with its result, and retried only after an attempt the rules above allow. */
export function checkCalls(calls: readonly CallRecord[], faults: readonly FaultEvent[] | undefined, nowMs: number): Violation[] {
  const spans = outageSpans(faults, nowMs);
  const out: Violation[] = [];
  for (const c of calls) {
    const subject = `call ${c.id} (${c.lane})`;
    for (const [i, a] of c.attempts.entries()) {
      const o = attemptOutcome(a, c.expected);
      if (o === 'ok' || o === 'retry-after') continue;
      if (o === 'wrong-result') { out.push(v('call-result', subject, `attempt ${i + 1} answered ${firstLine(a.stdout)}, not ${JSON.stringify(c.expected)}`)); continue; }
      if (o === 'error') { out.push(v('call-failed', subject, `attempt ${i + 1} at ${a.startMs} ms: ${firstLine(a.stderr)}`)); continue; }
      const blamed = spans.find((s) => s.from <= a.endMs && s.to + OUTAGE_SLACK_MS >= a.startMs);
      if (!blamed) {
        out.push(v('call-lost', subject, `attempt ${i + 1} (${a.startMs}-${a.endMs} ms) got no answer with no gateway or nats-server down: ${firstLine(a.stderr) || `exit ${a.code}`}`));
      }
    }
    if (!c.answered && !out.some((x) => x.subject === subject)) {
      const last = c.attempts.at(-1);
      out.push(v('call-answered', subject, `never answered after ${c.attempts.length} attempt(s)${last ? `; last: ${firstLine(last.stderr) || `exit ${last.code}`}` : ''}`));
    }
  }
  return out;
}

/** The function's instances that serve or may serve: not being deleted and not draining. */
export function servingInstances(pods: readonly Pod[], fn: string): Pod[] {
  return pods.filter((p) => p.metadata.labels?.['mk.io/function'] === fn && !p.metadata.deletionTimestamp
    && p.metadata.annotations?.['mk.io/draining'] !== 'true');
}

/** The most serving instances ever counted (during the round and in snapshots) is at most maxInstances. */
export function checkMaxInstances(fn: string, maxInstances: number, mostSeen: number, seenAtMs: number | undefined): Violation[] {
  return mostSeen > maxInstances
    ? [v('max-instances', `function default/${fn}`, `${mostSeen} serving instances at ${seenAtMs ?? '?'} ms, over maxInstances ${maxInstances}`)]
    : [];
}

/** Once the calls stopped (and idleSeconds passed), the function has no instance left. */
export function checkScaledToZero(fn: string, world: WorldSnapshot): Violation[] {
  const pods = ((world.objects?.get('pods') ?? []) as Pod[]).filter((p) => p.metadata.labels?.['mk.io/function'] === fn);
  return pods.length > 0
    ? [v('scale-to-zero', `function default/${fn}`, `${pods.length} instance(s) left with no call: ${pods.map((p) => p.metadata.name).join(', ')}`, false)]
    : [];
}

/** After the function's deletion: neither it nor a pod of it is left. */
export function checkFunctionCleaned(fn: string, world: WorldSnapshot): Violation[] {
  const out: Violation[] = [];
  const fns = (world.objects?.get('functions') ?? []).filter((f) => f.metadata.name === fn && (f.metadata.namespace ?? 'default') === 'default');
  if (fns.length > 0) out.push(v('cleaned', `function default/${fn}`, 'deleted, yet still in the store', false));
  const pods = ((world.objects?.get('pods') ?? []) as Pod[]).filter((p) => p.metadata.labels?.['mk.io/function'] === fn);
  if (pods.length > 0) out.push(v('cleaned', `function default/${fn}`, `pods of the deleted function left: ${pods.map((p) => p.metadata.name).join(', ')}`, false));
  return out;
}
