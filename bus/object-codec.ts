/**
 * How objects become KV values and back. Values are JSON. `metadata.resourceVersion` is not stored:
 * it is the KV revision, set on every read, so a stored copy can never disagree with it. Secrets
 * are sealed (bus/secret-envelope.ts) when the store has a key ring, so reading the bucket's raw
 * data never shows them in clear; a plain Secret written before (or by a store without keys)
 * still reads.
 */
import { MkError, ErrorCodes, ValidationError } from '../messages/errors';
import { SecretKind } from '../messages/kinds/config-data';
import { EncryptionError, isSealed, type KeyRing } from './secret-envelope';

/** The largest value the object store accepts (etcd's default request limit is 1.5 MiB; ours 1 MiB). */
export const MAX_VALUE_BYTES = 1024 * 1024;

const te = new TextEncoder();
const td = new TextDecoder();

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The key prefix of the objects sealed at rest: the Secrets'. */
export const SEALED_PREFIX = `${SecretKind.plural}.`;

/** Whether values under `key` are sealed when the store has a key ring. */
export function isSealedKey(key: string): boolean {
  return key.startsWith(SEALED_PREFIX);
}

/**
 * Serializes `object` for `key` without touching it (metadata is copied, not edited) and without
 * its resourceVersion; sealed with `keys` when the key is a Secret's (isSealedKey). Throws
 * ValidationError naming the key and size when the JSON is over MAX_VALUE_BYTES, or when the
 * value cannot be serialized (undefined, a function, a cycle).
 */
export function encodeObject(key: string, object: unknown, keys?: KeyRing): Uint8Array {
  let json: string | undefined;
  try {
    const value = isRecord(object) && isRecord(object.metadata) && 'resourceVersion' in object.metadata
      ? { ...object, metadata: { ...object.metadata, resourceVersion: undefined } }
      : object;
    json = JSON.stringify(value);
  } catch (err) {
    throw new ValidationError(`${key}: the object cannot be stored as JSON: ${(err as Error).message}`, [], { cause: err });
  }
  if (json === undefined) throw new ValidationError(`${key}: the object cannot be stored as JSON (it is ${typeof object})`);
  const data = te.encode(json);
  if (data.length > MAX_VALUE_BYTES) {
    throw new ValidationError(
      `${key} is too large to store: ${data.length} bytes, the limit is ${MAX_VALUE_BYTES} bytes (1 MiB)`,
      [`${key}: ${data.length} bytes > ${MAX_VALUE_BYTES}`],
    );
  }
  return keys && isSealedKey(key) ? keys.seal(key, data) : data;
}

/**
 * Parses a stored value (opening it with `keys` when it is sealed) and sets
 * `metadata.resourceVersion` to the revision when the object has a metadata object. Throws
 * MkError(Internal) naming the key when the stored bytes are not JSON (someone wrote to the
 * bucket without mk), EncryptionError when a sealed value cannot be opened (no `keys`, a key
 * they lack, or a value that fails authentication).
 */
export function decodeObject<T>(key: string, data: Uint8Array, revision: number, keys?: KeyRing): T {
  if (isSealed(data)) {
    if (!keys) throw new EncryptionError(key, undefined, `${key} at revision ${revision} is encrypted and this process has no encryption keys to read it`);
    data = keys.open(key, data);
  }
  let value: unknown;
  try {
    value = JSON.parse(td.decode(data));
  } catch (err) {
    throw new MkError(ErrorCodes.Internal, `${key} at revision ${revision} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (isRecord(value) && isRecord(value.metadata)) value.metadata.resourceVersion = String(revision);
  return value as T;
}

const KEY_RE = /^[-/=.\w]+$/;
const FILTER_RE = /^[-/=.>*\w]+$/;

/** Throws ValidationError unless `key` is a valid KV key: tokens of `[-/=\w]` joined by dots. */
export function checkKey(key: string): void {
  if (!KEY_RE.test(key) || key.split('.').some((t) => t === '')) {
    throw new ValidationError(`invalid key ${JSON.stringify(key)}: keys are dot-separated tokens of letters, digits, '-', '_', '/' and '='`);
  }
}

/** Throws ValidationError unless `filter` is a key or a wildcard filter (`*` a token, `>` the last). */
export function checkFilter(filter: string): void {
  const tokens = filter.split('.');
  const bad = !FILTER_RE.test(filter) || tokens.some((t, i) => t === ''
    || (t.includes('>') && (t !== '>' || i !== tokens.length - 1))
    || (t.includes('*') && t !== '*'));
  if (bad) {
    throw new ValidationError(`invalid key filter ${JSON.stringify(filter)}: use keys with '*' for one token and '>' as the last token, e.g. 'pods.default.>'`);
  }
}
