/**
 * The node agent's requests to the control plane (mk.api.node.<node>.*): the only way a node
 * writes cluster state. The bus lets it send them only on its own name.
 */
import { request, type Bus } from '../../bus';
import {
  nodeApiSubject,
  type Node, type NodeHeartbeatRequest, type NodeRegisterRequest, type NodeResult, type Pod, type PodStatus,
} from '../../messages';

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
}
