/**
 * The connection to the bus: one NATS connection per process, with its JetStream client and
 * manager. Everything else in bus/ takes a `Bus`.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { isForbidden, UnavailableError } from '../messages/errors';
import { closeNats, openNats, type CoreBus, type CoreBusOptions } from './core-client';
import { translateError } from './errors';
import { busLog } from './log';

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
 * failed"), or has no JetStream.
 */
export async function connectBus(opts: BusOptions): Promise<Bus> {
  const url = Array.isArray(opts.servers) ? opts.servers.join(',') : opts.servers;
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

/** Logs disconnects and reconnects, so an operator sees why requests stall, and tells `onReconnect`. */
function watchStatus(nc: NatsConnection, name: string, onReconnect: () => void): void {
  void (async () => {
    for await (const s of nc.status()) {
      switch (s.type) {
        case 'disconnect': busLog.warn({ connection: name, server: s.server }, 'bus disconnected; reconnecting'); break;
        case 'reconnect':
          busLog.info({ connection: name, server: s.server }, 'bus reconnected');
          onReconnect();
          break;
        case 'error': busLog.error({ connection: name, err: s.error }, 'bus connection error'); break;
        default: break;
      }
    }
  })().catch((err: unknown) => busLog.debug({ err }, 'bus status loop ended'));
}
