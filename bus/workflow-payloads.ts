/**
 * Large workflow payloads by reference: a journal event, a run's input or its output over the
 * inline limit (MAX_INLINE_PAYLOAD_BYTES, or less on a server with a smaller max_payload) is kept
 * in the JetStream object store bucket WORKFLOW_PAYLOAD_BUCKET, and only a reference travels: the
 * journal holds `{ $ref }` in place of the event, the status `outputRef` in place of `output`.
 * Objects are named `<run uid>/<what>` and go with their run (removeRun); an input the CLI put
 * there before the run existed is named `inputs/<namespace>/<run>/<random>` and goes with it too.
 */
import { jetstream } from '@nats-io/jetstream';
import { Objm, type ObjectStore as NatsObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { translateError } from './errors';
import { MAX_INLINE_PAYLOAD_BYTES, WORKFLOW_PAYLOAD_BUCKET, type JsonValue, type PayloadRef } from '../messages/workflow';
import { ValidationError } from '../messages/errors';

export { WORKFLOW_PAYLOAD_BUCKET };

/** Room kept in a message for what surrounds a payload (the event's other fields, headers). */
const ENVELOPE_BYTES = 64 * 1024;

/** Where large payloads go. */
export interface PayloadStore {
  /** The most bytes of JSON that travel inline. */
  readonly inlineLimit: number;
  put(key: string, value: JsonValue): Promise<PayloadRef>;
  get(ref: PayloadRef): Promise<JsonValue>;
  /** Removes every object of the run `uid`, and the input object `inputRef` names if any. */
  removeRun(uid: string, inputRef?: PayloadRef): Promise<void>;
}

/** A journal entry that stands for an event kept in the bucket. */
export interface EventRef { $ref: PayloadRef; seq: number; type: string }
export const isEventRef = (v: unknown): v is EventRef => typeof v === 'object' && v !== null && '$ref' in v;

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Opens the payload bucket on `nc`; with `create` (the control plane's) makes it when missing, with
 * `replicas` copies. Without, it is only bound (the CLI may read and write objects, nothing more).
 */
export async function openPayloadStore(nc: NatsConnection, opts: { create?: boolean; replicas?: number } = {}): Promise<PayloadStore> {
  let os: NatsObjectStore;
  try {
    const objm = new Objm(jetstream(nc, { checkAPI: false }));
    os = opts.create
      ? await objm.create(WORKFLOW_PAYLOAD_BUCKET, { replicas: opts.replicas ?? 1, description: 'mk: workflow payloads over the inline limit, by run' })
      : await objm.open(WORKFLOW_PAYLOAD_BUCKET, false);
  } catch (err) {
    throw translateError(err, { action: `open the payload bucket ${WORKFLOW_PAYLOAD_BUCKET}` });
  }
  const serverMax = nc.info?.max_payload ?? MAX_INLINE_PAYLOAD_BYTES;
  return {
    inlineLimit: Math.min(MAX_INLINE_PAYLOAD_BYTES, serverMax - ENVELOPE_BYTES),
    async put(key, value) {
      try {
        await os.putBlob({ name: key }, enc.encode(JSON.stringify(value)));
      } catch (err) {
        throw translateError(err, { action: `keep the workflow payload ${key}` });
      }
      return { bucket: WORKFLOW_PAYLOAD_BUCKET, key };
    },
    async get(ref) {
      if (ref.bucket !== WORKFLOW_PAYLOAD_BUCKET) {
        throw new ValidationError(`payload reference ${ref.bucket}/${ref.key}: workflow payloads are kept in the bucket ${WORKFLOW_PAYLOAD_BUCKET} only`);
      }
      let bytes: Uint8Array | null;
      try {
        bytes = await os.getBlob(ref.key);
      } catch (err) {
        throw translateError(err, { action: `read the workflow payload ${ref.key}` });
      }
      if (bytes === null) throw new ValidationError(`payload ${ref.bucket}/${ref.key} not found`);
      return JSON.parse(dec.decode(bytes)) as JsonValue;
    },
    async removeRun(uid, inputRef) {
      const prefix = `${uid}/`;
      for (const info of await os.list()) {
        if (info.name.startsWith(prefix) || (inputRef?.bucket === WORKFLOW_PAYLOAD_BUCKET && info.name === inputRef.key)) await os.delete(info.name);
      }
    },
  };
}
