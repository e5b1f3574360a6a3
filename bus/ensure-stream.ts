/** Making a JetStream stream only when it is missing, as every component that owns a stream does at start. */
import type { JetStreamManager } from '@nats-io/jetstream';
import { jsApiCode, JsApiCodes } from './errors';

/** Milliseconds in JetStream's unit (nanoseconds). */
export const nanos = (ms: number): number => ms * 1_000_000;

/**
 * Makes the stream `config.name` unless it exists (an existing stream keeps its config); a
 * concurrent make by another process is not an error. Throws the bus's error otherwise.
 */
export async function ensureStream(jsm: JetStreamManager, config: Parameters<JetStreamManager['streams']['add']>[0]): Promise<void> {
  await jsm.streams.info(config.name).catch(async (err: unknown) => {
    if (jsApiCode(err) !== JsApiCodes.StreamNotFound) throw err;
    await jsm.streams.add(config).catch((e: unknown) => {
      if (jsApiCode(e) !== JsApiCodes.StreamNameInUse) throw e;
    });
  });
}
