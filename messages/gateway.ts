/**
 * What the function gateway and the function controller say to each other, and the reply of a
 * call over NATS. No I/O.
 */

/** One function's load in one gateway. */
export interface FunctionLoad {
  namespace: string;
  name: string;
  /** Calls sent to an instance and not answered yet. */
  inFlight: number;
  /** Calls waiting for an instance with a free slot. */
  queued: number;
  /**
   * Async calls of the function waiting or running in the work-queue stream (the same count from
   * every gateway, so the controller takes the largest, never the sum).
   */
  asyncPending?: number;
  /** Calls in flight per instance pod name. */
  pods: Record<string, number>;
  /** When this gateway last took a call of the function (RFC 3339), if ever. */
  lastInvocation?: string;
  /** Pods that held a call past the function's timeout: the controller replaces them. */
  recycle?: string[];
}

/** A gateway's report, every second, on functionStatsSubject. */
export interface GatewayStats {
  /** The gateway's id (unique per process): the controller sums the reports of several. */
  gateway: string;
  /** When it was sent (ms since the epoch, the gateway's clock). */
  at: number;
  /** The gateway's HTTP base URL (`http://127.0.0.1:8081`), for Function status.url. */
  url?: string;
  /**
   * When the gateway's last completed listing of functions and pods started (ms since the epoch,
   * its clock): every instance marked draining before then gets no new call from it. The
   * controller deletes a draining instance only once every live gateway's viewAt is past the mark.
   */
  viewAt?: number;
  functions: FunctionLoad[];
}

/** Sent at once on functionDemandSubject when a call waits with no free slot. */
export interface FunctionDemand {
  gateway: string;
  namespace: string;
  name: string;
  inFlight: number;
  queued: number;
}

/**
 * The reply to a call over NATS: `status` is the HTTP status the gateway would have answered
 * (200 with the function's result; 4xx/5xx with `{ error, trace? }`), `body` the JSON body.
 */
export interface InvokeReply {
  status: number;
  body: unknown;
  /**
   * false when the call never reached an instance (a 504 because none became free in time): it
   * did not run, so trying it again cannot run it twice. Absent otherwise.
   */
  reached?: false;
}
