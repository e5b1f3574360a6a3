/**
 * The JetStream side of async function calls (messages/function-async.ts): the control plane makes
 * the work-queue stream, its one durable pull consumer, the dead-letter stream and the results
 * bucket; gateways open them with direct gets and the consumer only (embedded/permissions.ts).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy, DeliverPolicy, DiscardPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType,
  type Consumer, type JetStreamClient, type JetStreamManager,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import {
  ASYNC_ACK_WAIT_MS, ASYNC_CONSUMER, ASYNC_DUPLICATE_WINDOW_MS, ASYNC_JOB_WILDCARD, ASYNC_STREAM,
  DLQ_MAX_AGE_MS, DLQ_STREAM, DLQ_WILDCARD, RESULTS_BUCKET, RESULTS_TTL_MS,
} from '../messages/function-async';
import { ensureStream, nanos } from './ensure-stream';
import { jsApiCode, JsApiCodes, translateError } from './errors';

/**
 * Makes ASYNC_STREAM, its consumer ASYNC_CONSUMER, DLQ_STREAM and RESULTS_BUCKET where missing
 * (idempotent; another process making one first is fine), with `replicas` copies. Throws
 * UnavailableError or ForbiddenError as the bus says.
 */
export async function ensureAsyncStreams(jsm: JetStreamManager, js: JetStreamClient, replicas = 1): Promise<void> {
  try {
    await ensureStream(jsm, {
      name: ASYNC_STREAM,
      subjects: [ASYNC_JOB_WILDCARD],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: nanos(ASYNC_DUPLICATE_WINDOW_MS),
      max_age: nanos(RESULTS_TTL_MS),
      discard: DiscardPolicy.New,
      num_replicas: replicas,
      description: 'mk: async function calls waiting for a gateway',
    });
    await ensureStream(jsm, {
      name: DLQ_STREAM,
      subjects: [DLQ_WILDCARD],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: nanos(ASYNC_DUPLICATE_WINDOW_MS),
      max_age: nanos(DLQ_MAX_AGE_MS),
      allow_direct: true,
      num_replicas: replicas,
      description: 'mk: async function calls that failed every try',
    });
    await jsm.consumers.info(ASYNC_STREAM, ASYNC_CONSUMER).catch(async (err: unknown) => {
      if (jsApiCode(err) !== JsApiCodes.ConsumerNotFound) throw err;
      await jsm.consumers.add(ASYNC_STREAM, {
        durable_name: ASYNC_CONSUMER,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(ASYNC_ACK_WAIT_MS),
        // Unlimited: the gateway counts tries itself and dead-letters the job after the last one,
        // so a job whose last try was cut short by a killed gateway is still seen again and finished.
        max_deliver: -1,
        max_ack_pending: 10_000,
        description: 'mk: every gateway pulls async calls from here',
      });
    });
    await new Kvm(js).create(RESULTS_BUCKET, {
      history: 1, ttl: RESULTS_TTL_MS, replicas, storage: StorageType.File, allow_direct: true,
      description: 'mk: async function calls\' results, by id, kept 24 h',
    });
  } catch (err) {
    throw translateError(err, { action: 'make the async function call streams' });
  }
}

/** What a gateway works with: the queue's consumer, the results bucket, JetStream for publishing. */
export interface AsyncQueue {
  js: JetStreamClient;
  jsm: JetStreamManager;
  results: KV;
  /** Resolves the shared consumer; throws while the control plane has not made it yet. */
  consumer(): Promise<Consumer>;
}

/** Opens the async queue for a gateway; touches nothing on the server until used. */
export async function openAsyncQueue(nc: NatsConnection): Promise<AsyncQueue> {
  const js = jetstream(nc, { checkAPI: false });
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const results = await new Kvm(js).open(RESULTS_BUCKET, { allow_direct: true, bindOnly: true });
  return { js, jsm, results, consumer: () => js.consumers.get(ASYNC_STREAM, ASYNC_CONSUMER) };
}
