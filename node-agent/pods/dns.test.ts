import { makePod } from './fixtures';
import { buildSandboxConfig } from './cri-spec';
import { parseResolvConf, podDnsConfig } from './dns';

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

  it('reaches RunPodSandbox through the sandbox config', () => {
    const pod = makePod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['10.0.0.53'] } });
    expect(buildSandboxConfig(pod, { podLogsRoot: '/l', nodeResolvConf: node }, 0).dnsConfig).toEqual({ servers: ['10.0.0.53'], searches: [], options: [] });
    expect(buildSandboxConfig(makePod(), { podLogsRoot: '/l', nodeResolvConf: node }, 0)).not.toHaveProperty('dnsConfig');
  });
});
