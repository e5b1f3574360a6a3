/**
 * The dashboard's server, run in every control plane process: HTTP (the page, /session,
 * /healthz) and the `/feed` websocket. It reads the cluster as the `dashboard` NATS identity
 * (reads only, enforced by the bus) and writes, for write sessions, as `dashboard-write`; it
 * never uses the control plane's own identity for a browser. Actor trees and kinds are kept once
 * in memory and shared by every page.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Subscription } from '@nats-io/transport-node';
import { WebSocketServer, type WebSocket } from 'ws';
import { connectBus, ObjectStore, type Bus, type BusOptions } from '../../bus';
import { decode } from '../../bus/core-client';
import type { KindInfo } from '../../messages';
import { STATS_WILDCARD, type NodeUsageReport, type Usage } from '../../messages/usage';
import { FEED_PATH, MAX_FRAME_BYTES } from '../protocol';
import type { ActorTreeAt } from './actor-history-adapter';
import { watchActorTelemetry } from './actor-source';
import { ActorTrees } from './actor-trees';
import { FeedConnection, type FeedLimits, type FeedSession } from './feed';
import { defaultWebRoot, httpHandler, Sessions } from './http';
import { KindFeed } from './kind-feed';
import { log } from './log';
import type { Sources } from './views';

export { serveDashboardTokens } from './token-service';
export { DashboardTokens, TOKEN_SUBJECT, TOKEN_TTL_MS, TOKENS_BUCKET, type TokenReply } from './tokens';
export { ActorTrees } from './actor-trees';

/** The default address: loopback only. */
export const DEFAULT_DASHBOARD_ADDRESS = '127.0.0.1';

/** How to run the server. */
export interface DashboardServerOptions {
  /** The port (0: any free one). */
  port: number;
  /** The address to listen on (default 127.0.0.1). */
  address?: string;
  /** The read-only identity's connection (user `dashboard`). */
  read: BusOptions & { user: string };
  /** The write identity's connection (user `dashboard-write`); without it every session is read-only. */
  write?: BusOptions & { user: string };
  /** Redeems a write token (DashboardTokens.redeem on the control plane's connection). */
  redeem(token: string): Promise<boolean>;
  /** This process's name, told to pages. */
  server: string;
  webRoot?: string;
  limits?: FeedLimits;
  /** How often deltas are computed and sent (default 100 ms: a change reaches a page within about that; a view recomputes only when its source changed). */
  tickMs?: number;
  /** How often pages are pinged; one that missed the last ping is dropped (default 15 s). */
  heartbeatMs?: number;
  /** The tree at a past time (default: the actor history adapter). */
  treeAt?: ActorTreeAt;
  /** How many pages may be connected at once (default 256); more are refused with 503. */
  maxConnections?: number;
}

/** A running dashboard server. */
export interface DashboardServer {
  /** `http://<address>:<port>/` */
  url: string;
  port: number;
  /** The actor trees held (for tests and metrics). */
  trees: ActorTrees;
  /** The connected pages. */
  connections(): number;
  stop(): Promise<void>;
}

/** Starts the server; resolves once it listens and its identities are connected. */
export async function startDashboardServer(opts: DashboardServerOptions): Promise<DashboardServer> {
  const readBus = await connectBus({ ...opts.read, name: opts.read.name ?? 'mk-dashboard' });
  let writeBus: Bus | undefined;
  try {
    writeBus = opts.write ? await connectBus({ ...opts.write, name: opts.write.name ?? 'mk-dashboard-write' }) : undefined;
  } catch (err) {
    await readBus.close();
    throw err;
  }
  const trees = new ActorTrees();
  const telemetry = watchActorTelemetry(readBus.nc, trees);
  const feeds = new Map<string, KindFeed>();
  const usage = { nodes: new Map<string, Usage>(), pods: new Map<string, Usage>(), version: 0 };
  const stats: Subscription = readBus.nc.subscribe(STATS_WILDCARD, {
    callback: (err, msg) => {
      if (err) return;
      try {
        const r = decode<NodeUsageReport>(msg.data);
        usage.nodes.set(r.node, { cpuNanoCores: r.usage.cpuNanoCores, memoryBytes: r.usage.memoryBytes });
        for (const p of r.pods) usage.pods.set(`${p.namespace}/${p.name}`, { cpuNanoCores: p.cpuNanoCores, memoryBytes: p.memoryBytes });
        usage.version++;
      } catch {
        // A malformed report changes nothing.
      }
    },
  });
  const sources: Sources = {
    trees,
    feed(kind: KindInfo) {
      let f = feeds.get(kind.plural);
      if (!f) {
        f = new KindFeed(readBus, opts.read.user, kind);
        feeds.set(kind.plural, f);
      }
      return f;
    },
    usage: () => usage,
  };
  let objects: Promise<ObjectStore> | undefined;
  const objectStore = (): Promise<ObjectStore> => {
    objects ??= ObjectStore.open(readBus, { create: false });
    objects.catch(() => { objects = undefined; });
    return objects;
  };

  const sessions = new Sessions();
  const server = http.createServer(httpHandler({
    webRoot: opts.webRoot ?? defaultWebRoot(), sessions, redeem: opts.redeem,
    healthy: () => !readBus.nc.isClosed() && (!writeBus || !writeBus.nc.isClosed()),
  }));
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const live = new Map<WebSocket, { conn: FeedConnection; alive: boolean }>();

  server.on('upgrade', (req, socket, head) => {
    const reject = (status: number, why: string): void => {
      socket.end(`HTTP/1.1 ${status} ${why}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    if ((req.url ?? '').split('?')[0] !== FEED_PATH) {
      reject(404, 'Not Found');
      return;
    }
    // A browser always sends Origin: a page of another site must not read the cluster through
    // this server (cross-site websocket hijacking). Clients without one are not browsers.
    const origin = req.headers.origin;
    if (origin !== undefined) {
      let host: string | undefined;
      try {
        host = new URL(origin).host;
      } catch {
        host = undefined;
      }
      if (host !== req.headers.host) {
        reject(403, 'Forbidden');
        return;
      }
    }
    if (live.size >= (opts.maxConnections ?? 256)) {
      reject(503, 'Service Unavailable');
      return;
    }
    const writable = !!writeBus && sessions.writable(req);
    wss.handleUpgrade(req, socket, head, (ws) => {
      const bus = writable ? writeBus! : readBus;
      const user = writable ? opts.write!.user : opts.read.user;
      const session: FeedSession = {
        bus, user, writable, server: opts.server, sources, objects: objectStore, ...(opts.treeAt ? { treeAt: opts.treeAt } : {}),
      };
      const conn = new FeedConnection(ws, session, opts.limits);
      live.set(ws, { conn, alive: true });
      ws.on('pong', () => { const l = live.get(ws); if (l) l.alive = true; });
      ws.on('close', () => live.delete(ws));
      ws.on('error', (err) => log.debug({ err }, 'dashboard websocket error'));
    });
  });

  const ticker = setInterval(() => {
    for (const { conn } of live.values()) conn.tick();
  }, opts.tickMs ?? 100);
  const heartbeat = setInterval(() => {
    for (const [ws, l] of live) {
      if (!l.alive) {
        ws.terminate();
        l.conn.close();
        live.delete(ws);
        continue;
      }
      l.alive = false;
      try {
        ws.ping();
      } catch {
        // Closing already: its close event removes it.
      }
    }
  }, opts.heartbeatMs ?? 15_000);

  const address = opts.address ?? DEFAULT_DASHBOARD_ADDRESS;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, address, () => resolve());
    });
  } catch (err) {
    clearInterval(ticker);
    clearInterval(heartbeat);
    telemetry.stop();
    await readBus.close();
    await writeBus?.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const host = address.includes(':') ? `[${address}]` : address;
  log.info({ url: `http://${host}:${port}/` }, 'dashboard serving');
  return {
    url: `http://${host}:${port}/`,
    port,
    trees,
    connections: () => live.size,
    async stop() {
      clearInterval(ticker);
      clearInterval(heartbeat);
      for (const [ws, l] of live) {
        l.conn.close();
        ws.terminate();
      }
      live.clear();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      telemetry.stop();
      stats.unsubscribe();
      for (const f of feeds.values()) f.stop();
      await readBus.close();
      await writeBus?.close();
    },
  };
}
