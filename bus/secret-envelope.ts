/**
 * Encryption at rest for the values the object store must not keep in clear (Secrets): an
 * AES-256-GCM envelope, like Kubernetes' aesgcm provider
 * (https://kubernetes.io/docs/tasks/administer-cluster/encrypt-data/). A sealed value is text:
 *
 *   mk:enc:aesgcm:v1:<keyId>:<base64 of iv (12 bytes) | ciphertext | tag (16 bytes)>
 *
 * A fresh random IV per write; the store key (`secrets.<ns>.<name>`) is the authenticated data,
 * so a sealed value copied under another key does not open. A key ring holds several keys,
 * newest first: writes seal with the first, reads open with whichever the value names, so a key
 * can be rotated (add a new one in front, re-write, then drop the old one).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ErrorCodes, MkError, ValidationError } from '../messages/errors';

/** What every sealed value starts with (the version names the layout and the cipher). */
export const ENVELOPE_PREFIX = 'mk:enc:aesgcm:v1:';
/** Bytes of an AES-256 key. */
export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Key ids: short tokens that cannot hold the envelope's separator. */
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;

const te = new TextEncoder();
const td = new TextDecoder();
const PREFIX_BYTES = te.encode(ENVELOPE_PREFIX);

/** One key of a ring. */
export interface EncryptionKey {
  /** Named in every value it seals (`[A-Za-z0-9_-]`, at most 64 characters). */
  id: string;
  /** KEY_BYTES random bytes. */
  secret: Uint8Array;
}

/**
 * Thrown when a sealed value cannot be opened: no ring, a key the ring lacks, or a value that
 * fails authentication (tampered with, truncated, or moved under another key). Never retried:
 * the value or the key file must be fixed by hand.
 */
export class EncryptionError extends MkError {
  /** The store key of the value. */
  readonly key: string;
  /** The key id the value names, when it names one. */
  readonly keyId: string | undefined;
  constructor(key: string, keyId: string | undefined, message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.Internal, message, options);
    this.name = 'EncryptionError';
    this.key = key;
    this.keyId = keyId;
  }
}

/** Whether `err` is an EncryptionError. */
export function isEncryptionError(err: unknown): err is EncryptionError {
  return err instanceof EncryptionError;
}

/** Whether `value` is a sealed envelope (of any key). */
export function isSealed(value: Uint8Array): boolean {
  if (value.length < PREFIX_BYTES.length) return false;
  for (let i = 0; i < PREFIX_BYTES.length; i++) if (value[i] !== PREFIX_BYTES[i]) return false;
  return true;
}

/** The key id a sealed value names, or undefined when it is not sealed or names none. */
export function sealedKeyId(value: Uint8Array): string | undefined {
  if (!isSealed(value)) return undefined;
  const head = td.decode(value.subarray(PREFIX_BYTES.length, PREFIX_BYTES.length + 65));
  const end = head.indexOf(':');
  const id = end > 0 ? head.slice(0, end) : '';
  return KEY_ID.test(id) ? id : undefined;
}

/** Keys to seal and open values with, newest first. */
export class KeyRing {
  private readonly keys: ReadonlyMap<string, Buffer>;
  /** The id writes seal with: the first key's. */
  readonly current: string;

  /**
   * `keys`: newest first; `source`: where they came from (a file), named in errors so an
   * operator knows what to fix. Throws ValidationError for an empty ring, a bad or repeated id,
   * or a key that is not KEY_BYTES long.
   */
  constructor(keys: readonly EncryptionKey[], readonly source = 'the encryption key ring') {
    if (keys.length === 0) throw new ValidationError(`${source}: it must hold at least one key`);
    const m = new Map<string, Buffer>();
    for (const [i, k] of keys.entries()) {
      if (!KEY_ID.test(k.id)) throw new ValidationError(`${source}: keys[${i}].id ${JSON.stringify(k.id)} must be 1 to 64 letters, digits, '-' or '_'`);
      if (m.has(k.id)) throw new ValidationError(`${source}: key id ${JSON.stringify(k.id)} appears twice`);
      if (k.secret.length !== KEY_BYTES) throw new ValidationError(`${source}: key ${k.id} must be ${KEY_BYTES} bytes (AES-256), not ${k.secret.length}`);
      m.set(k.id, Buffer.from(k.secret));
    }
    this.keys = m;
    this.current = keys[0].id;
  }

  /** The ids held, newest first. */
  ids(): string[] {
    return [...this.keys.keys()];
  }

  /** Whether the ring holds key `id`. */
  has(id: string): boolean {
    return this.keys.has(id);
  }

  /** Seals `plain` with the current key, bound to the store key `key` (a new random IV each call). */
  seal(key: string, plain: Uint8Array): Uint8Array {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.current)!, iv);
    cipher.setAAD(te.encode(key));
    const body = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return te.encode(`${ENVELOPE_PREFIX}${this.current}:${body.toString('base64')}`);
  }

  /**
   * Opens a sealed value stored under `key`. Throws EncryptionError naming the key (and the key
   * id) when the ring lacks the key it names, or when it fails authentication.
   */
  open(key: string, value: Uint8Array): Uint8Array {
    const keyId = sealedKeyId(value);
    if (keyId === undefined) throw new EncryptionError(key, undefined, `${key}: the encrypted value is malformed (no key id after ${ENVELOPE_PREFIX})`);
    const secret = this.keys.get(keyId);
    if (!secret) {
      throw new EncryptionError(key, keyId, `${key} is encrypted with key "${keyId}", which ${this.source} does not hold `
        + `(it holds ${this.ids().join(', ')}): restore the key file the value was written with`);
    }
    const body = Buffer.from(td.decode(value.subarray(PREFIX_BYTES.length + keyId.length + 1)), 'base64');
    if (body.length < IV_BYTES + TAG_BYTES) throw new EncryptionError(key, keyId, `${key}: the encrypted value is truncated`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', secret, body.subarray(0, IV_BYTES));
      decipher.setAAD(te.encode(key));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)), decipher.final()]);
    } catch (err) {
      throw new EncryptionError(key, keyId, `${key}: the encrypted value does not authenticate with key "${keyId}" `
        + '(altered, or written under another key)', { cause: err });
    }
  }
}

/** A new random key named `id` (default: 12 random hex digits). */
export function generateKey(id: string = randomBytes(6).toString('hex')): EncryptionKey {
  return { id, secret: randomBytes(KEY_BYTES) };
}
