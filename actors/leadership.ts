/**
 * Which control plane leads. Every replica serves the subject API (a NATS queue group: the store's
 * compare-and-swap orders their writes); only the leader runs what acts on its own: the kind
 * supervisors and their controllers, the scheduler, the watch publisher and maintenance. The
 * leader holds the Lease mk-system/mk-control-plane in the object store (bus/lease.ts) and writes
 * through a store fenced by it, so a leader whose term ended writes nothing more even before its
 * actors have stopped.
 */
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import { LeaderElector, leaseTiming, type LeaseBackend, type LeaseSpec, type ObjectStore } from '../bus';
import { CONTROL_PLANE_LEASE, LEASE_NAMESPACE, LeaseKind, objectKey, type Lease, type LeaseSpecFields } from '../messages';
import { admitCreate } from './api/admission';
import { leaseModule } from './lease/kind';
import { log } from './log';

/** The store key of the control planes' lease. */
export const CONTROL_PLANE_LEASE_KEY = objectKey(LeaseKind.plural, LEASE_NAMESPACE, CONTROL_PLANE_LEASE);

/**
 * A control plane's identity as a lease holder, new for every process: `<host>_<pid>_<random>`,
 * so an operator can tell which process leads.
 */
export function controlPlaneIdentity(): string {
  return `${os.hostname()}_${process.pid}_${randomUUID().slice(0, 8)}`;
}

/**
 * The lease as a Lease object at `key` in `store` (unfenced: candidates write it before they
 * lead). Updates keep the object's metadata from the last read; the elector always reads before
 * it writes.
 */
export function storeLeaseBackend(store: ObjectStore, key: string = CONTROL_PLANE_LEASE_KEY): LeaseBackend {
  let last: Lease | undefined;
  const spec = (s: LeaseSpec): LeaseSpecFields => JSON.parse(JSON.stringify(s)) as LeaseSpecFields;
  return {
    async read() {
      const got = await store.get<Lease>(key);
      last = got?.object;
      return got ? { spec: got.object.spec ?? {}, revision: got.revision } : null;
    },
    create(s) {
      const obj = admitCreate(leaseModule, {
        apiVersion: LeaseKind.apiVersion, kind: LeaseKind.kind, metadata: { name: CONTROL_PLANE_LEASE, namespace: LEASE_NAMESPACE }, spec: spec(s),
      } as Lease, LEASE_NAMESPACE, new Date());
      return store.create(key, obj);
    },
    update(s, revision) {
      if (!last) throw new Error('lease: update before any read');
      return store.update(key, { ...last, spec: spec(s) }, revision);
    },
  };
}

/** The leader's work for one term: started when this process leads, stopped when it no longer does. */
export interface LeaderWork { stop(): Promise<void> }

/** Options of startLeadership. */
export interface LeadershipOptions {
  store: ObjectStore;
  identity: string;
  /** The lease time (default 15 s). */
  leaseSeconds?: number;
  /** Starts the leader's work, writing through `fenced` (the store, refusing writes once the term ended). */
  lead(fenced: ObjectStore, term: number): Promise<LeaderWork>;
}

/** A running candidate. */
export interface Leadership {
  identity: string;
  isLeader(): boolean;
  /** Stops campaigning; a leader stops its work and then gives the lease up. */
  stop(): Promise<void>;
}

/** Campaigns for the control planes' lease; runs `lead` for each term this process wins. */
export function startLeadership(opts: LeadershipOptions): Leadership {
  let work: LeaderWork | undefined;
  let term = 0;
  const elector: LeaderElector = new LeaderElector({
    identity: opts.identity,
    backend: storeLeaseBackend(opts.store),
    timing: leaseTiming(opts.leaseSeconds),
    async onStartedLeading() {
      term++;
      log.info({ identity: opts.identity, term }, 'leading: starting the controllers');
      work = await opts.lead(opts.store.fenced((action) => elector.assertLeader(action)), term);
    },
    async onStoppedLeading(reason) {
      log.warn({ identity: opts.identity, reason }, 'no longer leading: stopping the controllers');
      const w = work;
      work = undefined;
      await w?.stop();
    },
  });
  elector.run();
  return {
    identity: opts.identity,
    isLeader: () => elector.isLeader(),
    stop: () => elector.stop(),
  };
}
