/**
 * The node agent's requests to the control plane (mk.api.node.<node>.*): the only way a node
 * writes cluster state. The bus lets it send them only on its own name.
 */
import { request, type Bus } from '../../bus';
import {
  nodeApiSubject,
  type ConfigMap, type Node, type NodeHeartbeatRequest, type NodeRegisterRequest, type NodeResult, type Pod, type PodStatus,
  type PodObjectRequest, type PodObjectResult, type Secret, type PersistentVolume, type PersistentVolumeClaim,
} from '../../messages';
import type { EnvObjects } from '../pods/env';

/** How long one request to the control plane may take. */
const REQUEST_TIMEOUT_MS = 10_000;

/** Typed node api calls for one node. Each throws what `request` throws (Unavailable, Timeout, NotFound, ...). */
export class ControlPlaneClient {
  constructor(private readonly bus: Bus, readonly nodeName: string) {}

  /** Creates or refreshes this node's Node; returns it as stored. */
  async register(req: NodeRegisterRequest): Promise<Node> {
    return (await request<NodeResult>(this.bus, nodeApiSubject(this.nodeName, 'register'), req, { timeoutMs: REQUEST_TIMEOUT_MS })).node;
  }

  /**
   * Posts the Ready condition and, when given, the pressure conditions; NotFoundError when the
   * Node was deleted (register again).
   */
  async heartbeat(ready: NodeHeartbeatRequest['ready'], conditions?: NodeHeartbeatRequest['conditions']): Promise<Node> {
    const req: NodeHeartbeatRequest = { ready, ...(conditions ? { conditions } : {}) };
    return (await request<NodeResult>(this.bus, nodeApiSubject(this.nodeName, 'heartbeat'), req, { timeoutMs: REQUEST_TIMEOUT_MS })).node;
  }

  /** Writes the status of a pod bound here (only onto that uid). */
  async podStatus(pod: Pod, status: PodStatus): Promise<void> {
    const { namespace = 'default', name, uid = '' } = pod.metadata;
    await request(this.bus, nodeApiSubject(this.nodeName, 'pod-status'), { namespace, name, uid, status }, { timeoutMs: REQUEST_TIMEOUT_MS });
  }

  /** Says the node removed everything of a pod being deleted: its object goes. */
  async podTerminated(pod: Pod): Promise<void> {
    const { namespace = 'default', name, uid = '' } = pod.metadata;
    await request(this.bus, nodeApiSubject(this.nodeName, 'pod-terminated'), { namespace, name, uid }, { timeoutMs: REQUEST_TIMEOUT_MS });
  }

  /**
   * A ConfigMap, Secret or claim that `pod` refers to (or the volume one of its claims is bound to), or undefined when it does not exist. ForbiddenError
   * when the pod is not bound here or does not refer to it.
   */
  async podObject(pod: Pod, kind: PodObjectRequest['kind'], object: string): Promise<PodObjectResult['object']> {
    const { namespace = 'default', name, uid = '' } = pod.metadata;
    const req: PodObjectRequest = { namespace, name, uid, kind, object };
    return (await request<PodObjectResult>(this.bus, nodeApiSubject(this.nodeName, 'pod-object'), req, { timeoutMs: REQUEST_TIMEOUT_MS })).object;
  }

  /** How the pod's containers read the ConfigMaps and Secrets they refer to, and its volumes its claims. */
  envObjects(pod: Pod): EnvObjects {
    return {
      configMap: async (n) => ((await this.podObject(pod, 'configmaps', n)) ?? undefined) as ConfigMap | undefined,
      secret: async (n) => ((await this.podObject(pod, 'secrets', n)) ?? undefined) as Secret | undefined,
      claim: async (n) => ((await this.podObject(pod, 'persistentvolumeclaims', n)) ?? undefined) as PersistentVolumeClaim | undefined,
      volume: async (n) => ((await this.podObject(pod, 'persistentvolumes', n)) ?? undefined) as PersistentVolume | undefined,
    };
  }
}
