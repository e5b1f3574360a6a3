import { makePod } from './fixtures';
import { buildSandboxConfig } from './cri-spec';
import { clusterDnsConfig, parseResolvConf, podDnsConfig } from './dns';

const node = parseResolvConf([
  '# written by the installer',
  'nameserver 192.0.2.1',
  'nameserver 192.0.2.2 ; trailing comment',
  'domain old.example',
  'search corp.example lab.example',
  'options ndots:1 timeout:2',
  'sortlist 130.155.160.0/255.255.240.0',
].join('\n'));

describe('pod DNS config', () => {
  it('parses resolv.conf: nameservers, the last search line, options', () => {
    expect(node).toEqual({ servers: ['192.0.2.1', '192.0.2.2'], searches: ['corp.example', 'lab.example'], options: ['ndots:1', 'timeout:2'] });
  });

  it('leaves the runtime default (the node file) for Default and ClusterFirst without cluster DNS and nothing added', () => {
    expect(podDnsConfig(makePod({ dnsPolicy: 'Default' }), { node })).toBeUndefined();
    expect(podDnsConfig(makePod(), { node })).toBeUndefined();
    expect(podDnsConfig(makePod({ dnsPolicy: 'ClusterFirstWithHostNet' }), { node })).toBeUndefined();
  });

  it('adds dnsConfig after the node file for Default and ClusterFirst; options of the same name are replaced', () => {
    const extra = { nameservers: ['10.9.9.9', '192.0.2.1'], searches: ['mine.example'], options: [{ name: 'ndots', value: '5' }, { name: 'rotate' }] };
    const want = {
      servers: ['192.0.2.1', '192.0.2.2', '10.9.9.9'],
      searches: ['corp.example', 'lab.example', 'mine.example'],
      options: ['ndots:5', 'timeout:2', 'rotate'],
    };
    expect(podDnsConfig(makePod({ dnsPolicy: 'Default', dnsConfig: extra }), { node })).toEqual(want);
    expect(podDnsConfig(makePod({ dnsConfig: extra }), { node })).toEqual(want);
  });

  it('keeps at most 3 nameservers in all, as the resolver reads no more', () => {
    const got = podDnsConfig(makePod({ dnsConfig: { nameservers: ['10.0.0.1', '10.0.0.2'] } }), { node });
    expect(got?.servers).toEqual(['192.0.2.1', '192.0.2.2', '10.0.0.1']);
  });

  it('uses dnsConfig alone for None, whatever the node has', () => {
    const pod = makePod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['10.0.0.53'], searches: ['a.example'], options: [{ name: 'ndots', value: '3' }] } });
    expect(podDnsConfig(pod, { node, cluster: { servers: ['10.96.0.10'] } })).toEqual({ servers: ['10.0.0.53'], searches: ['a.example'], options: ['ndots:3'] });
  });

  it('starts ClusterFirst from the cluster DNS when the node has one; Default never does', () => {
    const cluster = { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local'], options: ['ndots:5'] };
    expect(podDnsConfig(makePod(), { node, cluster })).toEqual(cluster);
    expect(podDnsConfig(makePod({ dnsPolicy: 'Default' }), { node, cluster })).toBeUndefined();
  });

  it('gives ClusterFirst the node\'s cluster DNS: its server, the pod namespace\'s searches first, then the node\'s, and ndots:5', () => {
    const cluster = clusterDnsConfig('10.244.1.1', 'cluster.local');
    expect(podDnsConfig(makePod({}, { namespace: 'prod' }), { node, cluster })).toEqual({
      servers: ['10.244.1.1'],
      searches: ['prod.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lab.example'],
      options: ['ndots:5'],
    });
    expect(podDnsConfig(makePod(), { cluster })?.searches).toEqual(['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local']);
    expect(podDnsConfig(makePod({ dnsPolicy: 'ClusterFirstWithHostNet' }, { namespace: 'a' }), { cluster: clusterDnsConfig('10.244.2.1', 'corp.example.') }))
      .toEqual({ servers: ['10.244.2.1'], searches: ['a.svc.corp.example', 'svc.corp.example', 'corp.example'], options: ['ndots:5'] });
  });

  it('adds a pod\'s dnsConfig after the cluster DNS; Default and None ignore the cluster DNS', () => {
    const cluster = clusterDnsConfig('10.244.1.1', 'cluster.local');
    const extra = { nameservers: ['10.0.0.53'], searches: ['mine.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] };
    expect(podDnsConfig(makePod({ dnsConfig: extra }, { namespace: 'ns1' }), { cluster })).toEqual({
      servers: ['10.244.1.1', '10.0.0.53'],
      searches: ['ns1.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'mine.example'],
      options: ['ndots:2', 'edns0'],
    });
    expect(podDnsConfig(makePod({ dnsPolicy: 'Default' }), { node, cluster })).toBeUndefined();
    expect(podDnsConfig(makePod({ dnsPolicy: 'Default', dnsConfig: extra }), { node, cluster })?.servers).toEqual(['192.0.2.1', '192.0.2.2', '10.0.0.53']);
    expect(podDnsConfig(makePod({ dnsPolicy: 'None', dnsConfig: extra }), { node, cluster })?.servers).toEqual(['10.0.0.53']);
  });

  it('never passes the domain on to the runtime', () => {
    const got = buildSandboxConfig(makePod(), { podLogsRoot: '/l', dnsConfig: clusterDnsConfig('10.244.1.1', 'cluster.local') }, 0).dnsConfig;
    expect(got).toEqual({ servers: ['10.244.1.1'], searches: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: ['ndots:5'] });
  });

  it('reaches RunPodSandbox through the sandbox config', () => {
    const pod = makePod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['10.0.0.53'] } });
    expect(buildSandboxConfig(pod, { podLogsRoot: '/l', nodeResolvConf: node }, 0).dnsConfig).toEqual({ servers: ['10.0.0.53'], searches: [], options: [] });
    expect(buildSandboxConfig(makePod(), { podLogsRoot: '/l', nodeResolvConf: node }, 0)).not.toHaveProperty('dnsConfig');
  });
});
