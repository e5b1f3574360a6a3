/**
 * The connection to the bus: one NATS connection per process, with its JetStream client and
 * manager. Everything else in bus/ takes a `Bus`.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { errors as natsErrors } from '@nats-io/transport-node';
import { JetStreamApiError, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { backoffDelay, type BackoffPolicy } from '../common/backoff';
import { isForbidden, MkError, TimeoutError, UnavailableError } from '../messages/errors';
import { closeNats, openNats, type CoreBus, type CoreBusOptions } from './core-client';
import { translateError } from './errors';
import { busLog } from './log';
import { natsConnected, natsDisconnects, natsReconnects } from './metrics';

/** How to reach the bus. */
export interface BusOptions extends CoreBusOptions {
  /**
   * Ask the server at connect whether JetStream is on (default true). Clients that only send
   * requests (the CLI) skip the round trip.
   */
  checkJetStream?: boolean;
  /**
   * How many servers keep a copy of each stream and bucket this process makes: 1 on one server,
   * 3 on a 3-server cluster (default 1). Existing streams keep theirs.
   */
  replicas?: number;
  /**
   * Wait for the bus instead of failing (default false): while no server can be reached yet, or
   * JetStream does not answer yet (a fresh cluster without a meta leader), retry with backoff and
   * log why. For long-running processes that a supervisor started together with their servers.
   * Refused credentials and a server without JetStream still throw at once.
   */
  waitForJetStream?: boolean;
}

/** A connected bus: core NATS, JetStream client and JetStream manager. */
export interface Bus extends CoreBus {
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** The replica count for the streams and buckets this process makes (BusOptions.replicas). */
  replicas?: number;
  /**
   * Calls `fn` after every reconnect (a server restart, a network blip), so watches and consumers
   * resume at once instead of waiting for their heartbeats to time out. Returns the unsubscribe.
   */
  onReconnect(fn: () => void): () => void;
}

/**
 * Connects to the bus. After the first connect it reconnects forever (a server restart is a pause,
 * not an error). Throws UnavailableError when the first connect fails: the server cannot be reached
 * (the message names the URL and says to run `mk up`), refuses the credentials ("authorization
 * failed"), or has no JetStream. With `waitForJetStream` an unreachable server and a JetStream that
 * is not ready yet are waited for (see BusOptions) and only the other failures throw.
 */
export async function connectBus(opts: BusOptions): Promise<Bus> {
  const url = Array.isArray(opts.servers) ? opts.servers.join(',') : opts.servers;
  if (!opts.waitForJetStream) return connectOnce(opts, url);
  return untilJetStreamReady(`connect to the bus at ${url}`, () => connectOnce(opts, url), {
    notReady: (err) => jetStreamNotReady(err) ?? unreachable(err),
  });
}

async function connectOnce(opts: BusOptions, url: string): Promise<Bus> {
  const timeout = opts.timeoutMs ?? 5000;
  const nc = await openNats(opts);
  const js = jetstream(nc, { timeout });
  let jsm: JetStreamManager;
  try {
    // checkAPI asks the server for the account's JetStream info: fails fast when JetStream is off.
    jsm = await jetstreamManager(nc, { timeout, checkAPI: opts.checkJetStream !== false });
  } catch (err) {
    await nc.close();
    const e = translateError(err, { action: `use JetStream at ${url}` });
    if (isForbidden(e)) throw e;
    // No reply at all is a JetStream still electing its meta leader; waiting callers keep the cause.
    if (opts.waitForJetStream && jetStreamNotReady(err)) throw e;
    throw new UnavailableError(`the bus at ${url} has no JetStream (run nats-server with -js): ${(err as Error).message}`, { cause: err });
  }
  const reconnected = new Set<() => void>();
  watchStatus(nc, opts.name, () => {
    for (const fn of [...reconnected]) {
      try { fn(); } catch (err) { busLog.error({ connection: opts.name, err }, 'reconnect listener failed'); }
    }
  });
  let closing: Promise<void> | undefined;
  return {
    nc,
    js,
    jsm,
    replicas: opts.replicas ?? 1,
    onReconnect(fn) {
      reconnected.add(fn);
      return () => { reconnected.delete(fn); };
    },
    close: () => (closing ??= closeNats(nc, busLog)),
  };
}

/**
 * Logs disconnects and reconnects, so an operator sees why requests stall, keeps the connection's
 * metrics (mk_nats_connected, mk_nats_reconnects_total), and tells `onReconnect`.
 */
function watchStatus(nc: NatsConnection, name: string, onReconnect: () => void): void {
  const labels = { connection: name };
  natsConnected.set(labels, 1);
  void nc.closed().then(() => natsConnected.set(labels, 0));
  void (async () => {
    for await (const s of nc.status()) {
      switch (s.type) {
        case 'disconnect':
          natsConnected.set(labels, 0);
          natsDisconnects.inc(labels);
          busLog.warn({ connection: name, server: s.server }, 'bus disconnected; reconnecting');
          break;
        case 'reconnect':
          natsConnected.set(labels, 1);
          natsReconnects.inc(labels);
          busLog.info({ connection: name, server: s.server }, 'bus reconnected');
          onReconnect();
          break;
        case 'error': busLog.error({ connection: name, err: s.error }, 'bus connection error'); break;
        default: break;
      }
    }
  })().catch((err: unknown) => busLog.debug({ err }, 'bus status loop ended'));
}

/**
 * JetStream API error codes that mean "not yet" on a cluster that is still forming: the meta
 * group has no leader yet, or too few servers have joined to place every replica.
 * (nats-server server/errors.json.)
 */
const NOT_READY_CODES: Record<number, string> = {
  10005: 'too few servers have joined the cluster to place every replica yet',
  10008: 'the JetStream cluster has no meta leader yet',
};

/**
 * Why `err` (a nats.js error or an MkError made from one, looked for along `cause`) says that
 * JetStream is there but not ready yet: no reply to a JetStream request (a cluster without a meta
 * leader does not answer), a cluster that is temporarily unavailable, or one with too few servers
 * joined to place the replicas. Undefined for any other error.
 */
export function jetStreamNotReady(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof JetStreamApiError && NOT_READY_CODES[e.code]) return `${NOT_READY_CODES[e.code]}: ${e.message}`;
    if (e instanceof natsErrors.TimeoutError || e instanceof TimeoutError) return 'JetStream does not answer yet (no reply in time)';
  }
  return undefined;
}

/** Why `err` says no server could be reached (refused credentials are not that); undefined otherwise. */
function unreachable(err: unknown): string | undefined {
  if (!(err instanceof UnavailableError) || /authorization failed/.test(err.message)) return undefined;
  return /^cannot reach the bus/.test(err.message) ? 'no server can be reached yet' : undefined;
}

/** Options of untilJetStreamReady. */
export interface JetStreamWaitOptions {
  /** Between attempts (default 200 ms doubling to 5 s, 20 % jitter). */
  backoff?: BackoffPolicy;
  /** Why an error is worth waiting out (default jetStreamNotReady); undefined: throw it. */
  notReady?: (err: unknown) => string | undefined;
  /** Where the waiting is told (default the bus log, warn). */
  log?: (fields: Record<string, unknown>, msg: string) => void;
}

/** 200 ms doubling to 5 s, with jitter so replicas that start together do not ask in step. */
const JETSTREAM_WAIT: BackoffPolicy = { initialMs: 200, maxMs: 5_000, jitter: 0.2 };

/**
 * Runs `fn` until it succeeds, waiting with backoff while it fails because JetStream is not ready
 * yet (see jetStreamNotReady): a fresh 3-server cluster elects its meta leader and learns its
 * peers only after its servers listen. Logs a line saying what waits and why (the first attempts,
 * then every tenth) and one when it is done. Any other error is thrown at once. `fn` must be
 * safe to run again after a failure.
 */
export async function untilJetStreamReady<T>(what: string, fn: () => Promise<T>, opts: JetStreamWaitOptions = {}): Promise<T> {
  const notReady = opts.notReady ?? jetStreamNotReady;
  const warn = opts.log ?? ((fields, msg) => busLog.warn(fields, msg));
  const since = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await fn();
      if (attempt > 0) busLog.info({ what, attempts: attempt + 1, waitedMs: Date.now() - since }, `${what}: JetStream is ready`);
      return r;
    } catch (err) {
      const reason = notReady(err);
      if (!reason) throw err;
      const delay = backoffDelay(opts.backoff ?? JETSTREAM_WAIT, attempt);
      if (attempt < 3 || attempt % 10 === 0) {
        const detail = err instanceof MkError || err instanceof Error ? err.message : String(err);
        warn({ what, attempt: attempt + 1, retryInMs: delay, err: detail }, `${what}: waiting, ${reason}`);
      }
      // A timer that keeps the process alive: waiting is all this process does until the bus is up.
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
