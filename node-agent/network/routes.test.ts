import { desiredRoutes, masqueradeExceptions, MASQ_CHAIN, planRoutes } from './routes';

const r = (name: string, podCIDR: string, internalIP: string) => ({ name, podCIDR, internalIP });

describe('desiredRoutes', () => {
  const entries = [r('n3', '10.244.2.0/24', '172.30.0.13'), r('n1', '10.244.0.0/24', '172.30.0.11'), r('n2', '10.244.1.0/24', '172.30.0.12')];

  it('routes every other node\'s pod CIDR via its address, in order', () => {
    expect(desiredRoutes(entries, { name: 'n1', podCIDR: '10.244.0.0/24', addresses: ['127.0.0.1', '172.30.0.11'] })).toEqual([
      { dst: '10.244.1.0/24', via: '172.30.0.12' },
      { dst: '10.244.2.0/24', via: '172.30.0.13' },
    ]);
  });

  it('skips nodes at one of its own addresses (agents sharing a namespace) and its own CIDR under another name', () => {
    expect(desiredRoutes(entries, { name: 'other', podCIDR: '10.244.2.0/24', addresses: ['172.30.0.12'] })).toEqual([
      { dst: '10.244.0.0/24', via: '172.30.0.11' },
    ]);
  });

  it('routes every node from a machine that is no node (the host of the nodes)', () => {
    expect(desiredRoutes(entries, { addresses: ['172.30.0.1'] }).map((x) => x.dst)).toEqual(['10.244.0.0/24', '10.244.1.0/24', '10.244.2.0/24']);
  });

  it('ignores entries that are not IPv4', () => {
    expect(desiredRoutes([r('a', 'nope', '172.30.0.2'), r('b', '10.244.9.0/24', 'fe80::1'), r('c', '10.244.8.0/24', '172.30.0.3')], { addresses: [] }))
      .toEqual([{ dst: '10.244.8.0/24', via: '172.30.0.3' }]);
  });
});

describe('planRoutes', () => {
  it('replaces what is missing or points elsewhere and removes what no node asks for', () => {
    const plan = planRoutes(
      [{ dst: '10.244.1.0/24', via: '172.30.0.12' }, { dst: '10.244.2.0/24', via: '172.30.0.99' }, { dst: '10.244.7.0/24', via: '172.30.0.17' }],
      [{ dst: '10.244.1.0/24', via: '172.30.0.12' }, { dst: '10.244.2.0/24', via: '172.30.0.13' }, { dst: '10.244.3.0/24', via: '172.30.0.14' }],
    );
    expect(plan).toEqual({
      replace: [{ dst: '10.244.2.0/24', via: '172.30.0.13' }, { dst: '10.244.3.0/24', via: '172.30.0.14' }],
      remove: ['10.244.7.0/24'],
    });
  });

  it('changes nothing when the routes are as wanted', () => {
    const routes = [{ dst: '10.244.1.0/24', via: '172.30.0.12' }];
    expect(planRoutes(routes, routes)).toEqual({ replace: [], remove: [] });
  });
});

describe('masqueradeExceptions', () => {
  it('replaces the chain with one ACCEPT per other node\'s pod CIDR, from this node\'s pods only', () => {
    const text = masqueradeExceptions('10.244.0.0/24', [{ dst: '10.244.1.0/24', via: '172.30.0.12' }, { dst: '10.244.2.0/24', via: '172.30.0.13' }]);
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('*nat');
    expect(lines[1]).toBe(`:${MASQ_CHAIN} - [0:0]`);
    expect(lines.filter((l) => l.startsWith('-A')).map((l) => l.replace(/ -m comment --comment "[^"]*"/, ''))).toEqual([
      `-A ${MASQ_CHAIN} -s 10.244.0.0/24 -d 10.244.1.0/24 -j ACCEPT`,
      `-A ${MASQ_CHAIN} -s 10.244.0.0/24 -d 10.244.2.0/24 -j ACCEPT`,
    ]);
    expect(lines.at(-1)).toBe('COMMIT');
  });

  it('empties the chain when there is no other node', () => {
    expect(masqueradeExceptions('10.244.0.0/24', []).trim().split('\n')).toEqual(['*nat', `:${MASQ_CHAIN} - [0:0]`, 'COMMIT']);
  });
});
