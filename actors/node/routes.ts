/**
 * The control plane's half of the host-gw pod network: one entry per node in NODE_ROUTES_BUCKET
 * (name, pod CIDR, InternalIP), kept by the node controller as nodes register, change and go.
 * Node agents may read this bucket and nothing else about other nodes (embedded/permissions.ts).
 * Derived data with one writer, so it is written with put, like the nodes' views of pods.
 */
import { ObjectStore, type Bus } from '../../bus';
import { encodeToken, isNotFound, keyFilter, NODE_ROUTES_BUCKET, NodeKind, nodeRouteOf, parseKey, type Node, type NodeRoute } from '../../messages';
import { log } from '../log';

const same = (a: NodeRoute | undefined, b: NodeRoute | undefined): boolean =>
  a?.name === b?.name && a?.podCIDR === b?.podCIDR && a?.internalIP === b?.internalIP && a?.vtepMAC === b?.vtepMAC;

/** The routes bucket of one control plane. */
export class NodeRoutes {
  /** node name -> the route this process last wrote. */
  private readonly known = new Map<string, NodeRoute>();

  private constructor(readonly routes: ObjectStore, private readonly objects: ObjectStore) {}

  /** Opens (making it when missing) the routes bucket. Throws UnavailableError when the bus is down. */
  static async open(bus: Bus, objects: ObjectStore): Promise<NodeRoutes> {
    return new NodeRoutes(await ObjectStore.open(bus, {
      bucket: NODE_ROUTES_BUCKET, history: 1, description: 'mk: how to reach each node\'s pods, <node> -> { name, podCIDR, internalIP, vtepMAC? }',
    }), objects);
  }

  /** Learns what the bucket holds and removes the routes of nodes that are gone. */
  async start(): Promise<void> {
    const [routes, nodes] = await Promise.all([this.routes.list<NodeRoute>('>'), this.objects.list<Node>(keyFilter(NodeKind.plural))]);
    const names = new Set(nodes.items.map((n) => encodeToken(n.object.metadata.name)));
    this.known.clear();
    for (const r of routes.items) {
      if (names.has(r.key)) this.known.set(r.key, r.object);
      else await this.remove(r.key);
    }
  }

  /** After a reconnect: makes the bucket again if the server lost its store, then learns it again. */
  async ensure(): Promise<void> {
    await this.routes.ensure();
    await this.start();
  }

  /**
   * Brings the route of the node stored at `nodeKey` in line with `node` (null: deleted). Throws
   * UnavailableError when the bus is down.
   */
  async sync(nodeKey: string, node: Node | null): Promise<void> {
    const key = encodeToken(parseKey(nodeKey).name);
    const want = node ? nodeRouteOf(node) : undefined;
    const have = this.known.get(key);
    if (want && same(want, have)) return;
    if (!want) {
      if (!have && node) return;
      await this.remove(key);
      this.known.delete(key);
      return;
    }
    await this.routes.put(key, want);
    this.known.set(key, want);
    log.info({ node: want.name, podCIDR: want.podCIDR, via: want.internalIP }, 'node route published');
  }

  private async remove(key: string): Promise<void> {
    await this.routes.delete(key).catch((err) => { if (!isNotFound(err)) throw err; });
  }
}
