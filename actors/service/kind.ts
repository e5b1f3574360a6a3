/**
 * The Service kind's control-plane side: Kubernetes' defaults, the update rules of a service's
 * allocated fields (a cluster IP cannot change once set, except by turning into or out of
 * ExternalName; an update that omits the cluster IP or a node port keeps the one it has), the
 * allocation of cluster IPs and node ports at admission (allocations.ts), and the controller that
 * gives allocations back, repairs leaks and keeps LoadBalancer services' status (controller.ts).
 */
import type { ObjectStore } from '../../bus';
import {
  HEADLESS, ServiceKind, ValidationError, defaultService, wantsHealthCheckNodePort, wantsNodePorts, type KubeObject, type Service, type ServicePort,
} from '../../messages';
import type { KindModule } from '../kind-module';
import { ServiceAllocations } from './allocations';
import { serviceController } from './controller';

/** One allocation bucket per objects store this process writes through. */
const opened = new WeakMap<ObjectStore, Promise<ServiceAllocations>>();

/** The allocations checked against `store` (opened once per store). */
export function allocationsFor(store: ObjectStore): Promise<ServiceAllocations> {
  let a = opened.get(store);
  if (!a) {
    a = ServiceAllocations.open(store.bus, store);
    a.catch(() => opened.delete(store));
    opened.set(store, a);
  }
  return a;
}

const invalid = (svc: Service, field: string, detail: string): ValidationError => new ValidationError(
  `Service "${svc.metadata.name}" is invalid: ${field}: ${detail}`, [`${field}: ${detail}`],
);

/** The node port `old` gave the port of `next` that is the same port (by number and protocol, else by name). */
function carriedNodePort(p: ServicePort, old: readonly ServicePort[]): number | undefined {
  const same = old.find((o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'))
    ?? (p.name ? old.find((o) => o.name === p.name && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP')) : undefined);
  return same?.nodePort;
}

/**
 * Kubernetes' update rules for what a service was given (pkg/registry/core/service/strategy.go
 * and validation's ValidateServiceUpdate): an omitted cluster IP or node port keeps the one
 * stored; a changed cluster IP is refused unless the type turns into or out of ExternalName.
 */
export function keepAllocated(existingObj: KubeObject, nextObj: KubeObject): KubeObject {
  const existing = existingObj as unknown as Service;
  const next = structuredClone(nextObj) as unknown as Service;
  const was = existing.spec;
  const spec = next.spec;
  const ipTyped = (s: Service['spec']) => (s.type ?? 'ClusterIP') !== 'ExternalName';
  if (ipTyped(was) && ipTyped(spec) && was.clusterIP) {
    if (spec.clusterIP && spec.clusterIP !== was.clusterIP) {
      throw invalid(next, 'spec.clusterIPs[0]', `Invalid value: "${spec.clusterIP}": may not change once set (it is ${was.clusterIP})`);
    }
    spec.clusterIP = was.clusterIP;
    spec.clusterIPs = [was.clusterIP];
    if (spec.clusterIP === HEADLESS && wantsNodePorts(spec)) {
      throw invalid(next, 'spec.clusterIPs[0]', `Invalid value: "None": may not be set to 'None' for ${spec.type} services (the service is headless)`);
    }
  }
  if (wantsNodePorts(spec) && wantsNodePorts(was)) {
    spec.ports = (spec.ports ?? []).map((p) => (p.nodePort ? p : { ...p, ...(carriedNodePort(p, was.ports ?? []) ? { nodePort: carriedNodePort(p, was.ports ?? []) } : {}) }));
  }
  if (wantsHealthCheckNodePort(spec) && wantsHealthCheckNodePort(was) && !spec.healthCheckNodePort && was.healthCheckNodePort) {
    spec.healthCheckNodePort = was.healthCheckNodePort;
  }
  return next as unknown as KubeObject;
}

/** The Service kind module (actors/kinds.ts lists it). */
export const serviceModule: KindModule = {
  info: ServiceKind,
  defaults: (o) => defaultService(o as unknown as Service) as unknown as KubeObject,
  initialStatus: () => ({ loadBalancer: {} }),
  admitUpdate: keepAllocated,
  allocate: async (store, existing, next, dryRun) => {
    const claim = await (await allocationsFor(store)).claim(existing as unknown as Service | undefined, next as unknown as Service, dryRun);
    return { object: claim.object as unknown as KubeObject, undo: claim.undo, done: claim.done };
  },
  controller: (ctx) => serviceController({ store: ctx.store, allocations: () => allocationsFor(ctx.store) }),
};
