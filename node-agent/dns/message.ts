/**
 * One DNS message in, one decision out: a reply built from the cluster's records, a question to
 * forward upstream, or nothing (a packet too broken to answer). Encoding and decoding go through
 * dns-packet; nothing here does I/O, so every case is unit-tested without a socket.
 */
import * as packet from 'dns-packet';
import type { Answer, DecodedPacket, Packet } from 'dns-packet';
import type { ClusterRecords } from './records';

/** DNS response codes (RFC 1035 4.1.1, RFC 6895), as carried in the header's low 4 bits. */
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export type Rcode = keyof typeof RCODE;

/** The classic UDP limit (RFC 1035 4.2.1): a larger answer is truncated for clients without EDNS. */
export const UDP_MAX_BYTES = 512;
/** The largest UDP answer sent even to an EDNS client asking for more (the DNS flag day's 1232). */
export const EDNS_MAX_BYTES = 1232;

/** What to do with a message. */
export type Decision =
  /** Send `reply` (already encoded for the transport's size limit). */
  | { kind: 'reply'; reply: Buffer; qtype: string; rcode: Rcode }
  /**
   * Not the cluster's name: send the query bytes to an upstream resolver as they are, or
   * `servfail` to the client when no upstream answers.
   */
  | { kind: 'forward'; qtype: string; id: number; rd: boolean; servfail: Buffer }
  /**
   * The cluster's answer ends in a CNAME to `target` outside the cluster: ask the upstream for
   * `target` (`query`, encoded) and send `finish` of its answers (`finish()` alone when it fails).
   */
  | { kind: 'chase'; qtype: string; target: string; query: Buffer; finish: (upstream?: Buffer) => Buffer; rcode: Rcode }
  /** Too broken to answer (not even a header): drop it. */
  | { kind: 'drop'; why: string };

/** How a message is answered. */
export interface HandleOptions {
  /** True when an upstream resolver is configured: outside names are forwarded, else REFUSED. */
  forwarding: boolean;
  /** UDP (size limits and truncation apply) or TCP (up to 65535 bytes). */
  transport: 'udp' | 'tcp';
}

/** The header-only reply with `rcode` to the message whose first bytes are `query` (FORMERR, SERVFAIL...). */
export function headerReply(query: Buffer, rcode: Rcode): Buffer | undefined {
  if (query.length < 12) return undefined;
  const out = Buffer.alloc(12);
  query.copy(out, 0, 0, 4);
  // QR set, opcode and RD kept from the query, AA/TC/RA/Z cleared, the rcode given.
  out[2] = 0x80 | (query[2] & 0x79);
  out[3] = RCODE[rcode];
  return out;
}

/** The OPT record of an EDNS query, if it has one. */
function optOf(q: DecodedPacket): { udpPayloadSize: number } | undefined {
  return (q.additionals ?? []).find((a) => a.type === 'OPT') as { udpPayloadSize: number } | undefined;
}

/**
 * Encodes `reply`, keeping it within `limit` bytes: when it is too large the TC bit is set and
 * records are dropped from the end (additionals, then authorities, then answers) until it fits,
 * so the client retries over TCP (RFC 2181 9, RFC 7766).
 */
export function encodeWithin(reply: Packet, limit: number): Buffer {
  let buf = packet.encode(reply);
  if (buf.length <= limit) return buf;
  const cut: Packet = {
    ...reply,
    flags: (reply.flags ?? 0) | packet.TRUNCATED_RESPONSE,
    answers: [...(reply.answers ?? [])],
    authorities: [...(reply.authorities ?? [])],
    // The OPT record stays: it tells the client the size it may ask for.
    additionals: (reply.additionals ?? []).filter((a) => a.type === 'OPT'),
  };
  for (;;) {
    buf = packet.encode(cut);
    if (buf.length <= limit) return buf;
    if (cut.authorities!.length > 0) cut.authorities!.pop();
    else if (cut.answers!.length > 0) cut.answers!.pop();
    else if (cut.additionals!.length > 0) cut.additionals = [];
    else return buf.subarray(0, limit);
  }
}

/**
 * Decides what to do with one message. Never throws: a message that does not decode is FORMERR
 * when its header can be answered, else dropped.
 */
export function handleMessage(query: Buffer, records: ClusterRecords, opts: HandleOptions): Decision {
  let q: DecodedPacket & { opcode?: string };
  try {
    q = packet.decode(query);
  } catch (err) {
    const reply = headerReply(query, 'FORMERR');
    return reply ? { kind: 'reply', reply, qtype: 'unknown', rcode: 'FORMERR' } : { kind: 'drop', why: `undecodable: ${String(err)}` };
  }
  if (q.type === 'response') return { kind: 'drop', why: 'a response, not a query' };
  const question = q.questions?.[0];
  const qtype = question ? String(question.type) : 'none';
  const rd = (q.flags ?? 0) & packet.RECURSION_DESIRED;
  // Error replies echo the question: resolvers (c-ares, glibc) discard a reply whose question differs.
  const errorReply = (rcode: Rcode): Buffer => packet.encode({
    id: q.id ?? 0, type: 'response', flags: rd | (opts.forwarding ? packet.RECURSION_AVAILABLE : 0) | RCODE[rcode], questions: q.questions ?? [],
  });
  const fail = (rcode: Rcode): Decision => ({ kind: 'reply', reply: errorReply(rcode), qtype, rcode });
  if (q.opcode !== undefined && q.opcode !== 'QUERY') return { kind: 'reply', reply: headerReply(query, 'NOTIMP')!, qtype, rcode: 'NOTIMP' };
  if (!question || (q.questions ?? []).length !== 1) return { kind: 'reply', reply: headerReply(query, 'FORMERR')!, qtype, rcode: 'FORMERR' };
  const opt = optOf(q);
  const resolved = question.class === undefined || question.class === 'IN' || question.class === 'ANY' ? records.resolve(question) : undefined;
  if (!resolved) {
    if (opts.forwarding) return { kind: 'forward', qtype, id: q.id ?? 0, rd: rd !== 0, servfail: errorReply('SERVFAIL') };
    return fail('REFUSED');
  }
  if (resolved.rcode === 'SERVFAIL') return fail('SERVFAIL');
  const additionals: Answer[] = [...resolved.additionals];
  if (opt) additionals.push({ name: '.', type: 'OPT', udpPayloadSize: EDNS_MAX_BYTES, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] });
  const limit = opts.transport === 'tcp' ? 65535 : opt ? Math.min(EDNS_MAX_BYTES, Math.max(UDP_MAX_BYTES, opt.udpPayloadSize)) : UDP_MAX_BYTES;
  const build = (rcode: Rcode, more: Answer[]): Buffer => encodeWithin({
    id: q.id ?? 0,
    type: 'response',
    flags: packet.AUTHORITATIVE_ANSWER | rd | (opts.forwarding ? packet.RECURSION_AVAILABLE : 0) | RCODE[rcode],
    questions: [question],
    answers: [...resolved.answers, ...more],
    authorities: resolved.authorities,
    additionals,
  }, limit);
  const target = resolved.chase;
  if (target && opts.forwarding && question.type !== 'CNAME') {
    const chaseQuery = packet.encode({ id: (q.id ?? 0) ^ 0x5a5a, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ name: target, type: question.type, class: 'IN' }] });
    const finish = (upstream?: Buffer): Buffer => {
      try {
        const a = upstream ? packet.decode(upstream) as DecodedPacket & { rcode?: string } : undefined;
        // Only the records the upstream gave for the chain from target (CNAMEs and the type asked).
        const more = (a?.answers ?? []).filter((r) => r.type === question.type || r.type === 'CNAME');
        return build(a?.rcode === 'NXDOMAIN' ? 'NXDOMAIN' : 'NOERROR', more);
      } catch {
        return build('NOERROR', []);
      }
    };
    return { kind: 'chase', qtype, target, query: chaseQuery, finish, rcode: resolved.rcode };
  }
  return { kind: 'reply', reply: build(resolved.rcode, []), qtype, rcode: resolved.rcode };
}
