import * as packet from 'dns-packet';
import type { Answer, DecodedPacket, RecordType } from 'dns-packet';
import { FakeServiceNetwork } from './service-network-fixture';
import { handleMessage, type Decision } from './message';
import { EMPTY_SERVICE_NETWORK } from './empty-source';
import { ClusterRecords } from './records';
import type { EndpointView, ServiceView } from '../service-network/types';

const svc = (name: string, ns: string, spec: ServiceView['spec']): ServiceView => ({ metadata: { name, namespace: ns }, spec });
const slice = (service: string, ns: string, endpoints: EndpointView[], ports: { name: string; port: number; protocol?: 'TCP' | 'UDP' }[] = []) => ({
  metadata: { name: `${service}-abc`, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4' as const, endpoints, ports,
});

function world(): FakeServiceNetwork {
  return new FakeServiceNetwork()
    .setService(svc('web', 'default', { type: 'ClusterIP', clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, targetPort: 8080 }, { port: 81 }] }))
    .setService(svc('db', 'prod', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }))
    .setSlice(slice('db', 'prod', [
      { addresses: ['10.244.1.5'], hostname: 'db-0', conditions: { ready: true } },
      { addresses: ['10.244.1.6'], conditions: { ready: true } },
      { addresses: ['10.244.1.7'], hostname: 'db-2', conditions: { ready: false } },
    ], [{ name: 'pg', port: 5433 }]))
    .setService(svc('all', 'prod', { clusterIP: 'None', publishNotReadyAddresses: true }))
    .setSlice(slice('all', 'prod', [{ addresses: ['10.244.2.1'], conditions: { ready: false } }, { addresses: ['10.244.2.2'] }]))
    .setService(svc('ext', 'default', { type: 'ExternalName', externalName: 'example.org' }))
    .setService(svc('alias', 'default', { type: 'ExternalName', externalName: 'web.default.svc.cluster.local' }));
}

let id = 1;
function ask(records: ClusterRecords, name: string, type: RecordType, opts: { forwarding?: boolean; transport?: 'udp' | 'tcp'; edns?: number } = {}): DecodedPacket & { rcode?: string } {
  const q = packet.encode({
    id: id++, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }],
    ...(opts.edns ? { additionals: [{ name: '.', type: 'OPT', udpPayloadSize: opts.edns, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] } : {}),
  });
  const d = handleMessage(q, records, { forwarding: opts.forwarding ?? false, transport: opts.transport ?? 'udp' });
  if (d.kind !== 'reply') throw new Error(`expected a reply, got ${d.kind}`);
  return packet.decode(d.reply);
}
const data = (answers: Answer[] | undefined): unknown[] => (answers ?? []).filter((a) => a.type !== 'OPT').map((a) => (a as { data: unknown }).data);

describe('cluster DNS records', () => {
  const records = new ClusterRecords(world(), { domain: 'cluster.local', ttl: 5 });
  afterAll(() => records.close());

  it('answers a ClusterIP service with its cluster IP, authoritatively, with the TTL', () => {
    const r = ask(records, 'web.default.svc.cluster.local', 'A');
    expect(r.rcode).toBe('NOERROR');
    expect(r.flag_aa).toBe(true);
    expect(r.flag_rd).toBe(true);
    expect(r.answers).toEqual([expect.objectContaining({ name: 'web.default.svc.cluster.local', type: 'A', ttl: 5, data: '10.96.0.20' })]);
  });

  it('matches names without regard to case and keeps the case asked in the answer', () => {
    const r = ask(records, 'WEB.Default.SVC.cluster.LOCAL', 'A');
    expect(r.rcode).toBe('NOERROR');
    expect(r.answers?.[0]).toEqual(expect.objectContaining({ name: 'WEB.Default.SVC.cluster.LOCAL', data: '10.96.0.20' }));
  });

  it('answers NODATA with the SOA for a type the name lacks (AAAA of an IPv4 service)', () => {
    const r = ask(records, 'web.default.svc.cluster.local', 'AAAA');
    expect(r.rcode).toBe('NOERROR');
    expect(r.answers).toEqual([]);
    expect(r.authorities).toEqual([expect.objectContaining({ type: 'SOA', name: 'cluster.local', data: expect.objectContaining({ mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', minimum: 5 }) })]);
  });

  it('answers NXDOMAIN with the SOA for names in the domain that do not exist', () => {
    for (const name of ['nope.default.svc.cluster.local', 'web.other.svc.cluster.local', 'x.web.default.svc.cluster.local', 'foo.cluster.local', 'nons.svc.cluster.local']) {
      const r = ask(records, name, 'A');
      expect([name, r.rcode]).toEqual([name, 'NXDOMAIN']);
      expect(r.authorities?.[0]?.type).toBe('SOA');
    }
  });

  it('treats the zone apex, svc, and a namespace with services as existing names (NODATA)', () => {
    for (const name of ['cluster.local', 'svc.cluster.local', 'default.svc.cluster.local', 'prod.svc.cluster.local']) {
      const r = ask(records, name, 'A');
      expect([name, r.rcode, r.answers]).toEqual([name, 'NOERROR', []]);
    }
    expect(data(ask(records, 'cluster.local', 'SOA').answers)).toEqual([expect.objectContaining({ mname: 'ns.dns.cluster.local' })]);
    expect(data(ask(records, 'dns-version.cluster.local', 'TXT').answers)).toEqual([[Buffer.from('1.1.0')]]);
  });

  it('answers a headless service with its ready endpoints, and all of them with publishNotReadyAddresses', () => {
    expect(data(ask(records, 'db.prod.svc.cluster.local', 'A').answers)).toEqual(['10.244.1.5', '10.244.1.6']);
    expect(data(ask(records, 'all.prod.svc.cluster.local', 'A').answers)).toEqual(['10.244.2.1', '10.244.2.2']);
  });

  it('answers one endpoint of a headless service by hostname, or by its dashed address', () => {
    expect(data(ask(records, 'db-0.db.prod.svc.cluster.local', 'A').answers)).toEqual(['10.244.1.5']);
    expect(data(ask(records, '10-244-1-6.db.prod.svc.cluster.local', 'A').answers)).toEqual(['10.244.1.6']);
    expect(ask(records, 'db-2.db.prod.svc.cluster.local', 'A').rcode).toBe('NXDOMAIN');
  });

  it('answers ExternalName with a CNAME, followed inside the cluster domain', () => {
    const ext = ask(records, 'ext.default.svc.cluster.local', 'A');
    expect(ext.rcode).toBe('NOERROR');
    expect(ext.answers).toEqual([expect.objectContaining({ type: 'CNAME', data: 'example.org' })]);
    const alias = ask(records, 'alias.default.svc.cluster.local', 'A');
    expect(alias.answers?.map((a) => a.type)).toEqual(['CNAME', 'A']);
    expect(data(alias.answers)).toEqual(['web.default.svc.cluster.local', '10.96.0.20']);
  });

  it('chases an ExternalName outside the cluster through the upstream when there is one', () => {
    const q = packet.encode({ id: 11, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ name: 'Ext.default.svc.cluster.local', type: 'A' }] });
    const d = handleMessage(q, records, { forwarding: true, transport: 'udp' });
    if (d.kind !== 'chase') throw new Error(`expected a chase, got ${d.kind}`);
    expect(d.target).toBe('example.org');
    const asked = packet.decode(d.query);
    expect(asked.questions).toEqual([expect.objectContaining({ name: 'example.org', type: 'A' })]);
    const upstream = packet.encode({
      id: asked.id, type: 'response', questions: asked.questions,
      answers: [{ name: 'example.org', type: 'A', ttl: 60, data: '192.0.2.7' }, { name: 'example.org', type: 'TXT', ttl: 60, data: 'x' }],
    });
    const r = packet.decode(d.finish(upstream));
    expect([r.id, r.answers?.map((a) => [a.name, a.type, (a as { data: unknown }).data])]).toEqual([11, [
      ['Ext.default.svc.cluster.local', 'CNAME', 'example.org'], ['example.org', 'A', '192.0.2.7'],
    ]]);
    // No upstream answer: the CNAME alone.
    expect(packet.decode(d.finish()).answers?.map((a) => a.type)).toEqual(['CNAME']);
    const nx = packet.encode({ id: asked.id, type: 'response', flags: 3, questions: asked.questions });
    expect((packet.decode(d.finish(nx)) as { rcode?: string }).rcode).toBe('NXDOMAIN');
  });

  it('answers SRV for named ports: the service as target, or each endpoint for a headless one', () => {
    const r = ask(records, '_http._tcp.web.default.svc.cluster.local', 'SRV');
    expect(data(r.answers)).toEqual([{ priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' }]);
    expect(r.additionals?.filter((a) => a.type === 'A').map((a) => (a as { data: string }).data)).toEqual(['10.96.0.20']);
    const h = ask(records, '_pg._tcp.db.prod.svc.cluster.local', 'SRV');
    expect(data(h.answers)).toEqual([
      { priority: 0, weight: 100, port: 5433, target: 'db-0.db.prod.svc.cluster.local' },
      { priority: 0, weight: 100, port: 5433, target: '10-244-1-6.db.prod.svc.cluster.local' },
    ]);
    expect(h.additionals?.map((a) => [a.name, (a as { data: string }).data])).toEqual([
      ['db-0.db.prod.svc.cluster.local', '10.244.1.5'], ['10-244-1-6.db.prod.svc.cluster.local', '10.244.1.6'],
    ]);
    expect(ask(records, '_http._udp.web.default.svc.cluster.local', 'SRV').rcode).toBe('NXDOMAIN');
    expect(ask(records, '_http._tcp.web.default.svc.cluster.local', 'A').answers).toEqual([]);
  });

  it('answers pod names with the address they spell', () => {
    expect(data(ask(records, '10-244-3-4.default.pod.cluster.local', 'A').answers)).toEqual(['10.244.3.4']);
    expect(ask(records, '10-244-3-400.default.pod.cluster.local', 'A').rcode).toBe('NXDOMAIN');
    expect(ask(records, '10-244-3-4.default.pod.cluster.local', 'AAAA').answers).toEqual([]);
  });

  it('answers PTR for cluster IPs and headless endpoints; other addresses are not the cluster\'s', () => {
    expect(data(ask(records, '20.0.96.10.in-addr.arpa', 'PTR').answers)).toEqual(['web.default.svc.cluster.local']);
    expect(data(ask(records, '5.1.244.10.in-addr.arpa', 'PTR').answers)).toEqual(['db-0.db.prod.svc.cluster.local']);
    expect(ask(records, '9.9.9.9.in-addr.arpa', 'PTR').rcode).toBe('REFUSED');
  });

  it('refuses names outside the domain without an upstream, and forwards them with one', () => {
    expect(ask(records, 'example.org', 'A').rcode).toBe('REFUSED');
    const q = packet.encode({ id: 7, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ name: 'example.org', type: 'A' }] });
    const d = handleMessage(q, records, { forwarding: true, transport: 'udp' });
    expect(d).toEqual(expect.objectContaining({ kind: 'forward', qtype: 'A', id: 7, rd: true }));
    if (d.kind !== 'forward') throw new Error('not forwarded');
    const servfail = packet.decode(d.servfail) as DecodedPacket & { rcode: string };
    expect([servfail.id, servfail.rcode, servfail.questions?.[0]?.name, servfail.flag_ra]).toEqual([7, 'SERVFAIL', 'example.org', true]);
  });

  it('sees changes of the source at once, PTR included', () => {
    const source = world();
    const r = new ClusterRecords(source, { domain: 'cluster.local', ttl: 5 });
    expect(data(ask(r, '20.0.96.10.in-addr.arpa', 'PTR').answers)).toEqual(['web.default.svc.cluster.local']);
    source.deleteService('default', 'web');
    expect(ask(r, 'web.default.svc.cluster.local', 'A').rcode).toBe('NXDOMAIN');
    expect(ask(r, '20.0.96.10.in-addr.arpa', 'PTR').rcode).toBe('NXDOMAIN');
    r.close();
  });

  it('answers from a new source once given one', () => {
    const first = new FakeServiceNetwork();
    const r = new ClusterRecords(first, { domain: 'cluster.local', ttl: 5 });
    expect(ask(r, 'web.default.svc.cluster.local', 'A').rcode).toBe('NXDOMAIN');
    const serial = (r.soa().data.serial ?? 0);
    const second = world();
    r.setSource(second);
    expect(data(ask(r, 'web.default.svc.cluster.local', 'A').answers)).toEqual(['10.96.0.20']);
    expect(r.soa().data.serial).toBeGreaterThan(serial);
    second.deleteService('default', 'web');
    expect(ask(r, 'web.default.svc.cluster.local', 'A').rcode).toBe('NXDOMAIN');
    r.close();
  });

  it('answers NXDOMAIN for unknown addresses of the cluster\'s ranges, never forwarding them', () => {
    const r = new ClusterRecords(world(), { domain: 'cluster.local', ttl: 5 });
    for (const name of ['99.0.96.10.in-addr.arpa', '255.255.111.10.in-addr.arpa', '9.9.244.10.in-addr.arpa']) {
      const q = packet.encode({ id: 3, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ name, type: 'PTR' }] });
      const d = handleMessage(q, r, { forwarding: true, transport: 'udp' });
      expect([name, d.kind, d.kind === 'reply' && d.rcode]).toEqual([name, 'reply', 'NXDOMAIN']);
    }
    // Just outside the ranges: not the cluster's, so forwarded.
    const outside = packet.encode({ id: 4, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ name: '1.0.112.10.in-addr.arpa', type: 'PTR' }] });
    expect(handleMessage(outside, r, { forwarding: true, transport: 'udp' }).kind).toBe('forward');
    const custom = new ClusterRecords(world(), { domain: 'cluster.local', ttl: 5, reverseCIDRs: ['192.168.0.0/16'] });
    expect(ask(custom, '1.1.168.192.in-addr.arpa', 'PTR').rcode).toBe('NXDOMAIN');
    expect(ask(custom, '99.0.96.10.in-addr.arpa', 'PTR').rcode).toBe('REFUSED');
    r.close();
    custom.close();
  });

  it('answers SERVFAIL for service names until the node\'s view has listed the store', () => {
    const r = new ClusterRecords(EMPTY_SERVICE_NETWORK, { domain: 'cluster.local', ttl: 5 });
    const fail = ask(r, 'web.default.svc.cluster.local', 'A');
    expect([fail.rcode, fail.authorities]).toEqual(['SERVFAIL', []]);
    expect(ask(r, '_http._tcp.web.default.svc.cluster.local', 'SRV').rcode).toBe('SERVFAIL');
    expect(ask(r, '20.0.96.10.in-addr.arpa', 'PTR').rcode).toBe('SERVFAIL');
    expect(data(ask(r, '10-244-3-4.default.pod.cluster.local', 'A').answers)).toEqual(['10.244.3.4']);
    expect(ask(r, 'nope.cluster.local', 'A').rcode).toBe('NXDOMAIN');
    r.setSource(world());
    expect(data(ask(r, 'web.default.svc.cluster.local', 'A').answers)).toEqual(['10.96.0.20']);
    expect(ask(r, 'gone.default.svc.cluster.local', 'A').rcode).toBe('NXDOMAIN');
    r.close();
  });

  it('serves another configured domain and TTL', () => {
    const r = new ClusterRecords(world(), { domain: 'Corp.Example.', ttl: 30 });
    expect(ask(r, 'web.default.svc.corp.example', 'A').answers?.[0]).toEqual(expect.objectContaining({ ttl: 30, data: '10.96.0.20' }));
    expect(ask(r, 'web.default.svc.cluster.local', 'A').rcode).toBe('REFUSED');
    r.close();
  });
});

describe('cluster DNS messages', () => {
  const source = world();
  const many = Array.from({ length: 60 }, (_, i) => ({ addresses: [`10.244.9.${i + 1}`] }));
  source.setService(svc('big', 'default', { clusterIP: 'None' })).setSlice(slice('big', 'default', many));
  // dns-packet does not compress names: 20 records of this name make about 900 bytes.
  source.setService(svc('mid', 'default', { clusterIP: 'None' })).setSlice(slice('mid', 'default', many.slice(0, 20)));
  const records = new ClusterRecords(source, { domain: 'cluster.local', ttl: 5 });
  afterAll(() => records.close());

  it('truncates an answer over 512 bytes on UDP (TC set, fewer records) and not on TCP', () => {
    const udp = ask(records, 'big.default.svc.cluster.local', 'A');
    expect(udp.flag_tc).toBe(true);
    expect(udp.answers!.length).toBeGreaterThan(0);
    expect(udp.answers!.length).toBeLessThan(60);
    expect(packet.encode(udp).length).toBeLessThanOrEqual(512);
    const tcp = ask(records, 'big.default.svc.cluster.local', 'A', { transport: 'tcp' });
    expect(tcp.flag_tc).toBe(false);
    expect(tcp.answers).toHaveLength(60);
  });

  it('honours a larger EDNS buffer (up to 1232 bytes) and answers with an OPT record', () => {
    expect(ask(records, 'mid.default.svc.cluster.local', 'A').flag_tc).toBe(true);
    const r = ask(records, 'mid.default.svc.cluster.local', 'A', { edns: 4096 });
    expect(r.flag_tc).toBe(false);
    expect(r.answers).toHaveLength(20);
    const big = ask(records, 'big.default.svc.cluster.local', 'A', { edns: 4096 });
    expect(big.flag_tc).toBe(true);
    expect(packet.encode(big).length).toBeLessThanOrEqual(1232);
    expect(r.additionals?.some((a) => a.type === 'OPT')).toBe(true);
  });

  const decide = (bytes: Buffer): Decision => handleMessage(bytes, records, { forwarding: false, transport: 'udp' });

  it('answers FORMERR to garbage with a header and drops what has none', () => {
    const garbage = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xde, 0xad]);
    const d = decide(garbage);
    expect(d).toEqual(expect.objectContaining({ kind: 'reply', rcode: 'FORMERR' }));
    if (d.kind !== 'reply') throw new Error('no reply');
    const r = packet.decode(d.reply) as DecodedPacket & { rcode: string };
    expect([r.id, r.rcode, r.type]).toEqual([0x1234, 'FORMERR', 'response']);
    expect(decide(Buffer.from([1, 2, 3]))).toEqual(expect.objectContaining({ kind: 'drop' }));
    expect(decide(Buffer.alloc(0))).toEqual(expect.objectContaining({ kind: 'drop' }));
  });

  it('survives random bytes: every packet is answered or dropped, never thrown', () => {
    let seed = 42;
    const rand = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed; };
    const valid = packet.encode({ id: 1, type: 'query', questions: [{ name: 'web.default.svc.cluster.local', type: 'A' }] });
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(valid);
      for (let k = 0; k < 1 + (rand() % 6); k++) b[rand() % b.length] = rand() % 256;
      const cut = b.subarray(0, rand() % (b.length + 1));
      expect(['reply', 'drop', 'forward']).toContain(decide(cut).kind);
    }
  });

  it('answers FORMERR to no question or several, NOTIMP to another opcode, and drops responses', () => {
    const none = packet.encode({ id: 3, type: 'query', questions: [] });
    expect(decide(none)).toEqual(expect.objectContaining({ rcode: 'FORMERR' }));
    const two = packet.encode({ id: 4, type: 'query', questions: [{ name: 'a.cluster.local', type: 'A' }, { name: 'b.cluster.local', type: 'A' }] });
    expect(decide(two)).toEqual(expect.objectContaining({ rcode: 'FORMERR' }));
    const update = packet.encode({ id: 5, type: 'query', questions: [{ name: 'cluster.local', type: 'SOA' }] });
    update[2] |= 5 << 3;
    expect(decide(update)).toEqual(expect.objectContaining({ rcode: 'NOTIMP' }));
    const resp = packet.encode({ id: 6, type: 'response', questions: [{ name: 'cluster.local', type: 'SOA' }] });
    expect(decide(resp)).toEqual(expect.objectContaining({ kind: 'drop' }));
  });
});
