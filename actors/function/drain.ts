/**
 * When a draining function instance may be deleted, pure. Gateways send a draining instance no
 * new call once their listing shows the mark; until then one may still send it a call. So the
 * instance goes once every live gateway has a view taken after the mark was committed and none
 * has a call on it; or, whatever the views say, once the function's timeout has passed since the
 * last call seen on it (a call past the timeout is answered 504 by the gateway anyway), counted
 * from the mark when none was seen.
 */

/** What one live gateway (a report within STATS_TTL_MS) last said, for one function. */
export interface GatewayView {
  gateway: string;
  /** When its last completed listing of functions and pods started (ms since the epoch), if it says. */
  viewAt?: number;
  /** When it sent the report (ms since the epoch). */
  at: number;
  /** Its calls in flight per instance pod of the function. */
  pods: Readonly<Record<string, number>>;
}

/** What one drain decision takes. */
export interface DrainInput {
  pod: string;
  /** The pod's mk.io/draining-since (ms). */
  since: number;
  /** When the controller first saw the mark in the store (ms), if it did: a listing that started before may predate the write. */
  markedAt?: number;
  /** When a report last showed a call on the pod (ms), if one did. */
  lastCall?: number;
  /** The function's timeoutSeconds in ms. */
  timeoutMs: number;
  /** Every live gateway's view. */
  views: readonly GatewayView[];
  now: number;
}

/**
 * How long after the mark a gateway that does not report viewAt (an older one) is trusted to have
 * listed again: its listing period and its next report fit in it.
 */
export const UNDATED_VIEW_SETTLE_MS = 1_500;

/** True when the draining pod may be deleted now (see above). */
export function drainable(i: DrainInput): boolean {
  if (i.now - Math.max(i.since, i.lastCall ?? 0) >= i.timeoutMs) return true;
  const known = Math.max(i.since, i.markedAt ?? i.since);
  return i.views.every((v) => (v.pods[i.pod] ?? 0) === 0
    && (v.viewAt !== undefined ? v.viewAt >= known : i.now - i.since >= UNDATED_VIEW_SETTLE_MS));
}
