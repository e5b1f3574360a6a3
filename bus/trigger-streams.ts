/**
 * The JetStream side of triggers (messages/trigger-subjects.ts): the control plane makes the
 * events stream (subject, HTTP and file firings), the dead-letter stream and the firings bucket;
 * the trigger engine sets the events stream's subjects and opens one durable consumer per
 * trigger. Gateways only publish HTTP firings, and nodes only their own file firings
 * (embedded/permissions.ts).
 */
import {
  AckPolicy, DeliverPolicy, RetentionPolicy, StorageType,
  type JetStreamClient, type JetStreamManager,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import {
  TRIGGER_DLQ_CAPTURE, TRIGGER_DLQ_MAX_AGE_MS, TRIGGER_DLQ_STREAM, TRIGGER_EVENTS_DUPLICATE_WINDOW_MS, TRIGGER_EVENTS_MAX_AGE_MS,
  TRIGGER_EVENTS_STREAM, TRIGGER_FILE_WILDCARD, TRIGGER_FIRINGS_BUCKET, TRIGGER_FIRINGS_TTL_MS, TRIGGER_HTTP_WILDCARD,
} from '../messages/trigger-subjects';
import { ensureStream, nanos } from './ensure-stream';
import { jsApiCode, JsApiCodes, translateError } from './errors';

/** What the events stream captures whatever subject triggers there are: HTTP and file firings. */
const ALWAYS_CAPTURED = [TRIGGER_HTTP_WILDCARD, TRIGGER_FILE_WILDCARD] as const;

/**
 * Makes TRIGGER_EVENTS_STREAM (capturing the HTTP and file firing subjects until the engine sets the rest),
 * TRIGGER_DLQ_STREAM and TRIGGER_FIRINGS_BUCKET where missing, with `replicas` copies; an existing
 * stream keeps its subjects. Idempotent. Throws UnavailableError or ForbiddenError as the bus says.
 */
export async function ensureTriggerStreams(jsm: JetStreamManager, js: JetStreamClient, replicas = 1): Promise<void> {
  try {
    await ensureStream(jsm, {
      name: TRIGGER_EVENTS_STREAM,
      subjects: [...ALWAYS_CAPTURED],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: nanos(TRIGGER_EVENTS_MAX_AGE_MS),
      duplicate_window: nanos(TRIGGER_EVENTS_DUPLICATE_WINDOW_MS),
      num_replicas: replicas,
      description: 'mk: messages of subject triggers, HTTP and file firings, until their triggers have recorded them',
    });
    await ensureStream(jsm, {
      name: TRIGGER_DLQ_STREAM,
      subjects: [TRIGGER_DLQ_CAPTURE],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: nanos(TRIGGER_DLQ_MAX_AGE_MS),
      allow_direct: true,
      num_replicas: replicas,
      description: 'mk: trigger firings that failed every try',
    });
    await openFiringsBucket(js, replicas);
  } catch (err) {
    throw translateError(err, { action: 'make the trigger streams' });
  }
}

/** Opens (making it when missing) the firings bucket. */
export async function openFiringsBucket(js: JetStreamClient, replicas = 1): Promise<KV> {
  return new Kvm(js).create(TRIGGER_FIRINGS_BUCKET, {
    history: 1, ttl: TRIGGER_FIRINGS_TTL_MS, replicas, storage: StorageType.File,
    description: 'mk: trigger firings in progress and, for a day, those that ended',
  });
}

/**
 * Sets the events stream's subjects to the HTTP and file firing subjects and `capture` (which must not
 * overlap each other: see actors/trigger/capture.ts), when they differ. Throws what the server
 * says (a subject another stream already captures), translated.
 */
export async function setCapturedSubjects(jsm: JetStreamManager, capture: readonly string[]): Promise<void> {
  const want = [...ALWAYS_CAPTURED, ...capture].sort();
  try {
    const info = await jsm.streams.info(TRIGGER_EVENTS_STREAM);
    const have = [...(info.config.subjects ?? [])].sort();
    if (have.length === want.length && have.every((s, i) => s === want[i])) return;
    await jsm.streams.update(TRIGGER_EVENTS_STREAM, { subjects: want });
  } catch (err) {
    throw translateError(err, { action: 'set the subjects the trigger events stream captures' });
  }
}

/** The durable consumer of the trigger with `uid`. */
export function triggerConsumerName(uid: string): string {
  return `mk-trigger-${uid.replace(/[^A-Za-z0-9_-]/g, '')}`;
}

/**
 * Makes the trigger's durable consumer on the events stream when missing, filtered to `subject`
 * and delivering what came after `since` (the trigger's creation). A consumer on another subject
 * (the trigger's subject changed) is made again, delivering only what comes from now on: the old
 * subject's messages are not the new one's, and the new one's earlier messages were never asked for.
 */
export async function ensureTriggerConsumer(jsm: JetStreamManager, uid: string, subject: string, since: Date): Promise<void> {
  const name = triggerConsumerName(uid);
  try {
    const info = await jsm.consumers.info(TRIGGER_EVENTS_STREAM, name).catch((err: unknown) => {
      if (jsApiCode(err) !== JsApiCodes.ConsumerNotFound) throw err;
      return undefined;
    });
    if (info?.config.filter_subject === subject) return;
    if (info) await jsm.consumers.delete(TRIGGER_EVENTS_STREAM, name);
    await jsm.consumers.add(TRIGGER_EVENTS_STREAM, {
      durable_name: name,
      filter_subject: subject,
      ack_policy: AckPolicy.Explicit,
      ...(info ? { deliver_policy: DeliverPolicy.New } : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: since.toISOString() }),
      ack_wait: nanos(30_000),
      max_deliver: -1,
      max_ack_pending: 256,
      description: `mk: the firings of trigger ${uid}`,
    });
  } catch (err) {
    throw translateError(err, { action: `make the consumer of trigger ${uid}` });
  }
}

/** The uids of the triggers that have a consumer on the events stream. */
export async function triggerConsumerUids(jsm: JetStreamManager): Promise<string[]> {
  const out: string[] = [];
  for await (const c of jsm.consumers.list(TRIGGER_EVENTS_STREAM)) {
    if (c.name.startsWith('mk-trigger-')) out.push(c.name.slice('mk-trigger-'.length));
  }
  return out;
}

/** Deletes the consumer of the trigger with `uid`; nothing when it is gone. */
export async function deleteTriggerConsumer(jsm: JetStreamManager, uid: string): Promise<void> {
  await jsm.consumers.delete(TRIGGER_EVENTS_STREAM, triggerConsumerName(uid)).catch((err: unknown) => {
    if (jsApiCode(err) !== JsApiCodes.ConsumerNotFound) throw translateError(err, { action: `delete the consumer of trigger ${uid}` });
  });
}
