/**
 * The pull loop of one subject or HTTP trigger on its durable consumer of the events stream
 * (bus/trigger-streams.ts): each message is handed to `handle` in stream order, one at a time,
 * and acked only once `handle` resolves (its firing recorded); a `handle` that throws gets the
 * message back after a pause. The loop survives a bus restart and a consumer not made yet.
 */
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { FilterInput } from './filters';
import { TRIGGER_EVENTS_STREAM } from '../../messages/trigger-subjects';

/** Between pulls while the consumer cannot be reached, and before a message whose handling failed comes back (ms). */
const RETRY_MS = 1000;
/** How long one pull waits for messages (ms): also how long stop() may take. */
const PULL_EXPIRES_MS = 2000;

/** A running loop. */
export interface Subscription {
  /** The subject the consumer filters (a change of subject means a new loop). */
  subject: string;
  stop(): Promise<void>;
}

/** A message's headers and body as filters read them. */
export function filterInputOf(m: Pick<JsMsg, 'headers' | 'data'>): FilterInput {
  const headers: Record<string, string[]> = {};
  if (m.headers) for (const k of m.headers.keys()) headers[k] = m.headers.values(k);
  return { headers, body: m.data };
}

/** The event a message gives its target: the body as JSON, else as text; null when empty. */
export function eventOf(data: Uint8Array): unknown {
  const text = new TextDecoder().decode(data);
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Starts pulling from consumer `consumer` (filtering `subject`). */
export function startSubscription(
  js: JetStreamClient, consumer: string, subject: string, handle: (m: JsMsg) => Promise<void>, log: (fields: object, msg: string) => void,
): Subscription {
  let stopped = false;
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());
  const loop = (async () => {
    while (!stopped) {
      try {
        const c = await js.consumers.get(TRIGGER_EVENTS_STREAM, consumer);
        const batch = await c.fetch({ max_messages: 16, expires: PULL_EXPIRES_MS });
        for await (const m of batch) {
          if (stopped) { m.nak(); continue; }
          try {
            await handle(m);
            m.ack();
          } catch (err) {
            log({ err: (err as Error).message, consumer, seq: m.seq }, 'a trigger message could not be fired; it comes back');
            try { m.nak(RETRY_MS); } catch { /* closed: it comes back after the ack wait */ }
          }
        }
      } catch (err) {
        if (stopped) break;
        log({ err: (err as Error).message, consumer }, 'pulling trigger messages failed; trying again');
        await sleep(RETRY_MS);
      }
    }
  })();
  return {
    subject,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
