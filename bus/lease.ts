/**
 * Leases for leadership (one control plane leads, others stand by), in the spirit of Kubernetes'
 * coordination.k8s.io Lease: a record naming the holder, renewed before it expires; anyone may
 * take it over once it has expired. Every change is a compare-and-set on the KV revision, so two
 * contenders can never both win.
 *
 * Expiry uses the server's timestamp of the last write (acquire or renew) plus the holder's ttl,
 * compared with the local clock: machines' clocks must agree to well within the ttl (NTP).
 */
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { isAlreadyExists, isConflict, ValidationError } from '../messages/errors';
import { LEASES_BUCKET } from '../messages/subjects';
import type { Bus } from './connection';
import { translateError } from './errors';
import { checkKey } from './object-codec';
import { decode, encode } from './request';

/** A lease held by `holder`, valid until `expiresAt` (ms since the epoch) unless renewed. */
export interface Lease {
  name: string;
  holder: string;
  ttlMs: number;
  /** KV revision of the lease record: the CAS token for renew and release. */
  revision: number;
  expiresAt: number;
}

interface LeaseRecord { holder: string; ttlMs: number }

const buckets = new WeakMap<Bus, Promise<KV>>();

function bucket(bus: Bus): Promise<KV> {
  let kv = buckets.get(bus);
  if (!kv) {
    kv = new Kvm(bus.js).create(LEASES_BUCKET, { history: 1, allow_direct: false });
    kv.catch(() => buckets.delete(bus));
    buckets.set(bus, kv);
  }
  return kv;
}

function check(name: string, holder: string, ttlMs: number): void {
  checkKey(name);
  if (!holder) throw new ValidationError('a lease holder must have a name');
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new ValidationError(`lease ttl must be a positive number of ms (got ${ttlMs})`);
}

function leaseOf(name: string, rec: LeaseRecord, revision: number, writtenAt: number): Lease {
  return { name, holder: rec.holder, ttlMs: rec.ttlMs, revision, expiresAt: writtenAt + rec.ttlMs };
}

/**
 * Tries to take the lease `name` for `holder` for `ttlMs`. Returns the lease when it was free,
 * expired, or already held by `holder` (then it is renewed); returns null when someone else holds
 * it or won the race for it. Throws ValidationError for bad arguments, UnavailableError when the
 * bus is down.
 */
export async function acquireLease(bus: Bus, name: string, holder: string, ttlMs: number): Promise<Lease | null> {
  check(name, holder, ttlMs);
  const rec: LeaseRecord = { holder, ttlMs };
  // Expiry is counted from before the write: the holder's view errs on the early side.
  const start = Date.now();
  try {
    const kv = await bucket(bus);
    const cur: KvEntry | null = await kv.get(name);
    if (cur && cur.operation === 'PUT') {
      const held = decode<LeaseRecord>(cur.value);
      const expired = cur.created.getTime() + held.ttlMs < start;
      if (held.holder !== holder && !expired) return null;
      const revision = await kv.update(name, encode(rec), cur.revision);
      return leaseOf(name, rec, revision, start);
    }
    // Free, or released (a delete marker): create handles both.
    const revision = await kv.create(name, encode(rec));
    return leaseOf(name, rec, revision, start);
  } catch (err) {
    const e = translateError(err, { action: `acquire lease ${name}` });
    if (isConflict(e) || isAlreadyExists(e)) return null;
    throw e;
  }
}

/**
 * Extends a held lease by its ttl from now and returns the renewed lease. Throws ConflictError
 * when the lease was lost (taken over or released): the holder must stop acting as leader.
 */
export async function renewLease(bus: Bus, lease: Lease): Promise<Lease> {
  const rec: LeaseRecord = { holder: lease.holder, ttlMs: lease.ttlMs };
  const start = Date.now();
  try {
    const kv = await bucket(bus);
    const revision = await kv.update(lease.name, encode(rec), lease.revision);
    return leaseOf(lease.name, rec, revision, start);
  } catch (err) {
    throw translateError(err, { action: `renew lease ${lease.name} for ${lease.holder} (lost it?)` });
  }
}

/**
 * Gives the lease up so a standby can take it at once. A lease already lost is left alone (no
 * error): releasing is idempotent. Throws UnavailableError when the bus is down.
 */
export async function releaseLease(bus: Bus, lease: Lease): Promise<void> {
  try {
    const kv = await bucket(bus);
    await kv.delete(lease.name, { previousSeq: lease.revision });
  } catch (err) {
    const e = translateError(err, { action: `release lease ${lease.name}` });
    if (!isConflict(e)) throw e;
  }
}
