/**
 * The cluster IPs and node ports Services hold, one key each in SERVICE_ALLOCATIONS_BUCKET.
 * Taking one is a KV create, which fails when the key is present: two api replicas or control
 * planes admitting services at once can never hand out one address or port twice (Kubernetes
 * keeps a bitmap in etcd, or IPAddress objects since v1.33, for the same reason). Keys are taken
 * before the service is written and given back after a write that drops them (or after a write
 * that failed); a process that dies in between leaves a key whose owner does not hold it, which
 * the controller's repair removes (repair.ts), as kube-apiserver's repair loops do.
 */
import { ObjectStore, type Bus, type Stored } from '../../bus';
import {
  ConflictError, HEADLESS, SERVICE_ALLOCATIONS_BUCKET, ValidationError, isAlreadyExists, isConflict, isNotFound, objectKey,
  wantsClusterIP, wantsHealthCheckNodePort, wantsNodePorts, type Service,
} from '../../messages';
import { currentSettings } from '../settings';
import { candidates, clusterIpRange, inRange, intToIp, ipToInt, nodePortRange, type AllocRange } from './ranges';

/** Who holds a key: the service, by name and incarnation, and when it was taken. */
export interface AllocationOwner { namespace: string; name: string; uid: string; at: string }

/** A key taken less than this long ago by a service that does not (yet) hold it may be a write in flight. */
export const IN_FLIGHT_GRACE_MS = 30_000;

/** The key of a cluster IP. */
export const ipKey = (ip: string): string => `clusterip.${ip.replace(/\./g, '-')}`;
/** The key of a node port of a protocol. */
export const portKey = (protocol: string, port: number): string => `nodeport.${protocol.toLowerCase()}.${port}`;

/** The keys a stored service holds: its cluster IP and its node ports, as its type needs them. */
export function heldKeys(svc: Service | undefined): string[] {
  if (!svc) return [];
  const out: string[] = [];
  const ip = svc.spec.clusterIP;
  if (wantsClusterIP(svc.spec) && ip && ip !== HEADLESS) out.push(ipKey(ip));
  if (wantsNodePorts(svc.spec)) for (const p of svc.spec.ports ?? []) if (p.nodePort) out.push(portKey(p.protocol ?? 'TCP', p.nodePort));
  // The health check node port is a TCP node port like the others (Kubernetes takes it from the same range).
  if (wantsHealthCheckNodePort(svc.spec) && svc.spec.healthCheckNodePort) out.push(portKey('TCP', svc.spec.healthCheckNodePort));
  return out;
}

const ownerText = (o: AllocationOwner): string => `${o.namespace}/${o.name}`;

/**
 * A chosen value held by another incarnation of the same service: a concurrent write of it (two
 * applies of one new manifest) took it first. A Conflict, so the api reads again and finds it.
 */
function sameService(held: AllocationOwner, owner: AllocationOwner, what: string): ConflictError | undefined {
  if (held.namespace !== owner.namespace || held.name !== owner.name) return undefined;
  return new ConflictError(`Operation cannot be fulfilled on services "${owner.name}": ${what} was just taken by another write of this service; read it again and retry`);
}
const invalid = (svc: Service, field: string, detail: string): ValidationError => new ValidationError(
  `Service "${svc.metadata.name}" is invalid: ${field}: ${detail}`, [`${field}: ${detail}`],
);

/** What admission took for one write: the object with its allocations, and how to finish. */
export interface Claim {
  object: Service;
  /** After the write failed: gives back what this claim took. */
  undo(): Promise<void>;
  /** After the write succeeded: gives back what the old object held and the new one does not. */
  done(): Promise<void>;
}

/** The allocation bucket, and the objects bucket it checks owners against. */
export class ServiceAllocations {
  constructor(readonly keys: ObjectStore, private readonly objects: ObjectStore, private readonly random: () => number = Math.random) {}

  /** Opens (making it when missing) the allocation bucket on `bus`. Throws UnavailableError when the bus is down. */
  static async open(bus: Bus, objects: ObjectStore): Promise<ServiceAllocations> {
    const keys = await ObjectStore.open(bus, {
      bucket: SERVICE_ALLOCATIONS_BUCKET, history: 1,
      description: 'mk: cluster IPs and node ports held by services, clusterip.<ip> | nodeport.<proto>.<port> -> owner',
    });
    return new ServiceAllocations(keys, objects);
  }

  /** The ranges in force (actors/settings.ts). */
  ranges(): { ips: AllocRange; ports: AllocRange; cidr: string; portText: string } {
    const s = currentSettings();
    return { ips: clusterIpRange(s.serviceClusterIpRange), ports: nodePortRange(s.serviceNodePortRange), cidr: s.serviceClusterIpRange, portText: s.serviceNodePortRange };
  }

  /**
   * Takes what `next` needs and `existing` (the stored service, on an update) does not hold: its
   * chosen cluster IP and node ports, or free ones from the ranges where it names none (written
   * into the returned object). Throws ValidationError, worded as Kubernetes words it, naming the
   * owner, for a chosen IP or port that another service holds or that lies outside its range,
   * and for a full range; what it took is given back first. With `dryRun`, takes nothing: checks
   * and picks a free value only.
   */
  async claim(existing: Service | undefined, next: Service, dryRun = false): Promise<Claim> {
    const svc: Service = structuredClone(next);
    const owner: AllocationOwner = { namespace: svc.metadata.namespace ?? 'default', name: svc.metadata.name, uid: svc.metadata.uid ?? '', at: new Date().toISOString() };
    const had = new Set(heldKeys(existing));
    const taken: { key: string; revision: number }[] = [];
    const { ips, ports, cidr, portText } = this.ranges();
    try {
      if (wantsClusterIP(svc.spec)) {
        const chosen = svc.spec.clusterIP;
        if (chosen) {
          const n = ipToInt(chosen);
          if (!had.has(ipKey(chosen))) {
            if (n === undefined || !inRange(ips, n)) {
              throw invalid(svc, 'spec.clusterIPs', `Invalid value: ["${chosen}"]: failed to allocate IP ${chosen}: the provided IP (${chosen}) is not in the valid range. The range of valid IPs is ${cidr}`);
            }
            const held = await this.take(ipKey(chosen), owner, dryRun, taken);
            if (held && sameService(held, owner, `IP ${chosen}`)) throw sameService(held, owner, `IP ${chosen}`)!;
            if (held) throw invalid(svc, 'spec.clusterIPs', `Invalid value: ["${chosen}"]: failed to allocate IP ${chosen}: provided IP is already allocated (to service ${ownerText(held)})`);
          }
        } else {
          const ip = await this.pick(ips, (n) => ipKey(intToIp(n)), owner, dryRun, taken, 'failed to allocate a serviceIP: range is full');
          svc.spec.clusterIP = intToIp(ip);
        }
        svc.spec.clusterIPs = [svc.spec.clusterIP!];
      }
      if (wantsNodePorts(svc.spec)) {
        for (const [i, p] of (svc.spec.ports ?? []).entries()) {
          const protocol = p.protocol ?? 'TCP';
          if (p.nodePort) {
            if (had.has(portKey(protocol, p.nodePort))) continue;
            if (!inRange(ports, p.nodePort)) {
              throw invalid(svc, `spec.ports[${i}].nodePort`, `Invalid value: ${p.nodePort}: provided port is not in the valid range. The range of valid ports is ${portText}`);
            }
            const held = await this.take(portKey(protocol, p.nodePort), owner, dryRun, taken);
            if (held && sameService(held, owner, `node port ${p.nodePort}`)) throw sameService(held, owner, `node port ${p.nodePort}`)!;
            if (held) throw invalid(svc, `spec.ports[${i}].nodePort`, `Invalid value: ${p.nodePort}: provided port is already allocated (to service ${ownerText(held)})`);
          } else {
            p.nodePort = await this.pick(ports, (n) => portKey(protocol, n), owner, dryRun, taken, 'failed to allocate a nodePort: range is full');
          }
        }
      }
      if (wantsHealthCheckNodePort(svc.spec)) {
        const hc = svc.spec.healthCheckNodePort;
        const field = 'spec.healthCheckNodePort';
        if (hc) {
          if (!had.has(portKey('TCP', hc))) {
            if (!inRange(ports, hc)) throw invalid(svc, field, `Invalid value: ${hc}: provided port is not in the valid range. The range of valid ports is ${portText}`);
            const held = await this.take(portKey('TCP', hc), owner, dryRun, taken);
            if (held && sameService(held, owner, `node port ${hc}`)) throw sameService(held, owner, `node port ${hc}`)!;
            if (held) throw invalid(svc, field, `Invalid value: ${hc}: provided port is already allocated (to service ${ownerText(held)})`);
          }
        } else {
          svc.spec.healthCheckNodePort = await this.pick(ports, (n) => portKey('TCP', n), owner, dryRun, taken, 'failed to allocate a healthCheckNodePort: range is full');
        }
      } else {
        delete svc.spec.healthCheckNodePort;
      }
    } catch (err) {
      await this.giveBack(taken.map((t) => t.key), owner.uid);
      throw err;
    }
    const keep = new Set(heldKeys(svc));
    const drop = [...had].filter((k) => !keep.has(k));
    return {
      object: svc,
      undo: () => this.giveBack(taken.map((t) => t.key), owner.uid),
      done: () => (dryRun ? Promise.resolve() : this.giveBack(drop, existing?.metadata.uid ?? owner.uid)),
    };
  }

  /**
   * Takes `key` for `owner`. Returns undefined when it is now the owner's (or, in a dry run,
   * would be), else the service that holds it. A key whose holder does not hold it any more (a
   * leak: see stale()) is taken over at its revision.
   */
  private async take(key: string, owner: AllocationOwner, dryRun: boolean, taken: { key: string; revision: number }[]): Promise<AllocationOwner | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const cur = await this.keys.get<AllocationOwner>(key);
      if (!cur) {
        if (dryRun) return undefined;
        try {
          taken.push({ key, revision: await this.keys.create(key, owner) });
          return undefined;
        } catch (err) {
          if (isAlreadyExists(err)) continue;
          throw err;
        }
      }
      if (cur.object.uid === owner.uid) return undefined;
      if (!(await this.stale(cur))) return cur.object;
      if (dryRun) return undefined;
      try {
        taken.push({ key, revision: await this.keys.update(key, owner, cur.revision) });
        return undefined;
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) throw err;
      }
    }
    const last = await this.keys.get<AllocationOwner>(key);
    return last?.object ?? owner;
  }

  /** Takes a free number of `range` (tried in candidates() order). Throws ValidationError(`full`) when none is left. */
  private async pick(
    range: AllocRange, keyOf: (n: number) => string, owner: AllocationOwner, dryRun: boolean, taken: { key: string; revision: number }[], full: string,
  ): Promise<number> {
    let tries = 0;
    let known: Set<string> | undefined;
    for (const n of candidates(range, this.random)) {
      const key = keyOf(n);
      if (known?.has(key) || taken.some((t) => t.key === key)) continue;
      if (++tries > 16 && !known) {
        // Crowded: learn what is taken in one listing instead of a create per number.
        known = new Set((await this.keys.list<AllocationOwner>(keyOf(range.first).split('.').slice(0, -1).join('.') + '.>')).items.map((i) => i.key));
        if (known.has(key)) continue;
      }
      if (dryRun) {
        if (!(await this.keys.get(key))) return n;
        continue;
      }
      try {
        taken.push({ key, revision: await this.keys.create(key, owner) });
        return n;
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
    }
    throw new ValidationError(full, [full]);
  }

  /**
   * Whether the holder of a key no longer holds it: its service is gone (or is another
   * incarnation) or no longer has the IP or port, and the key is not a write in flight (taken
   * less than IN_FLIGHT_GRACE_MS ago), unless the service's own history shows it was stored and
   * then deleted.
   */
  async stale(entry: Stored<AllocationOwner>, now = Date.now()): Promise<boolean> {
    const o = entry.object;
    const key = objectKey('services', o.namespace, o.name);
    const svc = await this.objects.get<Service>(key);
    if (svc && svc.object.metadata.uid === o.uid && heldKeys(svc.object).includes(entry.key)) return false;
    if (svc && svc.object.metadata.uid !== o.uid) return true;
    if (now - Date.parse(o.at) >= IN_FLIGHT_GRACE_MS) return true;
    if (svc) return false;
    // Stored and deleted since (the last revision is a deletion or another incarnation): gone for
    // good. Stored just now, after the read above, is no proof of anything.
    const history = await this.objects.history<Service>(key);
    const last = history.at(-1);
    return !!last && last.object?.metadata.uid !== o.uid && history.some((h) => h.object?.metadata.uid === o.uid);
  }

  /** Gives back `keys` that `uid` still holds (a key another service took meanwhile stays). */
  async giveBack(keys: readonly string[], uid: string): Promise<void> {
    await Promise.all(keys.map(async (key) => {
      const cur = await this.keys.get<AllocationOwner>(key);
      if (!cur || cur.object.uid !== uid) return;
      await this.keys.delete(key, cur.revision).catch((err: unknown) => {
        if (!isConflict(err) && !isNotFound(err)) throw err;
      });
    }));
  }
}
