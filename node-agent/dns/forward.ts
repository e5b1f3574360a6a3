/**
 * Forwards a query to an upstream resolver and returns its reply as it came: over UDP for a UDP
 * client (whose retry over TCP, on a truncated reply, is forwarded over TCP in turn), over TCP for
 * a TCP client. Each forward has a socket of its own, closed when it ends; the server caps how
 * many are in flight (server.ts, maxForwards).
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { ValidationError } from '../../messages/errors';

/** A resolver to forward to. */
export interface Upstream {
  host: string;
  port: number;
}

/**
 * Reads `host:port`, `host` (port 53) or `[v6]:port`. Throws ValidationError naming the value when
 * it is not an address with a port from 1 to 65535.
 */
export function parseUpstream(text: string): Upstream {
  const m = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(text) ?? /^([^:\s]+)(?::(\d+))?$/.exec(text);
  if (!m || net.isIP(m[1]) === 0) throw new ValidationError(`DNS upstream "${text}" must be an IP address with an optional port, such as 192.0.2.53:53`);
  const port = m[2] === undefined ? 53 : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ValidationError(`DNS upstream "${text}": port must be 1 to 65535`);
  return { host: m[1], port };
}

type Finish = (err: Error | undefined, reply?: Buffer) => void;

/**
 * One forward's life: `open` makes its socket and wires it to `finish`, which settles the promise
 * once (the first of a reply, an error, the deadline or the abort) and then `close`s the socket.
 */
function forwardOnce(up: Upstream, timeoutMs: number, signal: AbortSignal | undefined, open: (finish: Finish) => () => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let done = false;
    let close: () => void = () => undefined;
    const finish: Finish = (err, reply) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      close();
      if (err) reject(err); else resolve(reply!);
    };
    const onAbort = (): void => finish(new Error('forward aborted'));
    const timer = setTimeout(() => finish(new Error(`no reply from ${up.host}:${up.port} in ${timeoutMs} ms`)), timeoutMs);
    signal?.addEventListener('abort', onAbort);
    close = open(finish);
    if (done) close();
  });
}

/** Sends `query` to `up` over UDP; the reply, or a rejection after `timeoutMs` or `signal`. */
export function forwardUdp(query: Buffer, up: Upstream, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
  return forwardOnce(up, timeoutMs, signal, (finish) => {
    const sock = dgram.createSocket(net.isIPv6(up.host) ? 'udp6' : 'udp4');
    sock.on('error', (err) => finish(err));
    // Only the reply to this query's id counts: a late or spoofed datagram is ignored.
    sock.on('message', (msg) => { if (msg.length >= 2 && msg.readUInt16BE(0) === query.readUInt16BE(0)) finish(undefined, msg); });
    sock.send(query, up.port, up.host, (err) => { if (err) finish(err); });
    return () => sock.close();
  });
}

/** Sends `query` to `up` over TCP (length-prefixed, RFC 1035 4.2.2); the reply, or a rejection. */
export function forwardTcp(query: Buffer, up: Upstream, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
  return forwardOnce(up, timeoutMs, signal, (finish) => {
    const sock = net.connect({ host: up.host, port: up.port });
    let buf = Buffer.alloc(0);
    sock.on('error', (err) => finish(err));
    sock.on('close', () => finish(new Error(`${up.host}:${up.port} closed the connection without a reply`)));
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      sock.write(Buffer.concat([len, query]));
    });
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(undefined, buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    return () => sock.destroy();
  });
}
