/**
 * Making consumers on a replicated stream (a 3-server cluster). nats-server places each new
 * consumer on members of the stream's group, and a member that died without a word (SIGKILL,
 * power loss) still counts as one until the others notice, which takes nats-server 2.9 minutes:
 * a consumer placed there is never answered for. Such a request fails by timeout while the next
 * one, placed elsewhere, is answered in milliseconds. So on a replicated bus, making a consumer
 * (and reading through it, for lists) is tried a few times with a short timeout. On a server that
 * is not in a cluster nothing changes: one try with the bus's own timeout.
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { ErrorCodes } from '../messages/errors';
import type { Bus } from './connection';
import { translateError } from './errors';
import { busLog } from './log';

/** Each try's timeout on a replicated bus (creating a consumer takes milliseconds when it works). */
export const CONSUMER_TRY_TIMEOUT_MS = 1500;
/** How many tries on a replicated bus. */
export const CONSUMER_TRIES = 4;

const quick = new WeakMap<Bus, JetStreamClient>();

/**
 * Runs `fn` with a JetStream client, retrying on timeouts when the bus is replicated (see the
 * module comment). `fn` must be safe to run again: it makes its own consumer each time. Throws
 * what the last try threw.
 */
export async function withConsumer<T>(bus: Bus, what: string, fn: (js: JetStreamClient) => Promise<T>): Promise<T> {
  // The server says it is part of a cluster (INFO's `cluster`), or this process makes replicas.
  const clustered = (bus.replicas ?? 1) > 1 || Boolean(bus.nc.info?.cluster);
  if (!clustered) return fn(bus.js);
  let js = quick.get(bus);
  if (!js) {
    js = jetstream(bus.nc, { timeout: CONSUMER_TRY_TIMEOUT_MS });
    quick.set(bus, js);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(js);
    } catch (err) {
      if (attempt >= CONSUMER_TRIES || translateError(err, { action: what }).code !== ErrorCodes.Timeout) throw err;
      busLog.debug({ what, attempt }, 'consumer request unanswered (placed on a server that is down?); trying again');
    }
  }
}
