/**
 * Functions' code in the JetStream object store (FUNCTION_CODE_BUCKET): one object per packed
 * tree, named by its digest, so the same code is stored once however many functions or versions
 * use it and an object never changes once written. `put` uploads only what is absent; `get`
 * checks the bytes against the digest they are named by. The control plane makes the bucket; the
 * CLI puts and gets, node agents only get (embedded/permissions.ts).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Objm, type ObjectStore as NatsObjectStore } from '@nats-io/obj';
import { NotFoundError, ValidationError } from '../messages/errors';
import { CODE_DIGEST } from '../messages/function-names';
import { FUNCTION_CODE_BUCKET } from '../messages/subjects';
import { codeDigest, MAX_CODE_BYTES, type PackedCode } from './code-archive';
import { translateError } from './errors';

export { codeDigest, MAX_CODE_BYTES, pack, readArchive, unpack, type ArchiveEntry, type PackedCode } from './code-archive';

/** The code bucket of one connection. */
export interface CodeBucket {
  readonly os: NatsObjectStore;
  readonly nc: NatsConnection;
}

/** The bucket's stream. */
const CODE_STREAM = `OBJ_${FUNCTION_CODE_BUCKET}`;

/**
 * Opens the code bucket; with `create` (the control plane's) makes it when missing, with
 * `replicas` copies (the bus's: 1 on one server, 3 on a cluster). Without `create` the bucket is
 * not even looked up: identities that may only read or write objects need nothing more. Throws
 * UnavailableError or ForbiddenError as the bus says.
 */
export async function openCodeBucket(nc: NatsConnection, opts: { create?: boolean; replicas?: number } = {}): Promise<CodeBucket> {
  // No $JS.API.INFO: the CLI's and nodes' identities may touch this bucket and no other JetStream API.
  const objm = new Objm(jetstream(nc, { checkAPI: false }));
  try {
    const os = opts.create
      ? await objm.create(FUNCTION_CODE_BUCKET, { replicas: opts.replicas ?? 1, description: 'mk: functions\' code, one object per digest' })
      : await objm.open(FUNCTION_CODE_BUCKET, false);
    return { os, nc };
  } catch (err) {
    throw translateError(err, { action: `open the code bucket ${FUNCTION_CODE_BUCKET}` });
  }
}

function checkDigest(digest: string): void {
  if (!CODE_DIGEST.test(digest)) throw new ValidationError(`"${digest}" is not a code digest (sha256:<64 lower-case hex digits>)`);
}

/** True when the bucket holds the code named `digest`. */
export async function hasCode(bucket: CodeBucket, digest: string): Promise<boolean> {
  checkDigest(digest);
  try {
    const info = await bucket.os.info(digest);
    return info !== null && !info.deleted;
  } catch (err) {
    throw translateError(err, { action: `look up code ${digest}` });
  }
}

/**
 * Uploads packed code under its digest unless the bucket holds it already. Resolves with whether
 * it uploaded. Throws ValidationError when the bytes do not match the digest or exceed the limit.
 */
export async function putCode(bucket: CodeBucket, packed: Pick<PackedCode, 'bytes' | 'digest'>): Promise<boolean> {
  checkDigest(packed.digest);
  if (codeDigest(packed.bytes) !== packed.digest) throw new ValidationError(`the code does not match its digest ${packed.digest}`);
  if (packed.bytes.length > MAX_CODE_BYTES) throw new ValidationError(`the code is larger than the limit of ${MAX_CODE_BYTES} bytes packed`);
  if (await hasCode(bucket, packed.digest)) return false;
  try {
    await bucket.os.putBlob({ name: packed.digest, description: 'function code (ustar)' }, packed.bytes);
  } catch (err) {
    throw translateError(err, { action: `upload code ${packed.digest}` });
  }
  return true;
}

/**
 * The packed code named `digest`, checked against it. Throws NotFoundError when the bucket does
 * not hold it, and ValidationError when what it holds does not hash to the digest.
 *
 * Read with direct gets only (the object's metadata, then each chunk after the last), not the
 * object store's ordered consumer: a reader that may create consumers on a stream may also name
 * any deliver subject for them, and the server would publish the stream's messages there for it.
 * Readers of code (the nodes) get no consumer permission at all (embedded/permissions.ts).
 */
export async function getCode(bucket: CodeBucket, digest: string): Promise<Uint8Array> {
  checkDigest(digest);
  let bytes: Uint8Array;
  try {
    const info = await bucket.os.info(digest);
    if (info === null || info.deleted) throw new NotFoundError(`code ${digest} not found in ${FUNCTION_CODE_BUCKET}`);
    if (info.size > MAX_CODE_BYTES) throw new ValidationError(`code ${digest} is ${info.size} bytes, over the limit of ${MAX_CODE_BYTES}`);
    const jsm = await jetstreamManager(bucket.nc, { checkAPI: false });
    const subject = `$O.${FUNCTION_CODE_BUCKET}.C.${info.nuid}`;
    bytes = new Uint8Array(info.size);
    let at = 0;
    let seq = 1;
    for (let chunk = 0; at < info.size; chunk++) {
      const m = await jsm.direct.getMessage(CODE_STREAM, { seq, next_by_subj: subject });
      if (m === null || m.data.length === 0 || at + m.data.length > info.size) {
        throw new ValidationError(`code ${digest} is corrupt: chunk ${chunk + 1} is ${m === null ? 'missing' : 'of the wrong size'}`);
      }
      bytes.set(m.data, at);
      at += m.data.length;
      seq = m.seq + 1;
    }
  } catch (err) {
    if (err instanceof NotFoundError || err instanceof ValidationError) throw err;
    throw translateError(err, { action: `download code ${digest}` });
  }
  const got = codeDigest(bytes);
  if (got !== digest) throw new ValidationError(`code ${digest} is corrupt: its bytes hash to ${got}`);
  return bytes;
}
