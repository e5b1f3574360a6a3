/**
 * `mk port-forward`'s contract: a TCP connection to a pod, relayed over the bus by the node agent
 * that hosts the pod. The CLI asks `mk.node.<node>.portforward` (PortForwardRequest); the agent
 * connects to the pod's own IP on that port and answers with a stream id (PortForwardOpened).
 * Bytes then flow as frames on `mk.node.<node>.portforward.<id>.up` (CLI -> agent) and
 * `.down` (agent -> CLI), each side a sender and a receiver of one byte stream:
 *
 * - DATA frames carry a sequence number (1, 2, ...); a receiver writes them in order.
 * - Credit: a sender has at most `window` DATA frames not yet acknowledged; the receiver sends
 *   ACK(seq) once it has handed the data up to seq to its socket, so a fast sender never floods a
 *   slow reader. The agent sends nothing before the CLI's first frame (ACK 0), which tells it the
 *   CLI listens.
 * - EOF(seq) follows the last DATA: the peer half-closed (its socket ended); the receiver ends its
 *   own socket's writing side. A stream is done when both sides have sent and received EOF.
 * - CLOSE ends the stream at once, both ways (a socket error or reset, a stopping process).
 * - PING keeps a quiet stream alive: a side that hears nothing for `deadAfterMs` closes it.
 *
 * Frames are binary: a type byte, then for DATA, ACK and EOF a big-endian u32 sequence number;
 * DATA's payload or CLOSE's UTF-8 reason follows. No I/O here.
 */
import { encodeToken } from './names';

/** Kinds of frame. */
export const FrameType = { Data: 1, Ack: 2, Eof: 3, Close: 4, Ping: 5 } as const;

/** One frame of a port-forward stream. */
export type Frame =
  | { type: 'data'; seq: number; data: Uint8Array }
  | { type: 'ack'; seq: number }
  | { type: 'eof'; seq: number }
  | { type: 'close'; reason: string }
  | { type: 'ping' };

/** The most bytes one DATA frame carries (well under nats-server's 1 MiB max_payload). */
export const PORT_FORWARD_CHUNK_BYTES = 32 * 1024;
/** DATA frames a sender may have unacknowledged, unless the stream says otherwise. */
export const PORT_FORWARD_WINDOW = 16;
/** A side that has sent nothing for this long sends a PING. */
export const PORT_FORWARD_PING_MS = 1_000;
/** A side that has heard nothing for this long closes the stream: its peer is gone. */
export const PORT_FORWARD_DEAD_AFTER_MS = 5_000;

/** mk.node.<node>.portforward: opens a stream to a pod bound to that node. */
export interface PortForwardRequest {
  namespace: string;
  pod: string;
  /** The pod's TCP port (1-65535); the agent connects to the pod's own IP, never another address. */
  port: number;
}

/** The answer to a PortForwardRequest: the stream is connected to the pod. */
export interface PortForwardOpened {
  /** Names the stream's subjects. */
  streamId: string;
  /** Credit each side gives the other, in DATA frames. */
  window: number;
}

/** One open stream, as mk.node.<node>.portforward.list reports it. */
export interface PortForwardStreamInfo {
  streamId: string;
  namespace: string;
  pod: string;
  port: number;
  openedAt: string;
}

/** The answer to mk.node.<node>.portforward.list: the node's open streams. */
export interface PortForwardList {
  streams: PortForwardStreamInfo[];
}

/** Where a port-forward stream is opened: `mk.node.<node>.portforward`. */
export function portForwardSubject(node: string): string {
  return `mk.node.${encodeToken(node)}.portforward`;
}

/** Lists a node's open port-forward streams: `mk.node.<node>.portforward.list`. */
export function portForwardListSubject(node: string): string {
  return `mk.node.${encodeToken(node)}.portforward.list`;
}

/** The frames of one direction of a stream: `up` (CLI -> agent) or `down` (agent -> CLI). */
export function portForwardStreamSubject(node: string, streamId: string, dir: 'up' | 'down'): string {
  return `mk.node.${encodeToken(node)}.portforward.${streamId}.${dir}`;
}

/** A stream id is 32 lowercase hex digits (the agent makes it). */
export function isPortForwardStreamId(id: unknown): id is string {
  return typeof id === 'string' && /^[0-9a-f]{32}$/.test(id);
}

/** The frame as bytes. */
export function encodeFrame(f: Frame): Uint8Array {
  switch (f.type) {
    case 'data': {
      const b = new Uint8Array(5 + f.data.length);
      b[0] = FrameType.Data;
      new DataView(b.buffer).setUint32(1, f.seq);
      b.set(f.data, 5);
      return b;
    }
    case 'ack':
    case 'eof': {
      const b = new Uint8Array(5);
      b[0] = f.type === 'ack' ? FrameType.Ack : FrameType.Eof;
      new DataView(b.buffer).setUint32(1, f.seq);
      return b;
    }
    case 'close': {
      const reason = new TextEncoder().encode(f.reason);
      const b = new Uint8Array(1 + reason.length);
      b[0] = FrameType.Close;
      b.set(reason, 1);
      return b;
    }
    case 'ping':
      return Uint8Array.of(FrameType.Ping);
  }
}

/** The frame in `b`; throws an Error naming the problem for bytes that are not one. */
export function decodeFrame(b: Uint8Array): Frame {
  if (b.length === 0) throw new Error('empty frame');
  const seq = (): number => {
    if (b.length < 5) throw new Error(`frame of type ${b[0]} is ${b.length} bytes, too short for its sequence number`);
    return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(1);
  };
  switch (b[0]) {
    case FrameType.Data: return { type: 'data', seq: seq(), data: b.subarray(5) };
    case FrameType.Ack: return { type: 'ack', seq: seq() };
    case FrameType.Eof: return { type: 'eof', seq: seq() };
    case FrameType.Close: return { type: 'close', reason: new TextDecoder().decode(b.subarray(1)) };
    case FrameType.Ping: return { type: 'ping' };
    default: throw new Error(`unknown frame type ${b[0]}`);
  }
}
