/**
 * The node agent's half of `mk port-forward` (messages/port-forward.ts): on
 * `mk.node.<node>.portforward` it connects to a pod bound to this node, at the pod's own IP (the
 * IP of its ready sandbox, never an address the request names: a request carries none) and the
 * asked port, and relays the connection over the bus with a RelayStream until either side ends
 * it. `mk.node.<node>.portforward.list` answers with the streams open now.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Gauge, register } from 'prom-client';
import { serve, type Bus } from '../bus';
import { BUS_LOST, RelayStream, SERVER_STOPPED } from '../bus/relay-stream';
import {
  dns1123LabelError, dns1123SubdomainError, NotFoundError, UnavailableError, ValidationError, type Pod,
} from '../messages';
import {
  PORT_FORWARD_WINDOW, portForwardListSubject, portForwardStreamSubject, portForwardSubject,
  type PortForwardList, type PortForwardOpened, type PortForwardRequest, type PortForwardStreamInfo,
} from '../messages/port-forward';
import type { CriClient } from './cri';
import { log } from './log';
import { LABEL_POD_UID } from './pods';

/** What the port-forward server needs. */
export interface PortForwardDeps {
  nodeName: string;
  /** The pods bound here, `namespace/name` -> pod. */
  pods: ReadonlyMap<string, Pod>;
  /** The IP of the pod's ready sandbox on this node, or undefined when it has none. */
  podIP(pod: Pod): Promise<string | undefined>;
  /** How long connecting to the pod may take (default 5 s). */
  connectTimeoutMs?: number;
  /** Liveness of the streams (defaults: messages/port-forward.ts). */
  pingMs?: number;
  deadAfterMs?: number;
  window?: number;
  /** The most streams open at once (default MAX_PORT_FORWARD_STREAMS). */
  maxStreams?: number;
}

/** The most port-forward streams a node relays at once: each holds a socket and a subscription. */
export const MAX_PORT_FORWARD_STREAMS = 1024;

/** A running port-forward server. */
export interface PortForwardServer {
  ready: Promise<void>;
  /** The streams open now. */
  streams(): PortForwardStreamInfo[];
  /** Stops serving and closes every open stream. */
  stop(): Promise<void>;
}

const STREAMS_METRIC = 'mk_portforward_streams';

/** Open port-forward streams of this process, on its /metrics (made once per process). */
function streamsGauge(): Gauge {
  return (register.getSingleMetric(STREAMS_METRIC) as Gauge | undefined)
    ?? new Gauge({ name: STREAMS_METRIC, help: 'Port-forward streams this node agent relays now' });
}

const REQUEST_KEYS = new Set(['namespace', 'pod', 'port']);

/** Checks a request's shape; throws ValidationError naming what is wrong. */
export function validatePortForwardRequest(req: unknown): PortForwardRequest {
  if (typeof req !== 'object' || req === null || Array.isArray(req)) throw new ValidationError('a port-forward request is an object { namespace, pod, port }');
  const extra = Object.keys(req).filter((k) => !REQUEST_KEYS.has(k));
  // The pod's IP is the only address a stream may reach: a request naming another is refused.
  if (extra.length > 0) throw new ValidationError(`unknown field(s) in a port-forward request: ${extra.join(', ')} (only namespace, pod and port)`);
  const { namespace, pod, port } = req as Record<string, unknown>;
  if (typeof namespace !== 'string' || typeof pod !== 'string') throw new ValidationError('namespace and pod are required strings');
  const bad = dns1123LabelError(namespace) ?? dns1123SubdomainError(pod);
  if (bad) throw new ValidationError(`invalid pod ${namespace}/${pod}: ${bad}`);
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw new ValidationError(`port must be an integer from 1 to 65535, not ${JSON.stringify(port)}`);
  return { namespace, pod, port };
}

/** Connects to host:port (half-open allowed), within timeoutMs. */
function connectTo(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, allowHalfOpen: true });
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`no answer in ${timeoutMs} ms`)); }, timeoutMs);
    s.once('connect', () => { clearTimeout(timer); s.removeAllListeners('error'); resolve(s); });
    s.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

/** Serves port-forward streams for the pods bound to this node. */
export function servePortForward(bus: Bus, deps: PortForwardDeps): PortForwardServer {
  const open = new Map<string, { relay: RelayStream; info: PortForwardStreamInfo }>();
  const window = deps.window ?? PORT_FORWARD_WINDOW;
  const gauge = streamsGauge();
  // Opens between the cap check and the stream existing hold a slot, so concurrent opens cannot
  // exceed the cap; stop() waits for them, and one finishing after stop relays nothing.
  const opening = new Set<Promise<unknown>>();
  let stopped = false;
  const openStream = async (req: PortForwardRequest, pod: Pod): Promise<net.Socket> => {
    const ip = await deps.podIP(pod);
    if (!ip) throw new UnavailableError(`pod ${req.namespace}/${req.pod} has no running sandbox on node ${deps.nodeName}`);
    try {
      return await connectTo(ip, req.port, deps.connectTimeoutMs ?? 5_000);
    } catch (err) {
      throw new UnavailableError(`error forwarding port ${req.port} to pod ${req.namespace}/${req.pod}: ${(err as Error).message}`);
    }
  };
  const subs = [
    serve<unknown, PortForwardOpened>(bus, portForwardSubject(deps.nodeName), async (raw) => {
      const req = validatePortForwardRequest(raw);
      const pod = deps.pods.get(`${req.namespace}/${req.pod}`);
      if (!pod) throw new NotFoundError(`pods "${req.pod}" not found on node ${deps.nodeName}`);
      const max = deps.maxStreams ?? MAX_PORT_FORWARD_STREAMS;
      if (stopped) throw new UnavailableError(`node ${deps.nodeName} is stopping its port-forward server`);
      if (open.size + opening.size >= max) throw new UnavailableError(`node ${deps.nodeName} already relays ${max} port-forward streams; close some and try again`);
      const pending = openStream(req, pod);
      opening.add(pending);
      let socket: net.Socket;
      try {
        socket = await pending;
      } finally {
        opening.delete(pending);
      }
      if (stopped) {
        socket.destroy();
        throw new UnavailableError(`node ${deps.nodeName} stopped its port-forward server`);
      }
      socket.setNoDelay(true);
      const streamId = randomBytes(16).toString('hex');
      const relay = new RelayStream({
        nc: bus.nc,
        socket,
        sendSubject: portForwardStreamSubject(deps.nodeName, streamId, 'down'),
        recvSubject: portForwardStreamSubject(deps.nodeName, streamId, 'up'),
        window,
        waitForPeer: true,
        ...(deps.pingMs ? { pingMs: deps.pingMs } : {}),
        ...(deps.deadAfterMs ? { deadAfterMs: deps.deadAfterMs } : {}),
      });
      const info = { streamId, namespace: req.namespace, pod: req.pod, port: req.port, openedAt: new Date().toISOString() };
      open.set(streamId, { relay, info });
      gauge.inc();
      log.debug({ node: deps.nodeName, ...info }, 'port-forward stream opened');
      void relay.done.then((reason) => {
        open.delete(streamId);
        gauge.dec();
        log.debug({ node: deps.nodeName, streamId, pod: `${req.namespace}/${req.pod}`, reason }, 'port-forward stream closed');
      });
      return { streamId, window };
    }),
    serve<unknown, PortForwardList>(bus, portForwardListSubject(deps.nodeName), async () => ({ streams: [...open.values()].map((s) => s.info) })),
  ];
  // Frames sent while the bus was away are lost, and a stream cannot resend them: one carried on
  // would stall, so every stream open across a reconnect ends (its CLI hears CLOSE, or falls silent).
  const unlisten = bus.onReconnect(() => {
    if (open.size > 0) log.warn({ node: deps.nodeName, streams: open.size }, 'the bus reconnected: closing the port-forward streams it carried');
    for (const s of open.values()) s.relay.close(`${BUS_LOST} (reconnected)`);
  });
  return {
    ready: Promise.all(subs.map((s) => s.ready)).then(() => undefined),
    streams: () => [...open.values()].map((s) => s.info),
    stop: async () => {
      stopped = true;
      unlisten();
      await Promise.all(subs.map((s) => s.stop()));
      await Promise.allSettled([...opening]);
      for (const s of open.values()) s.relay.close(SERVER_STOPPED);
      await Promise.all([...open.values()].map((s) => s.relay.done));
    },
  };
}

/** The IP of the pod's ready sandbox, read from CRI; undefined when it has none. */
export async function sandboxIP(cri: CriClient, pod: Pod): Promise<string | undefined> {
  const uid = pod.metadata.uid;
  if (!uid) return undefined;
  const list = await cri.listPodSandbox({ filter: { labelSelector: { [LABEL_POD_UID]: uid }, state: { state: 'SANDBOX_READY' } } });
  for (const s of list.items) {
    const ip = (await cri.podSandboxStatus({ podSandboxId: s.id })).status?.network?.ip;
    if (ip) return ip;
  }
  return undefined;
}
