/**
 * The MK_ACTORS stream: every process's actor lifecycle batches and censuses for an hour, the
 * source of the tree at a past moment (bus/actor-history.ts). The control plane makes it with the
 * other streams; node agents only publish on their own subjects, which the stream captures.
 */
import { DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { ACTOR_STREAM, actorWildcard } from '../messages/telemetry';
import type { Bus } from './connection';
import { JsApiCodes, jsApiCode, translateError } from './errors';

/** How long the stream keeps the trees' history. */
export const ACTOR_STREAM_MAX_AGE_MS = 60 * 60_000;
/**
 * Messages kept per subject (one process's lifecycle, or its censuses): a process in a spawn
 * storm cannot push other processes' history, nor its own censuses, out of the stream.
 */
export const ACTOR_STREAM_MAX_PER_SUBJECT = 50_000;
/** A cap on the whole stream beside its age. */
export const ACTOR_STREAM_MAX_BYTES = 1024 * 1024 * 1024;

/**
 * Makes sure MK_ACTORS exists (file storage, subjects `mk.sys.actor.*.lifecycle` and
 * `mk.sys.actor.*.census`, max age 1 h); an existing stream is used as it is. Throws
 * UnavailableError when JetStream cannot be reached.
 */
export async function ensureActorStream(bus: Bus, opts: { replicas?: number } = {}): Promise<void> {
  try {
    await bus.jsm.streams.info(ACTOR_STREAM).catch(async (err: unknown) => {
      if (jsApiCode(err) !== JsApiCodes.StreamNotFound) throw err;
      await bus.jsm.streams.add({
        name: ACTOR_STREAM,
        subjects: [actorWildcard('lifecycle'), actorWildcard('census')],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        max_age: ACTOR_STREAM_MAX_AGE_MS * 1_000_000, // nanoseconds
        max_msgs_per_subject: ACTOR_STREAM_MAX_PER_SUBJECT,
        max_bytes: ACTOR_STREAM_MAX_BYTES,
        discard: DiscardPolicy.Old,
        num_replicas: opts.replicas ?? bus.replicas ?? 1,
        description: 'mk: actor lifecycles and censuses of every process, kept for an hour',
      }).catch((e: unknown) => {
        if (jsApiCode(e) !== JsApiCodes.StreamNameInUse) throw e;
      });
    });
  } catch (err) {
    throw translateError(err, { action: `open stream ${ACTOR_STREAM}` });
  }
}
