/**
 * Reverse (PTR) names of the cluster's own ranges as the node's DNS serves them: the service CIDR
 * and cluster CIDR the node is told (or the control plane's environment, or the defaults) are the
 * zones answered here; an address there that names nothing is NXDOMAIN, and an address outside
 * them is not the cluster's (refused with no upstream). Served on 127.0.0.1, a free port.
 */
import * as dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import * as packet from 'dns-packet';
import pino from 'pino';
import { clusterReverseCIDRs, startNodeDns } from '../../../node-agent/dns';
import { FakeServiceNetwork } from '../../../node-agent/dns/service-network-fixture';
import { until } from '../../helpers/wait';

const log = pino({ level: 'silent' });

/** The rcode of a PTR question for `ip` over UDP (node's resolver reports every failure of a reverse lookup as ENOTFOUND). */
function ptrRcode(port: number, ip: string): Promise<string | undefined> {
  const name = `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const t = setTimeout(() => { sock.close(); reject(new Error(`no answer for ${name}`)); }, 5_000);
    sock.on('message', (m) => {
      clearTimeout(t);
      sock.close();
      resolve((packet.decode(m) as packet.DecodedPacket & { rcode?: string }).rcode);
    });
    sock.send(packet.encode({ id: 7, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ name, type: 'PTR' }] }), port, '127.0.0.1');
  });
}

describe('cluster DNS reverse zones', () => {
  it('takes the node\'s ranges as told, else from the environment, else the defaults', () => {
    expect(clusterReverseCIDRs({}, {})).toEqual(['10.96.0.0/12', '10.244.0.0/16']);
    expect(clusterReverseCIDRs({}, { MK_SERVICE_CLUSTER_IP_RANGE: '10.0.0.0/16', MK_CLUSTER_CIDR: '10.1.0.0/16' }))
      .toEqual(['10.0.0.0/16', '10.1.0.0/16']);
    expect(clusterReverseCIDRs({ serviceCIDR: '172.20.0.0/16', clusterCIDR: '10.50.0.0/16' }, { MK_CLUSTER_CIDR: '10.1.0.0/16' }))
      .toEqual(['172.20.0.0/16', '10.50.0.0/16']);
  });

  it('answers PTR for cluster IPs and pods behind services in the ranges it is given, NXDOMAIN for the rest of them', async () => {
    const source = new FakeServiceNetwork()
      .setService({ metadata: { name: 'web', namespace: 'shop' }, spec: { clusterIP: '172.20.3.4' } })
      .setService({ metadata: { name: 'db', namespace: 'shop' }, spec: { clusterIP: 'None' } })
      .setSlice({
        metadata: { name: 'db-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'db' } }, addressType: 'IPv4',
        endpoints: [{ addresses: ['10.50.1.7'], hostname: 'db-0' }],
      })
      // A pod behind a service with a cluster IP: its address names it under that service.
      .setService({ metadata: { name: 'api', namespace: 'shop' }, spec: { clusterIP: '172.20.3.9' } })
      .setSlice({
        metadata: { name: 'api-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'api' } }, addressType: 'IPv4',
        endpoints: [{ addresses: ['10.50.2.8'], conditions: { ready: true } }, { addresses: ['10.50.1.7'] }],
      });
    const reverseCIDRs = clusterReverseCIDRs({ serviceCIDR: '172.20.0.0/16', clusterCIDR: '10.50.0.0/16' }, {});
    const dns = startNodeDns({ source, port: 0, upstreams: [], reverseCIDRs, log });
    try {
      dns.setPodCIDR('127.0.0.0/24');
      const srv = await until('the node DNS to listen', () => dns.server());
      const resolver = new Resolver({ timeout: 2_000, tries: 1 });
      resolver.setServers([`127.0.0.1:${srv.port}`]);
      expect(await resolver.reverse('172.20.3.4')).toEqual(['web.shop.svc.cluster.local']);
      // Under a headless service first, whatever the order of services.
      expect(await resolver.reverse('10.50.1.7')).toEqual(['db-0.db.shop.svc.cluster.local']);
      expect(await resolver.reverse('10.50.2.8')).toEqual(['10-50-2-8.api.shop.svc.cluster.local']);
      // The name a PTR gives resolves back to the address.
      expect(await resolver.resolve4('10-50-2-8.api.shop.svc.cluster.local')).toEqual(['10.50.2.8']);
      // The cluster's addresses that name nothing: NXDOMAIN, decided here.
      expect(await ptrRcode(srv.port, '172.20.9.9')).toBe('NXDOMAIN');
      expect(await ptrRcode(srv.port, '10.50.200.1')).toBe('NXDOMAIN');
      // Not one of this cluster's ranges (the default ones are not: it was given others): a
      // question for an upstream, and there is none.
      expect(await ptrRcode(srv.port, '10.96.0.30')).toBe('REFUSED');
      expect(await ptrRcode(srv.port, '10.244.0.9')).toBe('REFUSED');
      // A service made later is found by its address too.
      source.setService({ metadata: { name: 'late', namespace: 'shop' }, spec: { clusterIP: '172.20.3.5' } });
      expect(await resolver.reverse('172.20.3.5')).toEqual(['late.shop.svc.cluster.local']);
    } finally {
      await dns.stop();
    }
  });
});
