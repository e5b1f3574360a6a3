/**
 * One side of a port-forward stream (messages/port-forward.ts): a TCP socket relayed over two
 * subjects, with sequence numbers, credit-based flow control, half-close, close and a liveness
 * ping. The CLI runs one per accepted local connection, the node agent one per connection to a
 * pod; both sides are this same code. Only core NATS: the CLI loads it without JetStream.
 */
import type { Duplex } from 'node:stream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  decodeFrame, encodeFrame, PORT_FORWARD_CHUNK_BYTES, PORT_FORWARD_DEAD_AFTER_MS, PORT_FORWARD_PING_MS, PORT_FORWARD_WINDOW,
  type Frame,
} from '../messages/port-forward';

/** How a relay is wired. */
export interface RelayOptions {
  nc: NatsConnection;
  /**
   * The local end: a socket made with `allowHalfOpen: true`, so that the peer's EOF ends only
   * its writing side.
   */
  socket: Duplex;
  /** Where this side's frames go. */
  sendSubject: string;
  /** Where the peer's frames come from. */
  recvSubject: string;
  /** DATA frames either side may have unacknowledged (default PORT_FORWARD_WINDOW). */
  window?: number;
  /** The most bytes per DATA frame (default PORT_FORWARD_CHUNK_BYTES). */
  chunkBytes?: number;
  /** A quiet side pings this often (default PORT_FORWARD_PING_MS). */
  pingMs?: number;
  /** Closes the stream after hearing nothing for this long (default PORT_FORWARD_DEAD_AFTER_MS). */
  deadAfterMs?: number;
  /** Send nothing before the peer's first frame (the agent's side: the CLI subscribes after the reply). */
  waitForPeer?: boolean;
}

/** The reason a relay gives when its own socket closed before both EOFs (its user hung up). */
export const SOCKET_CLOSED = 'the connection closed';

/** Why a relay ended: undefined for a clean end (both sides sent EOF), else the reason. */
export type RelayEnd = string | undefined;

/** How a relay's reason begins when the peer fell silent (it died, or the bus between is gone). */
export const PEER_SILENT = 'no word from the other end';
/** The reason the node agent's side gives when it stops serving streams. */
export const SERVER_STOPPED = 'the node agent stopped';
/** The reason either side gives when its bus connection dropped: frames in flight may be lost. */
export const BUS_LOST = 'the bus connection was lost';

/**
 * True when a relay ended because the stream itself is gone (the peer died or stopped, or the bus
 * failed), not because one connection at either end closed or failed: `mk port-forward` gives up
 * then, as kubectl does when it loses its connection to the pod.
 */
export function isStreamLost(reason: RelayEnd): boolean {
  return reason !== undefined && (reason.startsWith(PEER_SILENT) || reason === SERVER_STOPPED || reason.startsWith(BUS_LOST)
    || reason.startsWith('the bus connection failed') || reason.startsWith('subscription failed'));
}

/**
 * Relays a socket over the bus until both directions ended, either side closed or reset, or
 * the peer fell silent. `done` resolves (never rejects) once the subscription and the socket are
 * gone; close() ends it early and tells the peer.
 */
export class RelayStream {
  /** Resolves when the stream is over, with why (undefined: a clean end). */
  readonly done: Promise<RelayEnd>;
  private resolveDone!: (r: RelayEnd) => void;
  private readonly window: number;
  private readonly chunkBytes: number;
  private readonly ackEvery: number;
  private readonly sub: Subscription;
  private readonly timer: NodeJS.Timeout;
  // Sending: the next sequence number, the peer's acknowledgement, and chunks waiting for credit.
  private nextSeq = 1;
  private acked = 0;
  private queue: Uint8Array[] = [];
  private paused = false;
  private localEnded = false;
  private sentEof = false;
  // Receiving: the next sequence number to write, frames that came early, and what the socket took.
  private expected = 1;
  private early = new Map<number, Frame>();
  private written = 0;
  private lastAckSent = 0;
  private recvEof = false;
  private socketClosed = false;
  private peerHeard: boolean;
  private lastHeard = Date.now();
  private lastSent = Date.now();
  private closed = false;

  constructor(private readonly o: RelayOptions) {
    this.done = new Promise((r) => { this.resolveDone = r; });
    this.window = Math.max(1, o.window ?? PORT_FORWARD_WINDOW);
    this.chunkBytes = Math.max(1, o.chunkBytes ?? PORT_FORWARD_CHUNK_BYTES);
    this.ackEvery = Math.max(1, Math.floor(this.window / 4));
    this.peerHeard = !o.waitForPeer;
    this.sub = o.nc.subscribe(o.recvSubject, {
      callback: (err, msg) => {
        if (err) { this.finish(`subscription failed: ${err.message}`, false); return; }
        let f: Frame;
        try {
          f = decodeFrame(msg.data);
        } catch (e) {
          this.finish(`bad frame: ${(e as Error).message}`, true);
          return;
        }
        this.onFrame(f);
      },
    });
    const s = o.socket;
    s.on('data', (b: Buffer) => this.onLocalData(b));
    s.on('end', () => { this.localEnded = true; this.pump(); });
    s.on('error', (e: Error) => this.finish(`connection error: ${e.message}`, true));
    s.on('close', () => {
      this.socketClosed = true;
      // Closed without both EOFs: destroyed or reset, which the peer must hear of.
      if (!this.localEnded || !this.recvEof) this.finish(SOCKET_CLOSED, true);
      else this.maybeDone();
    });
    const pingMs = o.pingMs ?? PORT_FORWARD_PING_MS;
    const deadAfterMs = o.deadAfterMs ?? PORT_FORWARD_DEAD_AFTER_MS;
    this.timer = setInterval(() => {
      const now = Date.now();
      if (now - this.lastHeard > deadAfterMs) this.finish(`${PEER_SILENT} for ${deadAfterMs / 1000} s`, true);
      else if (now - this.lastSent >= pingMs && this.peerHeard) this.send({ type: 'ping' });
    }, Math.max(10, Math.min(pingMs, deadAfterMs / 2)));
    this.timer.unref();
    // The agent waits for this first frame: it says the CLI listens on the stream.
    if (!o.waitForPeer) this.send({ type: 'ack', seq: 0 });
  }

  /** Whether the stream is over. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Ends the stream now: tells the peer (CLOSE with `reason`) and destroys the socket. */
  close(reason = 'closed'): void {
    this.finish(reason, true);
  }

  private onLocalData(b: Buffer): void {
    for (let i = 0; i < b.length; i += this.chunkBytes) this.queue.push(b.subarray(i, i + this.chunkBytes));
    if (this.queue.length >= this.window && !this.paused) {
      this.paused = true;
      this.o.socket.pause();
    }
    this.pump();
  }

  /** Sends what credit allows, then EOF once the local side ended and everything went out. */
  private pump(): void {
    if (this.closed || !this.peerHeard) return;
    while (this.queue.length > 0 && this.nextSeq - 1 - this.acked < this.window) {
      this.send({ type: 'data', seq: this.nextSeq++, data: this.queue.shift()! });
      if (this.closed) return;
    }
    if (this.paused && this.queue.length < this.window / 2) {
      this.paused = false;
      this.o.socket.resume();
    }
    if (this.localEnded && !this.sentEof && this.queue.length === 0) {
      this.sentEof = true;
      this.send({ type: 'eof', seq: this.nextSeq++ });
      this.maybeDone();
    }
  }

  private onFrame(f: Frame): void {
    if (this.closed) return;
    this.lastHeard = Date.now();
    if (!this.peerHeard) {
      this.peerHeard = true;
      this.pump();
    }
    switch (f.type) {
      case 'ack':
        if (f.seq >= this.nextSeq) { this.finish(`acknowledgement of ${f.seq}, which was never sent`, true); return; }
        if (f.seq > this.acked) {
          this.acked = f.seq;
          this.pump();
        }
        return;
      case 'data':
      case 'eof':
        if (f.seq < this.expected) return; // a duplicate
        if (f.seq > this.expected + this.window) { this.finish(`frame ${f.seq} is beyond the window (expected ${this.expected})`, true); return; }
        this.early.set(f.seq, f);
        this.deliver();
        return;
      case 'close':
        this.finish(f.reason || 'closed by the other end', false);
        return;
      case 'ping':
        return;
    }
  }

  /** Writes the frames that are next in order to the socket. */
  private deliver(): void {
    const s = this.o.socket;
    for (let f = this.early.get(this.expected); f && !this.closed; f = this.early.get(this.expected)) {
      this.early.delete(this.expected);
      const seq = this.expected++;
      if (f.type === 'data') {
        s.write(f.data, (err) => {
          if (err || this.closed) return;
          this.written = seq;
          if (this.written - this.lastAckSent >= this.ackEvery) {
            this.lastAckSent = this.written;
            this.send({ type: 'ack', seq: this.written });
          }
        });
      } else if (f.type === 'eof') {
        this.recvEof = true;
        s.end();
        this.maybeDone();
      }
    }
  }

  private maybeDone(): void {
    if (this.sentEof && this.recvEof && this.socketClosed) this.finish(undefined, false);
  }

  private send(f: Frame): void {
    if (this.closed) return;
    try {
      this.o.nc.publish(this.o.sendSubject, encodeFrame(f));
      this.lastSent = Date.now();
    } catch (e) {
      this.finish(`the bus connection failed: ${(e as Error).message}`, false);
    }
  }

  private finish(reason: RelayEnd, tellPeer: boolean): void {
    if (this.closed) return;
    if (tellPeer) this.send({ type: 'close', reason: reason ?? 'closed' });
    this.closed = true;
    clearInterval(this.timer);
    if (!this.sub.isClosed()) this.sub.unsubscribe();
    this.queue = [];
    this.early.clear();
    if (!this.o.socket.destroyed) this.o.socket.destroy();
    this.resolveDone(reason);
  }
}
