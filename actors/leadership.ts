/**
 * Which control plane leads. Every replica serves the subject API (a NATS queue group: the store's
 * compare-and-swap orders their writes); only the leader runs what acts on its own: the kind
 * supervisors and their controllers, the scheduler, the watch publisher and maintenance. The
 * leader holds the Lease mk-system/mk-control-plane in the object store (bus/lease.ts) and writes
 * through a store fenced by it, so a leader whose term ended writes nothing more even before its
 * actors have stopped.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
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

/** The annotation that says which process wrote the lease: `<boot id>/<pid namespace>/<pid>/<start time>`. */
export const HOLDER_PROCESS_ANNOTATION = 'mk.io/holder-process';

/** The parts of a process tag: they name one process of one machine since its boot. */
interface ProcessTag { boot: string; pidns: string; pid: number; start: string }

function readProcessTag(pid: number | 'self'): ProcessTag | undefined {
  try {
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const pidns = fs.readlinkSync('/proc/self/ns/pid');
    // Field 22 of stat, counted after the command name (which may hold spaces) ends at ')'.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return { boot, pidns, pid: pid === 'self' ? process.pid : pid, start };
  } catch {
    return undefined;
  }
}

/** This process's tag, or undefined where /proc does not tell (not Linux). */
export function processTag(): string | undefined {
  const t = readProcessTag('self');
  return t ? `${t.boot}/${t.pidns}/${t.pid}/${t.start}` : undefined;
}

/**
 * True when `tag` names a process of this machine, since this boot, in this pid namespace, that no
 * longer runs (its pid is gone, or now another process's): it can write nothing more. Anything
 * else (another machine, another namespace, no tag) is not known to be dead.
 */
export function processGone(tag: string | undefined): boolean {
  const mine = readProcessTag('self');
  const parts = tag?.split('/');
  if (!mine || !parts || parts.length !== 4) return false;
  const [boot, pidns, pid, start] = parts;
  if (boot !== mine.boot || pidns !== mine.pidns || !/^\d+$/.test(pid)) return false;
  const now = readProcessTag(Number(pid));
  return now === undefined || now.start !== start;
}

/**
 * The lease as a Lease object at `key` in `store` (unfenced: candidates write it before they
 * lead). Updates keep the object's metadata from the last read; the elector always reads before
 * it writes. Each write records this process in an annotation, so that a control plane restarted
 * on the same machine (by `mk up`'s supervisor) takes over at once from the one that died instead
 * of waiting out its lease.
 */
export function storeLeaseBackend(store: ObjectStore, key: string = CONTROL_PLANE_LEASE_KEY): LeaseBackend {
  let last: Lease | undefined;
  const tag = processTag();
  const spec = (s: LeaseSpec): LeaseSpecFields => JSON.parse(JSON.stringify(s)) as LeaseSpecFields;
  const tagged = (obj: Lease): Lease => {
    const annotations = { ...obj.metadata.annotations };
    if (tag) annotations[HOLDER_PROCESS_ANNOTATION] = tag; else delete annotations[HOLDER_PROCESS_ANNOTATION];
    return { ...obj, metadata: { ...obj.metadata, annotations } };
  };
  return {
    async read() {
      const got = await store.get<Lease>(key);
      last = got?.object;
      if (!got) return null;
      return { spec: got.object.spec ?? {}, revision: got.revision, holderGone: processGone(got.object.metadata.annotations?.[HOLDER_PROCESS_ANNOTATION]) };
    },
    create(s) {
      const obj = admitCreate(leaseModule, {
        apiVersion: LeaseKind.apiVersion, kind: LeaseKind.kind, metadata: { name: CONTROL_PLANE_LEASE, namespace: LEASE_NAMESPACE }, spec: spec(s),
      } as Lease, LEASE_NAMESPACE, new Date());
      return store.create(key, tagged(obj as Lease));
    },
    update(s, revision) {
      if (!last) throw new Error('lease: update before any read');
      return store.update(key, tagged({ ...last, spec: spec(s) }), revision);
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
