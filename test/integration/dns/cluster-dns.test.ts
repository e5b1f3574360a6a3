/**
 * The cluster DNS server on 127.0.0.1 (a free port), queried as clients do: node's dns.Resolver
 * over UDP (retrying over TCP on a truncated answer), dns-packet over TCP, a burst of 1,000
 * concurrent queries, forwarding to a fake upstream on loopback, and a clean stop.
 */
import * as dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import * as net from 'node:net';
import pino from 'pino';
import * as packet from 'dns-packet';
import { ClusterRecords, startDnsServer, startNodeDns, type DnsServer } from '../../../node-agent/dns';
import type {
  EndpointSliceView, ServiceNetworkChange, ServiceNetworkSource, ServiceView,
} from '../../../node-agent/service-network/types';
import { register } from 'prom-client';
import { until } from '../../helpers/wait';

/** A tiny in-memory view of Services and EndpointSlices. */
function memorySource(services: ServiceView[], slices: EndpointSliceView[]): ServiceNetworkSource & { add(s: ServiceView): void } {
  const listeners = new Set<(c: ServiceNetworkChange) => void>();
  return {
    services: () => services,
    service: (ns, name) => services.find((s) => s.metadata.namespace === ns && s.metadata.name === name),
    slicesOf: (ns, svc) => slices.filter((s) => s.metadata.namespace === ns && s.metadata.labels?.['kubernetes.io/service-name'] === svc),
    onChange: (l) => { listeners.add(l); return () => { listeners.delete(l); }; },
    add(s) { services.push(s); for (const l of listeners) l({ namespace: s.metadata.namespace!, service: s.metadata.name }); },
  };
}

const log = pino({ level: 'silent' });
const endpoints = Array.from({ length: 60 }, (_, i) => ({ addresses: [`10.244.7.${i + 1}`], conditions: { ready: true } }));
const source = memorySource([
  { metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] } },
  { metadata: { name: 'big', namespace: 'default' }, spec: { clusterIP: 'None' } },
  { metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'db.example.com' } },
], [{ metadata: { name: 'big-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'big' } }, addressType: 'IPv4', endpoints }]);

/** One query over TCP with dns-packet: the decoded answer. */
function askTcp(port: number, name: string, type: packet.RecordType, id = 1): Promise<packet.DecodedPacket & { rcode?: string }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    sock.on('error', reject);
    sock.on('connect', () => sock.write(packet.streamEncode({ id, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ name, type }] })));
    sock.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) { sock.end(); resolve(packet.streamDecode(buf) as packet.DecodedPacket); }
    });
  });
}

/** One query over UDP with dns-packet. */
function askUdp(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const t = setTimeout(() => { sock.close(); reject(new Error('no udp answer')); }, 5_000);
    sock.on('message', (m) => { clearTimeout(t); sock.close(); resolve(m); });
    sock.send(bytes, port, '127.0.0.1');
  });
}

describe('cluster DNS server', () => {
  const records = new ClusterRecords(source, { domain: 'cluster.local', ttl: 5 });
  let server: DnsServer;
  let resolver: Resolver;

  beforeAll(async () => {
    server = await startDnsServer({ host: '127.0.0.1', port: 0, records, log });
    resolver = new Resolver({ timeout: 2_000, tries: 2 });
    resolver.setServers([`127.0.0.1:${server.port}`]);
  });
  afterAll(async () => {
    await server.stop();
    records.close();
  });

  it('resolves a service with node\'s resolver, and NXDOMAIN, SRV and REFUSED as such', async () => {
    expect(await resolver.resolve4('web.default.svc.cluster.local')).toEqual(['10.96.0.20']);
    expect(await resolver.resolve4('WEB.default.svc.Cluster.Local', { ttl: true })).toEqual([{ address: '10.96.0.20', ttl: 5 }]);
    await expect(resolver.resolve4('nope.default.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolve6('web.default.svc.cluster.local')).rejects.toMatchObject({ code: 'ENODATA' });
    expect(await resolver.resolveSrv('_http._tcp.web.default.svc.cluster.local')).toEqual([{ name: 'web.default.svc.cluster.local', port: 80, priority: 0, weight: 100 }]);
    expect(await resolver.reverse('10.96.0.20')).toEqual(['web.default.svc.cluster.local']);
    await expect(resolver.resolve4('example.org')).rejects.toMatchObject({ code: 'EREFUSED' });
  });

  it('truncates a large answer on UDP; the resolver retries over TCP and gets all of it', async () => {
    const udp = packet.decode(await askUdp(server.port, packet.encode({ id: 9, type: 'query', questions: [{ name: 'big.default.svc.cluster.local', type: 'A' }] })));
    expect(udp.flag_tc).toBe(true);
    const all = await resolver.resolve4('big.default.svc.cluster.local');
    expect(all.sort()).toEqual(endpoints.map((e) => e.addresses[0]).sort());
  });

  it('answers over TCP with dns-packet, several queries on one connection in order', async () => {
    const r = await askTcp(server.port, 'big.default.svc.cluster.local', 'A');
    expect(r.answers).toHaveLength(60);
    const replies = await new Promise<number[]>((resolve, reject) => {
      const sock = net.connect({ host: '127.0.0.1', port: server.port });
      let buf = Buffer.alloc(0);
      const ids: number[] = [];
      sock.on('error', reject);
      sock.on('connect', () => sock.write(Buffer.concat([1, 2, 3].map((id) => packet.streamEncode({ id, type: 'query', questions: [{ name: 'web.default.svc.cluster.local', type: 'A' }] })))));
      sock.on('data', (c) => {
        buf = Buffer.concat([buf, c]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          ids.push(packet.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))).id!);
          buf = buf.subarray(2 + buf.readUInt16BE(0));
        }
        if (ids.length === 3) { sock.end(); resolve(ids); }
      });
    });
    expect(replies).toEqual([1, 2, 3]);
  });

  it('answers a burst of 1,000 concurrent queries', async () => {
    const names = Array.from({ length: 1000 }, (_, i) => (i % 2 ? 'web.default.svc.cluster.local' : `x${i}.default.svc.cluster.local`));
    // Twenty clients with 50 queries each in flight, as pods are: one resolver's single socket
    // would overflow its own receive queue before it read the answers.
    const clients = Array.from({ length: 20 }, () => {
      const r = new Resolver({ timeout: 5_000, tries: 1 });
      r.setServers([`127.0.0.1:${server.port}`]);
      return r;
    });
    const got = await Promise.all(names.map((n, i) => clients[i % 20].resolve4(n).then((a) => a[0], (e: NodeJS.ErrnoException) => e.code)));
    expect(got.filter((g) => g === '10.96.0.20')).toHaveLength(500);
    expect(got.filter((g) => g === 'ENOTFOUND')).toHaveLength(500);
  });

  it('keeps serving after garbage, and counts queries by type and rcode', async () => {
    const garbage = await askUdp(server.port, Buffer.from([0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x3f, 0x61]));
    expect((packet.decode(garbage) as { rcode?: string }).rcode).toBe('FORMERR');
    expect(await resolver.resolve4('web.default.svc.cluster.local')).toEqual(['10.96.0.20']);
    const text = await register.getSingleMetricAsString('mk_dns_queries_total');
    expect(text).toMatch(/mk_dns_queries_total\{type="A",rcode="NXDOMAIN"\} \d+/);
    expect(text).toMatch(/mk_dns_queries_total\{type="unknown",rcode="FORMERR"\} [1-9]/);
  });
});

describe('forwarding', () => {
  it('forwards names outside the domain to the upstream (a fake on loopback), over UDP and TCP', async () => {
    const answer = (q: Buffer): Buffer => {
      const d = packet.decode(q);
      return packet.encode({ id: d.id, type: 'response', flags: packet.RECURSION_AVAILABLE, questions: d.questions, answers: [{ name: d.questions![0].name, type: 'A', ttl: 60, data: '192.0.2.7' }] });
    };
    const udpUp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udpUp.bind(0, '127.0.0.1', () => r()));
    udpUp.on('message', (m, rinfo) => udpUp.send(answer(m), rinfo.port, rinfo.address));
    const upPort = udpUp.address().port;
    const tcpUp = net.createServer((c) => c.on('data', (b) => c.end(packet.streamEncode(packet.decode(answer(b.subarray(2)))))));
    await new Promise<void>((r, j) => { tcpUp.once('error', j); tcpUp.listen(upPort, '127.0.0.1', () => r()); });
    const records = new ClusterRecords(source, { domain: 'cluster.local', ttl: 5 });
    const server = await startDnsServer({ host: '127.0.0.1', port: 0, records, upstreams: [{ host: '127.0.0.1', port: upPort }], log });
    try {
      const resolver = new Resolver({ timeout: 2_000, tries: 1 });
      resolver.setServers([`127.0.0.1:${server.port}`]);
      expect(await resolver.resolve4('example.org')).toEqual(['192.0.2.7']);
      expect(await resolver.resolve4('web.default.svc.cluster.local')).toEqual(['10.96.0.20']);
      // An ExternalName is followed through the upstream, so stub resolvers get an address.
      expect(await resolver.resolve4('ext.default.svc.cluster.local')).toEqual(['192.0.2.7']);
      const tcp = await askTcp(server.port, 'example.net', 'A', 77);
      expect([tcp.id, tcp.answers?.[0]]).toEqual([77, expect.objectContaining({ data: '192.0.2.7' })]);
    } finally {
      await server.stop();
      records.close();
      udpUp.close();
      tcpUp.close();
    }
  });

  it('answers SERVFAIL when the upstream does not answer', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    const records = new ClusterRecords(source, { domain: 'cluster.local', ttl: 5 });
    const server = await startDnsServer({ host: '127.0.0.1', port: 0, records, upstreams: [{ host: '127.0.0.1', port: silent.address().port }], forwardTimeoutMs: 200, log });
    try {
      const r = packet.decode(await askUdp(server.port, packet.encode({ id: 5, type: 'query', questions: [{ name: 'example.org', type: 'A' }] }))) as { rcode?: string };
      expect(r.rcode).toBe('SERVFAIL');
    } finally {
      await server.stop();
      records.close();
      silent.close();
    }
  });
});

describe('bounds', () => {
  const query = (id: number, name: string): Buffer => packet.encode({ id, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ name, type: 'A' }] });

  it('answers SERVFAIL at once beyond maxForwards in flight, holding no socket for it', async () => {
    const silent = dgram.createSocket('udp4');
    let heard = 0;
    silent.on('message', () => { heard++; });
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    const records = new ClusterRecords(source, { domain: 'cluster.local', ttl: 5 });
    const server = await startDnsServer({ host: '127.0.0.1', port: 0, records, upstreams: [{ host: '127.0.0.1', port: silent.address().port }], forwardTimeoutMs: 20_000, maxForwards: 2, log });
    try {
      const held = [askUdp(server.port, query(1, 'a.example.org')), askUdp(server.port, query(2, 'b.example.org'))];
      for (const h of held) h.catch(() => undefined);
      await until('two forwards at the upstream', () => (heard === 2 ? true : undefined), 5_000);
      const third = packet.decode(await askUdp(server.port, query(3, 'c.example.org'))) as { rcode?: string; id?: number };
      expect([third.id, third.rcode]).toEqual([3, 'SERVFAIL']);
      expect(heard).toBe(2);
    } finally {
      await server.stop();
      records.close();
      silent.close();
    }
  });

  it('reads no more of a pipelining TCP client than maxPendingPerConnection queries at once', async () => {
    const upstreamConns = new Set<net.Socket>();
    let accepted = 0;
    const silent = net.createServer((c) => { accepted++; upstreamConns.add(c); c.on('error', () => undefined); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const records = new ClusterRecords(source, { domain: 'cluster.local', ttl: 5 });
    const server = await startDnsServer({
      host: '127.0.0.1', port: 0, records, upstreams: [{ host: '127.0.0.1', port: (silent.address() as net.AddressInfo).port }],
      forwardTimeoutMs: 20_000, maxPendingPerConnection: 2, log,
    });
    const clients: net.Socket[] = [];
    try {
      const pipelined = net.connect({ host: '127.0.0.1', port: server.port });
      clients.push(pipelined);
      pipelined.on('error', () => undefined);
      await new Promise((r) => pipelined.once('connect', r));
      pipelined.write(Buffer.concat([1, 2, 3, 4, 5].map((i) => packet.streamEncode({ id: i, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ name: `q${i}.example.org`, type: 'A' }] }))));
      await until('two of its queries forwarded', () => (accepted >= 2 ? true : undefined), 5_000);
      // Another client's query is forwarded as usual: the first client's others wait their turn.
      const other = net.connect({ host: '127.0.0.1', port: server.port });
      clients.push(other);
      other.on('error', () => undefined);
      await new Promise((r) => other.once('connect', r));
      other.write(packet.streamEncode({ id: 9, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ name: 'other.example.org', type: 'A' }] }));
      await until('the other client\'s query forwarded', () => (accepted >= 3 ? true : undefined), 5_000);
      expect(accepted).toBe(3);
    } finally {
      for (const c of clients) c.destroy();
      await server.stop();
      records.close();
      for (const c of upstreamConns) c.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});

describe('a TCP client that does not read its replies', () => {
  it('is read no further once its replies back up, instead of queueing them all in memory', async () => {
    const records = new ClusterRecords(source, { domain: 'cluster.local', ttl: 5 });
    const server = await startDnsServer({ host: '127.0.0.1', port: 0, records, log });
    const answered = async (): Promise<number> => {
      const text = await register.getSingleMetricAsString('mk_dns_queries_total');
      return Number(/mk_dns_queries_total\{type="A",rcode="NOERROR"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const before = await answered();
    const client = net.connect({ host: '127.0.0.1', port: server.port });
    client.on('error', () => undefined);
    try {
      await new Promise((r) => client.once('connect', r));
      client.pause();
      // Each reply is about 1 KB (60 addresses): 40,000 of them are far beyond any socket buffer.
      const one = packet.streamEncode({ id: 1, type: 'query', questions: [{ name: 'big.default.svc.cluster.local', type: 'A' }] });
      const total = 40_000;
      client.write(Buffer.concat(Array.from({ length: total }, () => one)));
      // Answered queries grow while the kernel's buffers take the replies, then stop.
      let last = -1;
      const settled = await until('the server stops answering', async () => {
        const now = (await answered()) - before;
        const same = now === last;
        last = now;
        return same && now > 0 ? now : undefined;
      }, 20_000, 250);
      expect(settled).toBeLessThan(total / 2);
    } finally {
      client.destroy();
      await server.stop();
      records.close();
    }
  });
});

describe('faults of its own', () => {
  it('answers SERVFAIL when its view throws, and keeps serving', async () => {
    let broken = true;
    const flaky: ServiceNetworkSource = {
      ...source,
      service: (ns, name) => { if (broken) throw new Error('view unavailable'); return source.service(ns, name); },
    };
    const records = new ClusterRecords(flaky, { domain: 'cluster.local', ttl: 5 });
    const server = await startDnsServer({ host: '127.0.0.1', port: 0, records, log });
    try {
      const r = packet.decode(await askUdp(server.port, packet.encode({ id: 3, type: 'query', questions: [{ name: 'web.default.svc.cluster.local', type: 'A' }] }))) as { rcode?: string };
      expect(r.rcode).toBe('SERVFAIL');
      broken = false;
      const resolver = new Resolver({ timeout: 2_000, tries: 1 });
      resolver.setServers([`127.0.0.1:${server.port}`]);
      expect(await resolver.resolve4('web.default.svc.cluster.local')).toEqual(['10.96.0.20']);
    } finally {
      await server.stop();
      records.close();
    }
  });
});

describe('starting and stopping', () => {
  it('frees both sockets on stop: the same port binds again, TCP is refused, no handle is left', async () => {
    const handles = (): number => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
    const before = handles();
    const records = new ClusterRecords(source, { domain: 'cluster.local', ttl: 5 });
    const server = await startDnsServer({ host: '127.0.0.1', port: 0, records, log });
    // An open TCP connection is closed by stop too.
    const open = net.connect({ host: '127.0.0.1', port: server.port });
    await new Promise((r) => open.once('connect', r));
    const closed = new Promise((r) => open.once('close', r));
    await server.stop();
    await closed;
    await expect(new Promise((resolve, reject) => {
      const c = net.connect({ host: '127.0.0.1', port: server.port });
      c.once('connect', () => { c.destroy(); resolve('connected'); });
      c.once('error', reject);
    })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const again = await startDnsServer({ host: '127.0.0.1', port: server.port, records, log });
    await again.stop();
    records.close();
    await until('handles to close', () => (handles() <= before ? true : undefined), 5_000);
  });

  it('a node\'s DNS waits for its gateway address, serves there once it exists, and stops while waiting', async () => {
    const s = memorySource([], []);
    // 127.0.0.1 is the gateway of 127.0.0.0/24; TEST-NET-1 is an address this machine does not have.
    const waiting = startNodeDns({ source: s, port: 0, log, retry: { initialMs: 20, maxMs: 50 } });
    waiting.setPodCIDR('192.0.2.0/24');
    expect(waiting.podDns()).toEqual({ servers: ['192.0.2.1'], searches: [], options: ['ndots:5'], domain: 'cluster.local' });
    await new Promise((r) => setTimeout(r, 200));
    expect(waiting.server()).toBeUndefined();
    await waiting.stop();

    const nodeDns = startNodeDns({ source: s, port: 0, domain: 'Corp.Example', log });
    expect(nodeDns.podDnsFor(undefined)).toBeUndefined();
    // What a pod actor's spawn does: ask for the resolver of the node's CIDR, which starts the server there.
    expect(nodeDns.podDnsFor('127.0.0.0/24')).toEqual({ servers: ['127.0.0.1'], searches: [], options: ['ndots:5'], domain: 'corp.example' });
    const srv = await until('the node DNS to listen', () => nodeDns.server());
    expect(srv.host).toBe('127.0.0.1');
    s.add({ metadata: { name: 'late', namespace: 'ns1' }, spec: { clusterIP: '10.96.5.5' } });
    const resolver = new Resolver({ timeout: 2_000, tries: 1 });
    resolver.setServers([`127.0.0.1:${srv.port}`]);
    expect(await resolver.resolve4('late.ns1.svc.corp.example')).toEqual(['10.96.5.5']);
    await nodeDns.stop();
    expect(nodeDns.server()).toBeUndefined();
  });
});
