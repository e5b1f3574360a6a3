/**
 * The cluster DNS server: UDP and TCP on one address and port, answering from ClusterRecords
 * (records.ts) through handleMessage (message.ts), forwarding the rest to upstream resolvers
 * when there are any. A malformed packet is answered FORMERR or dropped, logged at debug; nothing
 * a client sends can stop the server.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { Logger } from 'pino';
import { forwardTcp, forwardUdp, type Upstream } from './forward';
import { handleMessage, headerReply, type Decision } from './message';
import { dnsQueries } from './metrics';
import type { ClusterRecords } from './records';

/** What the server serves and where. */
export interface DnsServerOptions {
  /** The address to listen on (the node's pod bridge gateway; 127.0.0.1 in tests). */
  host: string;
  /** UDP and TCP port; 0 picks a free one (the same number for both). Default 53. */
  port?: number;
  records: ClusterRecords;
  /** Resolvers for names outside the cluster, tried in order; none = REFUSED. */
  upstreams?: Upstream[];
  /** How long one upstream may take before the next is tried (default 2 s). */
  forwardTimeoutMs?: number;
  /** A TCP connection idle this long is closed (default 10 s, RFC 7766's advice). */
  tcpIdleMs?: number;
  /** Queries forwarded upstream at once, each holding a socket; beyond, SERVFAIL (default 256). */
  maxForwards?: number;
  /** Queries of one TCP connection being answered at once; beyond, it is read no more (default 32). */
  maxPendingPerConnection?: number;
  log: Logger;
}

/** A running server. */
export interface DnsServer {
  host: string;
  /** The port both UDP and TCP listen on. */
  port: number;
  /** Closes both sockets, every TCP connection and every forward in flight. */
  stop(): Promise<void>;
}

/** The UDP receive buffer asked for: room for a few thousand queries in flight. */
const UDP_RECV_BUFFER_BYTES = 4 << 20;

/** Open TCP connections served at once. */
const MAX_TCP_CONNECTIONS = 1024;

/** Forwards in flight at once: each holds a file descriptor of the node agent. */
export const MAX_DNS_FORWARDS = 256;

/** Queries of one TCP connection answered at once (a pipelining client waits for the rest). */
export const MAX_PENDING_PER_CONNECTION = 32;

const RCODE_NAMES: Record<number, string> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED' };

function listenUdp(sock: dgram.Socket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    sock.once('error', onError);
    sock.bind({ address: host, port, exclusive: true }, () => { sock.off('error', onError); resolve(); });
  });
}

function listenTcp(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => { server.off('error', onError); resolve(); });
  });
}

/**
 * Starts serving. Rejects with the listen error (EADDRNOTAVAIL while the address does not exist
 * yet, EADDRINUSE, EACCES), having closed whatever it opened. With port 0, a number free for UDP
 * but taken for TCP is given up and another is tried (a few times).
 */
export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      if (opts.port !== 0 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw err;
    }
  }
}

async function startOnce(opts: DnsServerOptions): Promise<DnsServer> {
  const log = opts.log;
  const upstreams = opts.upstreams ?? [];
  const forwardTimeoutMs = opts.forwardTimeoutMs ?? 2_000;
  const maxForwards = opts.maxForwards ?? MAX_DNS_FORWARDS;
  const maxPending = opts.maxPendingPerConnection ?? MAX_PENDING_PER_CONNECTION;
  let forwarding = 0;
  const inflight = new AbortController();
  const udp = dgram.createSocket({ type: net.isIPv6(opts.host) ? 'udp6' : 'udp4' });
  const conns = new Set<net.Socket>();
  const tcp = net.createServer((c) => serveConnection(c));
  // Beyond this many open connections new ones are refused (a resolver needs one at a time).
  tcp.maxConnections = MAX_TCP_CONNECTIONS;
  let stopped = false;

  const count = (qtype: string, rcode: string): void => { dnsQueries.inc({ type: qtype, rcode }); };

  /** The reply to `query`, or undefined to send nothing. Never rejects. */
  const answer = (query: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> => decide(query, transport).catch((err: unknown) => {
    // A fault of ours, not of the message: the client is told, the server keeps serving.
    log.warn({ err: String(err), transport }, 'dns: failed to answer a query');
    count('unknown', 'SERVFAIL');
    return headerReply(query, 'SERVFAIL');
  });

  const decide = async (query: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> => {
    const d: Decision = handleMessage(query, opts.records, { forwarding: upstreams.length > 0, transport });
    if (d.kind === 'drop') {
      log.debug({ why: d.why, bytes: query.length, transport }, 'dns: dropped a packet');
      return undefined;
    }
    if (d.kind === 'reply') {
      if (d.rcode === 'FORMERR') log.debug({ bytes: query.length, transport }, 'dns: malformed query');
      count(d.qtype, d.rcode);
      return d.reply;
    }
    if (forwarding >= maxForwards) {
      // No socket to spare: the client's resolver retries, the agent keeps its descriptors.
      log.debug({ forwarding, transport }, 'dns: too many forwards in flight; SERVFAIL');
      count(d.qtype, 'SERVFAIL');
      return d.kind === 'chase' ? d.finish(undefined) : d.servfail;
    }
    forwarding++;
    try {
      return await forwardDecision(d, query, transport);
    } finally {
      forwarding--;
    }
  };

  const forwardDecision = async (d: Extract<Decision, { kind: 'chase' | 'forward' }>, query: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> => {
    if (d.kind === 'chase') {
      let upstream = await ask(d.query, 'udp');
      // A truncated answer is asked again over TCP, as any resolver would.
      if (upstream && upstream.length >= 4 && (upstream[2] & 0x02) !== 0) upstream = (await ask(d.query, 'tcp')) ?? upstream;
      const reply = d.finish(upstream);
      count(d.qtype, RCODE_NAMES[(reply[3] ?? 0) & 0x0f] ?? 'OTHER');
      return reply;
    }
    const reply = await ask(query, transport);
    if (reply) {
      count(d.qtype, RCODE_NAMES[(reply[3] ?? 0) & 0x0f] ?? 'OTHER');
      return reply;
    }
    count(d.qtype, 'SERVFAIL');
    return d.servfail;
  };

  /** The first upstream's reply to `query`, or undefined when none answers. */
  const ask = async (query: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> => {
    for (const up of upstreams) {
      if (inflight.signal.aborted) return undefined;
      try {
        const reply = transport === 'udp'
          ? await forwardUdp(query, up, forwardTimeoutMs, inflight.signal)
          : await forwardTcp(query, up, forwardTimeoutMs, inflight.signal);
        return reply;
      } catch (err) {
        log.debug({ upstream: `${up.host}:${up.port}`, err: String(err) }, 'dns: upstream did not answer');
      }
    }
    return undefined;
  };

  udp.on('message', (msg, rinfo) => {
    void answer(msg, 'udp').then((reply) => {
      if (reply && !stopped) udp.send(reply, rinfo.port, rinfo.address, (err) => { if (err) log.debug({ err: String(err) }, 'dns: udp send failed'); });
    });
  });
  udp.on('error', (err) => log.warn({ err: String(err) }, 'dns: udp socket error'));

  function serveConnection(c: net.Socket): void {
    if (stopped) { c.destroy(); return; }
    conns.add(c);
    c.setTimeout(opts.tcpIdleMs ?? 10_000, () => c.destroy());
    c.on('close', () => conns.delete(c));
    c.on('error', (err) => log.debug({ err: String(err) }, 'dns: tcp connection error'));
    let buf = Buffer.alloc(0);
    // Replies go out in order even when a forwarded one takes longer than a later local one.
    let queue: Promise<void> = Promise.resolve();
    // At most maxPending queries are answered at once; the rest wait in buf, and the socket is
    // paused while that many are pending or the client does not read its replies (write() false).
    let pending = 0;
    const flow = (): void => {
      if (c.destroyed) return;
      if (pending >= maxPending || c.writableNeedDrain) c.pause();
      else c.resume();
    };
    const take = (): void => {
      while (pending < maxPending && buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const query = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + query.length);
        pending++;
        const reply = answer(Buffer.from(query), 'tcp');
        queue = queue.then(async () => {
          const r = await reply;
          pending--;
          if (r && !c.destroyed) {
            const len = Buffer.alloc(2);
            len.writeUInt16BE(r.length);
            c.write(Buffer.concat([len, r]));
          }
          take();
        });
      }
      flow();
    };
    c.on('drain', take);
    c.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      take();
    });
  }

  const port = opts.port ?? 53;
  try {
    await listenUdp(udp, opts.host, port);
    // With port 0 the TCP listener takes the number UDP got, so one port serves both.
    await listenTcp(tcp, opts.host, udp.address().port);
  } catch (err) {
    stopped = true;
    try { udp.close(); } catch { /* never bound */ }
    tcp.close();
    throw err;
  }
  // A burst of queries (every pod of a node starting at once) must not overflow the socket's
  // queue; the kernel caps this at net.core.rmem_max.
  try { udp.setRecvBufferSize(UDP_RECV_BUFFER_BYTES); } catch (err) { log.debug({ err: String(err) }, 'dns: cannot enlarge the udp receive buffer'); }
  const bound = udp.address().port;
  log.info({ host: opts.host, port: bound, domain: opts.records.domain, upstreams: upstreams.map((u) => `${u.host}:${u.port}`) }, 'cluster DNS listening');
  return {
    host: opts.host,
    port: bound,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      inflight.abort();
      for (const c of conns) c.destroy();
      await Promise.all([
        new Promise<void>((r) => udp.close(() => r())),
        new Promise<void>((r) => tcp.close(() => r())),
      ]);
      log.info({ host: opts.host, port: bound }, 'cluster DNS stopped');
    },
  };
}
