/**
 * Keeping the objects bucket's Secrets sealed under the current key: the start-up check that the
 * keys a control plane loaded open every stored Secret, and the leader's pass that re-writes the
 * Secrets stored in clear (written before encryption, or by a store without keys) or under an
 * older key (after a rotation), as Kubernetes' storage migration does after a key change
 * (https://kubernetes.io/docs/tasks/administer-cluster/encrypt-data/#ensure-all-secrets-are-encrypted).
 */
import { isConflict, isNotFound, TimeoutError, UnavailableError } from '../messages/errors';
import { busLog } from './log';
import { decodeObject, SEALED_PREFIX } from './object-codec';
import type { ObjectStore } from './object-store';
import { EncryptionError, isSealed, sealedKeyId } from './secret-envelope';

/**
 * Throws EncryptionError when a live Secret is sealed with a key `store` cannot open: a key its
 * ring lacks (the message names the ring's source, its file), or any key when it has none
 * (`source` then says where keys should have come from). Throws UnavailableError when the bus
 * is down.
 */
export async function checkSealedSecrets(store: ObjectStore, source: string): Promise<void> {
  const { values } = await store.values(`${SEALED_PREFIX}>`);
  const missing = new Map<string, string[]>();
  for (const v of values) {
    if (!isSealed(v.value)) continue;
    const id = sealedKeyId(v.value) ?? '(unnamed)';
    if (store.keys?.has(id)) continue;
    missing.set(id, [...(missing.get(id) ?? []), v.key]);
  }
  if (missing.size === 0) return;
  const [[id, keys]] = [...missing];
  const count = [...missing.values()].reduce((n, ks) => n + ks.length, 0);
  const held = store.keys ? `${store.keys.source} holds only ${store.keys.ids().join(', ')}` : `no encryption keys were loaded (${source})`;
  throw new EncryptionError(keys[0], id, `${count} stored Secret(s) (${keys.slice(0, 3).join(', ')}${count > 3 ? ', ...' : ''}) are encrypted `
    + `with key(s) ${[...missing.keys()].map((k) => `"${k}"`).join(', ')}, but ${held}: restore the key file the cluster `
    + 'was made with (every control plane of a cluster needs the same file) and start again');
}

/**
 * Re-writes, under their read revision, the live Secrets not sealed with `store`'s current key,
 * then removes the revisions before the re-written one from the bucket's history, so no copy in
 * clear or under an older key stays. A Secret changed meanwhile is left alone (its writer sealed
 * it; its history is then as that writer left it). Safe to repeat. Returns how
 * many were re-written and how many were left for a change. Does nothing without keys. Throws
 * EncryptionError for a value the keys cannot open, UnavailableError when the bus is down.
 */
export async function sealStoredSecrets(store: ObjectStore): Promise<{ sealed: number; skipped: number }> {
  const keys = store.keys;
  if (!keys) return { sealed: 0, skipped: 0 };
  const { values } = await store.values(`${SEALED_PREFIX}>`);
  let sealed = 0;
  let skipped = 0;
  for (const v of values) {
    if (isSealed(v.value) && sealedKeyId(v.value) === keys.current) continue;
    const object = decodeObject<unknown>(v.key, v.value, v.revision, keys);
    let revision: number;
    try {
      revision = await store.update(v.key, object, v.revision);
    } catch (err) {
      if (!isConflict(err) && !isNotFound(err)) throw err;
      skipped++;
      continue;
    }
    // The bucket keeps older revisions: the one in clear (or under the old key) must not stay.
    await store.forgetOlderRevisions(v.key, revision);
    sealed++;
  }
  if (sealed + skipped > 0) busLog.info({ sealed, skipped, key: keys.current }, 'sealed the stored Secrets with the current encryption key');
  return { sealed, skipped };
}

/** What the canary holds once opened: nothing secret, only proof of the key. */
const CANARY_TEXT = 'mk: the key the Secrets of this store are encrypted with';

/** How long a starting control plane asks for the canary while the bus does not answer (a JetStream cluster still electing). */
const CANARY_READ_WAIT_MS = 30_000;

/** The canary, asked again while the bus is unavailable or does not reply, up to CANARY_READ_WAIT_MS. */
async function readCanaryPatiently(store: ObjectStore): Promise<{ value: Uint8Array; revision: number } | null> {
  const deadline = Date.now() + CANARY_READ_WAIT_MS;
  for (;;) {
    try {
      return await store.readCanary();
    } catch (err) {
      if (!(err instanceof UnavailableError || err instanceof TimeoutError) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/**
 * Checks the store's encryption canary (a value sealed in the meta bucket when the first control
 * plane with keys started): the canary records which key the cluster's Secrets are sealed with,
 * even before any Secret exists, so a control plane on another machine that made a key of its
 * own (it started without the cluster's key file) is refused instead of sealing Secrets the others
 * cannot open. Writes the canary when there is none, and seals it again under the current key
 * after a rotation (the old key opens it). Does nothing without keys. Throws EncryptionError
 * naming the key file to copy when `store`'s keys cannot open the canary, UnavailableError when
 * the bus has not answered for CANARY_READ_WAIT_MS (a starting JetStream cluster may not yet).
 */
export async function checkKeyCanary(store: ObjectStore): Promise<void> {
  const keys = store.keys;
  if (!keys) return;
  const key = store.canaryKey;
  const sealed = (): Uint8Array => keys.seal(key, new TextEncoder().encode(CANARY_TEXT));
  for (let attempt = 0; ; attempt++) {
    const cur = await readCanaryPatiently(store);
    if (cur) {
      const id = sealedKeyId(cur.value);
      if (id === undefined || !keys.has(id)) {
        throw new EncryptionError(key, id, `the store's Secrets are encrypted with key "${id ?? '(unnamed)'}" (recorded when the cluster's first `
          + `control plane started), but ${keys.source} holds only ${keys.ids().join(', ')}: copy ${keys.source} from a machine whose `
          + 'control plane has the cluster\'s key file (every control plane of a cluster needs the same file) and start again');
      }
      keys.open(key, cur.value); // throws when the key of that id is not the cluster's
      if (id === keys.current) return;
    }
    try {
      await store.writeCanary(sealed(), cur?.revision ?? 0);
      if (!cur) busLog.info({ key: keys.current }, 'recorded the encryption key of the store');
      return;
    } catch (err) {
      // Another control plane wrote the canary meanwhile: judge the keys by what it wrote.
      if (attempt >= 4 || (await store.readCanary())?.revision === cur?.revision) throw err;
    }
  }
}
