import { info, makeNode, makeNodeInfo, makePod } from './fixtures';
import { nodePortsFilter, portsConflict } from './node-ports';

const withPorts = (name: string, ports: { hostPort: number; protocol?: 'TCP' | 'UDP'; hostIP?: string }[]) => {
  const p = makePod(name);
  p.spec.containers[0].ports = ports.map((x) => ({ containerPort: 80, ...x }));
  return p;
};

describe('host ports', () => {
  it('conflict on the same port and protocol when the addresses overlap', () => {
    expect(portsConflict({ ip: '0.0.0.0', protocol: 'TCP', port: 80 }, { ip: '10.0.0.1', protocol: 'TCP', port: 80 })).toBe(true);
    expect(portsConflict({ ip: '10.0.0.1', protocol: 'TCP', port: 80 }, { ip: '10.0.0.1', protocol: 'TCP', port: 80 })).toBe(true);
    expect(portsConflict({ ip: '10.0.0.1', protocol: 'TCP', port: 80 }, { ip: '10.0.0.2', protocol: 'TCP', port: 80 })).toBe(false);
    expect(portsConflict({ ip: '0.0.0.0', protocol: 'TCP', port: 80 }, { ip: '0.0.0.0', protocol: 'UDP', port: 80 })).toBe(false);
    expect(portsConflict({ ip: '0.0.0.0', protocol: 'TCP', port: 80 }, { ip: '0.0.0.0', protocol: 'TCP', port: 81 })).toBe(false);
  });

  it('keep a second pod asking for a taken port off the node', () => {
    const n = makeNodeInfo(makeNode('n'), [withPorts('x', [{ hostPort: 8080 }])]);
    expect(nodePortsFilter(info(withPorts('a', [{ hostPort: 8080 }])), n)).toEqual(["node(s) didn't have free ports for the requested pod ports"]);
    expect(nodePortsFilter(info(withPorts('a', [{ hostPort: 8080, protocol: 'UDP' }])), n)).toEqual([]);
    expect(nodePortsFilter(info(withPorts('a', [{ hostPort: 8081 }])), n)).toEqual([]);
    expect(nodePortsFilter(info(makePod('a')), n)).toEqual([]);
  });
});
